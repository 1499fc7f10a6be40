-- Telegram: updates stored before they are acknowledged (deduplicated by update_id, handled in
-- order per chat), the outbound message queue, and the notifications already queued.

CREATE TABLE telegram_updates (
    update_id    bigint PRIMARY KEY,
    -- The chat the update belongs to (updates of one chat are handled in update_id order);
    -- null for kinds without one.
    chat_id      bigint,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL,
    processed_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    error        text
);
CREATE INDEX telegram_updates_pending ON telegram_updates (chat_id, update_id)
    WHERE processed_at IS NULL;

CREATE TABLE telegram_outbox (
    id          bigserial PRIMARY KEY,
    chat_id     bigint NOT NULL,
    -- The Bot API method (sendMessage, answerCallbackQuery) and its JSON parameters.
    method      text NOT NULL,
    payload     jsonb NOT NULL,
    -- Queued at most once: the reply to an update, a notification of an event.
    dedupe_key  text UNIQUE,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    not_before  timestamptz NOT NULL,
    last_error  text,
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz
);
CREATE INDEX telegram_outbox_pending ON telegram_outbox (id) WHERE status = 'pending';
CREATE INDEX telegram_outbox_chat_sent ON telegram_outbox (chat_id, sent_at) WHERE status = 'sent';
