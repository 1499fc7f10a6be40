-- Telegram: the per-user command limit and per-group cooldown windows, shared by every daemon.

CREATE TABLE telegram_limits (
    -- `u:<telegram user id>` or `g:<group chat id>`.
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    -- Commands counted in the window.
    hits         integer NOT NULL,
    -- The polite "slow down" was sent in this window (once).
    warned       boolean NOT NULL DEFAULT false
);

-- Chats whose user blocked the bot (a 403): broadcasts skip them until they write again.
CREATE TABLE telegram_blocked (
    chat_id    bigint PRIMARY KEY,
    blocked_at timestamptz NOT NULL
);
