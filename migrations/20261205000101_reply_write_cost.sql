-- What every reply's one guarded statement (src/store/conversation/reply.rs) pays beyond
-- its rows, cut where nothing depends on it (BENCHMARKS.md, webhook).

-- The reply leaves the dispatchers' wake-up until after its commit
-- (`postcall.notify_after_commit`, …0009): its next question's insert then called the
-- PL/pgSQL function only for it to do nothing. The same test in the trigger's WHEN skips
-- the call; the function keeps its own test for any other trigger that calls it.
DROP TRIGGER messages_notify ON messages;
CREATE TRIGGER messages_notify AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.status = 'pending'
                       AND current_setting('postcall.notify_after_commit', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION postcall_notify_dispatch();

-- Written with every inbound SMS and read by no statement: replies are found through
-- their survey (`inbound_messages.survey_id`), retention walks the primary key.
DROP INDEX inbound_messages_phone_idx;
