-- Ids of SMS made in SQL (a first question's, at its claim) are UUIDv7 (RFC 9562): the
-- Unix time in milliseconds in the first 48 bits, so consecutive ids sort together. Random
-- (v4) ids put each new row of `messages` on a random leaf page of its primary key: at
-- 31 M rows those pages are no longer cached, and each is written whole to the WAL on its
-- first change after a checkpoint (BENCHMARKS.md, history). PostgreSQL 18 has uuidv7();
-- this is the same layout for the versions before it: a v4 id with its first 48 bits
-- replaced by the time and its version nibble turned from 4 (0100) to 7 (0111). The time is
-- truncated to the millisecond (RFC 9562, 6.2): a cast of the float to bigint would round,
-- and an id made in the second half of a millisecond would carry one not yet come.
CREATE FUNCTION postcall_uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE
AS $$
  SELECT encode(
           set_bit(
             set_bit(
               overlay(uuid_send(gen_random_uuid())
                       PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                       FROM 1 FOR 6),
               52, 1),
             53, 1),
           'hex')::uuid
$$;
