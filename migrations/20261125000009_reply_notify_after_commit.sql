-- A NOTIFY serialises commits: the notifying transaction holds a cluster-wide lock from
-- just before its commit until it ends, across its WAL flush, so every transaction that
-- notifies waits for the flushes of all the others. Measured on the inbound path: 336
-- replies/s with the trigger's notify inside each reply's commit, 1,138/s without.
--
-- A writer that wakes the dispatchers itself, right after its commit, in a transaction
-- of its own that writes nothing (so holds the lock only for an instant and flushes no
-- WAL), sets `postcall.notify_after_commit` for its transaction; the trigger then leaves
-- the wake-up to it. Everyone else is woken as before. A wake-up lost to a crash between
-- the two is covered by the dispatcher's poll, as any lost notification is.
CREATE OR REPLACE FUNCTION postcall_notify_dispatch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('postcall.notify_after_commit', true) IS DISTINCT FROM 'on' THEN
        PERFORM pg_notify('postcall_dispatch', '');
    END IF;
    RETURN NULL;
END $$;
