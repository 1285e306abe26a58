-- Wake the dispatchers for a survey only when it is due (or all but): one scheduled minutes
-- ahead is found by their poll (dispatch.poll_interval_ms) when its time comes, so the wake-up
-- was for nothing. It was not free: a row trigger is a PL/pgSQL call per survey, and a NOTIFY
-- holds a cluster-wide lock across its transaction's commit and WAL flush, so two ingest
-- batches committing at once waited for each other (BENCHMARKS.md, ingest). The condition is
-- checked without calling the function. now() is the inserting transaction's start.
DROP TRIGGER surveys_notify ON surveys;
CREATE TRIGGER surveys_notify AFTER INSERT ON surveys
    FOR EACH ROW WHEN (NEW.send_at <= now() + interval '1 second')
    EXECUTE FUNCTION postcall_notify_dispatch();
