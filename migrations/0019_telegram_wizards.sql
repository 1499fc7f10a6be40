-- The bot's guided commands (wizards, e.g. `/createbonus` alone): the answers so far of the one
-- open per Telegram user, kept here so that any daemon takes the next answer and a restart loses
-- nothing. A step not answered by `expires_at` has timed out; the retention task deletes the
-- rows a day after that.
CREATE TABLE telegram_wizards (
    telegram_id bigint PRIMARY KEY,
    -- The command the answers build (`createbonus`), as a one-line form joined with ` | `.
    command     text NOT NULL,
    answers     text[] NOT NULL DEFAULT '{}',
    expires_at  timestamptz NOT NULL,
    started_at  timestamptz NOT NULL
);
CREATE INDEX telegram_wizards_expires ON telegram_wizards (expires_at);
