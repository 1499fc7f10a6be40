-- What the bot posts to the groups on its own: channel posts it re-posts, and scheduled posts.

-- Each channel post re-posted to the groups, so that a post goes out once whatever the number
-- of daemons (and even should Telegram deliver it again under another update_id).
CREATE TABLE telegram_forwards (
    channel_id   bigint NOT NULL,
    message_id   bigint NOT NULL,
    -- The update that carried it.
    update_id    bigint NOT NULL,
    forwarded_at timestamptz NOT NULL,
    PRIMARY KEY (channel_id, message_id)
);

-- Posts to every allowed group on a schedule (`/schedule`, the admin page). A daemon claims a
-- due time with one atomic UPDATE of next_due (from the value it read), so each due time is
-- posted once; after a downtime next_due jumps to the first time after now (one catch-up post).
CREATE TABLE telegram_schedules (
    id             bigserial PRIMARY KEY,
    -- `every 6h` (units m, h, d) or `daily 18:00` (in race.timezone), as written by the admin.
    spec           text NOT NULL,
    text           text NOT NULL,
    next_due       timestamptz NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL,
    last_posted_at timestamptz
);
CREATE INDEX telegram_schedules_due ON telegram_schedules (next_due);
