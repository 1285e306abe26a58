-- A dispatcher stores a due survey's first question already claimed by itself, and sends
-- it at once: nobody needs waking for it. Only messages queued for any dispatcher to claim
-- notify (the trigger, a row trigger per insert, also costs each such insert a PL/pgSQL call).
DROP TRIGGER messages_notify ON messages;
CREATE TRIGGER messages_notify AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION postcall_notify_dispatch();
