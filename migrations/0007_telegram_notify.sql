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
