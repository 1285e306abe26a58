-- The parts a provider says it billed (Tencent `Fee` on the send's answer, Aliyun
-- `sms_size` in a report, Twilio `num_segments`) replace postcall's own count in
-- `messages.segments`, possibly after the message was accepted. The scores' `sms_segments`
-- sum `messages.segments`, but `messages_score_changed` (…0005_scores) logged a survey only
-- when a status crossed the accepted or the delivered line: a count corrected by a report
-- whose status moved nowhere (or not across a line) left the cells stale until a rebuild.
DROP TRIGGER messages_score_changed ON messages;

CREATE TRIGGER messages_score_changed AFTER UPDATE OF status, segments ON messages
    FOR EACH ROW WHEN (NEW.survey_id IS NOT NULL AND (
        (OLD.status IN ('queued', 'sent', 'delivered', 'undelivered'))
            IS DISTINCT FROM (NEW.status IN ('queued', 'sent', 'delivered', 'undelivered'))
        OR (OLD.status = 'delivered') IS DISTINCT FROM (NEW.status = 'delivered')
        OR (NEW.status IN ('queued', 'sent', 'delivered', 'undelivered')
            AND OLD.segments IS DISTINCT FROM NEW.segments)))
    EXECUTE FUNCTION postcall_score_changed();

-- A report that comes before the send's own answer keeps its billed parts until the send
-- is recorded and folds them in.
ALTER TABLE early_delivery_reports ADD COLUMN billed_segments integer;
