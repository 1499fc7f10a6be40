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

-- Telegram users who asked for race notifications (`/notify on`).
CREATE TABLE telegram_notify (
    telegram_id bigint PRIMARY KEY,
    since       timestamptz NOT NULL
);

-- What the race notifier saw last, per race: `leader` (the uid in first place) and
-- `paid:<telegram id>` (whether that user's player is in the paid places). A change bumps `seq`
-- in one atomic UPDATE, so one daemon sees each change and queues its notifications once.
-- `as_of` is when the data seen was taken: a daemon whose data is older (it has not caught up
-- with the last sync yet) changes nothing, so it cannot report a change back.
CREATE TABLE telegram_race_watch (
    race_id text NOT NULL,
    key     text NOT NULL,
    value   text NOT NULL,
    seq     integer NOT NULL DEFAULT 0,
    as_of   timestamptz NOT NULL,
    PRIMARY KEY (race_id, key)
);
