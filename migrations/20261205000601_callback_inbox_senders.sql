-- The customers whose replies a stored batch holds, so that a batch is acted on only after
-- every older batch with a reply from the same customer: Aliyun may push two replies from
-- one customer in two batches milliseconds apart, and acting on them out of order would
-- read the second answer as the answer to the first question. Empty for receipt batches,
-- which never wait. Rows live seconds (deleted when acted on), so the table stays small and
-- the overlap test needs no index.
ALTER TABLE callback_inbox ADD COLUMN senders text[] NOT NULL DEFAULT '{}';
