-- Races of any window (#21): a title, a description, listed or hidden, a recurrence and the
-- series its races belong to, cancellation, and the all-time figures each race's wager is
-- measured from when its window is not one of the upstream's buckets.

ALTER TABLE races DROP CONSTRAINT IF EXISTS races_id_check;
ALTER TABLE races ADD CONSTRAINT races_id_shape CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,63}$');

ALTER TABLE races
    ADD COLUMN title        text NOT NULL DEFAULT '',
    ADD COLUMN description  text NOT NULL DEFAULT '',
    ADD COLUMN public       boolean NOT NULL DEFAULT true,
    ADD COLUMN recurrence   text CHECK (recurrence IN ('monthly', 'weekly')),
    ADD COLUMN series       text,
    ADD COLUMN cancelled_at timestamptz,
    ADD COLUMN cancelled_by text,
    ADD COLUMN created_at   timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN created_by   text,
    -- The sync the race's all-time figures at its start come from (windows measured by delta).
    ADD COLUMN base_sync_id bigint,
    -- Set when a recurring race's successor is created, so it is created once.
    ADD COLUMN successor_id text,
    -- The newest sync the standings were written from (what a close reports as final).
    ADD COLUMN standings_sync_id bigint,
    ADD COLUMN standings_taken_at timestamptz;

UPDATE races r SET standings_sync_id = s.sync_id, standings_taken_at = s.taken_at
FROM (SELECT race_id, max(sync_id) AS sync_id, max(taken_at) AS taken_at
      FROM race_standings GROUP BY race_id) s
WHERE s.race_id = r.id;

-- Every race so far was the calendar month of `[race]`: the monthly series. The newest one
-- carries the recurrence, so the next month follows it as before.
-- Their title stays empty: a monthly race is shown by its month (`November 2026`).
UPDATE races SET series = 'monthly' WHERE id ~ '^[0-9]{6}$';
UPDATE races SET recurrence = 'monthly'
WHERE id = (SELECT max(id) FROM races WHERE id ~ '^[0-9]{6}$');

CREATE INDEX races_open ON races (ends_at) WHERE closed_at IS NULL AND cancelled_at IS NULL;

-- A player's all-time wager at the first good sync at or after a race's start.
CREATE TABLE race_bases (
    race_id  text NOT NULL REFERENCES races (id) ON DELETE CASCADE,
    uid      text NOT NULL,
    all_time numeric NOT NULL,
    PRIMARY KEY (race_id, uid)
);
