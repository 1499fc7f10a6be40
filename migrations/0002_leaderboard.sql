-- Leaderboard data: the latest snapshot of every player, a record of each sync, the running
-- standings of each monthly race, and the frozen results of closed races.

CREATE TABLE syncs (
    id          bigserial PRIMARY KEY,
    taken_at    timestamptz NOT NULL,
    source      text NOT NULL,
    player_count integer NOT NULL,
    duration_ms integer NOT NULL
);
CREATE INDEX syncs_taken_at ON syncs (taken_at);

-- The latest figures of each player; players gone from the document keep their last row.
CREATE TABLE players (
    uid         text PRIMARY KEY,
    name        text NOT NULL,
    today       numeric NOT NULL,
    this_week   numeric NOT NULL,
    this_month  numeric NOT NULL,
    all_time    numeric NOT NULL,
    sync_id     bigint NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX players_sync ON players (sync_id);

CREATE TABLE races (
    id           text PRIMARY KEY CHECK (id ~ '^[0-9]{6}$'),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    timezone     text NOT NULL,
    -- Set once, when the race is closed.
    closed_at    timestamptz,
    closed_by    text,
    -- Closed after the daemon was down across the end (from the last pre-end data).
    closed_late  boolean,
    final_sync_id bigint,
    final_taken_at timestamptz,
    prize_pool   numeric,
    currency     text,
    total_wagered numeric,
    participant_count integer
);

-- Month-to-date standings, overwritten by every sync taken during the race; what the race is
-- closed from.
CREATE TABLE race_standings (
    race_id   text NOT NULL REFERENCES races (id) ON DELETE CASCADE,
    uid       text NOT NULL,
    name      text NOT NULL,
    today     numeric NOT NULL,
    this_week numeric NOT NULL,
    wagered   numeric NOT NULL,
    all_time  numeric NOT NULL,
    sync_id   bigint NOT NULL,
    taken_at  timestamptz NOT NULL,
    PRIMARY KEY (race_id, uid)
);

-- Final places of closed races; written once, in the same transaction that closes the race.
CREATE TABLE race_results (
    race_id  text NOT NULL REFERENCES races (id),
    rank     integer NOT NULL,
    uid      text NOT NULL,
    name     text NOT NULL,
    wagered  numeric NOT NULL,
    prize    numeric,
    PRIMARY KEY (race_id, rank),
    UNIQUE (race_id, uid)
);
