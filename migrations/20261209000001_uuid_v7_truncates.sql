-- A UUIDv7's time is the Unix time in milliseconds truncated (RFC 9562, 6.2): the first
-- version cast the float to bigint, which rounds, so an id made in the second half of a
-- millisecond said the next one, a time that had not come yet.
CREATE OR REPLACE FUNCTION postcall_uuid_v7() RETURNS uuid
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
