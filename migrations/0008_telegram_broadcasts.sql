-- Telegram broadcasts: each `/broadcast TEXT`, so that the admin who sent it gets one report
-- (how many were sent, how many failed) once every message of it is sent or given up.

CREATE TABLE telegram_broadcasts (
    -- The update that carried the command (one broadcast per update).
    update_id   bigint PRIMARY KEY,
    -- Where the report goes: the chat the command came from.
    chat_id     bigint NOT NULL,
    recipients  integer NOT NULL,
    created_at  timestamptz NOT NULL,
    -- Set once, by the one atomic UPDATE that claims the report (whichever daemon runs it first);
    -- set at once for a broadcast to nobody, which has nothing to report later.
    reported_at timestamptz
);
CREATE INDEX telegram_broadcasts_unreported ON telegram_broadcasts (update_id)
    WHERE reported_at IS NULL;

-- The broadcast a queued message belongs to.
ALTER TABLE telegram_outbox ADD COLUMN broadcast_id bigint REFERENCES telegram_broadcasts (update_id);
-- Why the last attempt failed (`forbidden` for a 403: the user blocked the bot, …), null once sent.
ALTER TABLE telegram_outbox ADD COLUMN failure text;
CREATE INDEX telegram_outbox_broadcast ON telegram_outbox (broadcast_id, status)
    WHERE broadcast_id IS NOT NULL;
