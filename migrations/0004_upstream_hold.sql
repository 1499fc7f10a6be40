-- A well-formed but implausible upstream document (all players gone, lifetime totals that
-- shrink …), held instead of applied until it is confirmed by repeated polls or accepted by an
-- operator. At most one is held: a newer suspicious document replaces it.
CREATE TABLE upstream_hold (
    only_one    boolean PRIMARY KEY DEFAULT true CHECK (only_one),
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    -- Consecutive polls that gave this same verdict.
    polls       integer NOT NULL CHECK (polls >= 1),
    source      text NOT NULL,
    summary     text NOT NULL,
    -- The verdict: player counts before and after, the reasons, the biggest changes.
    verdict     jsonb NOT NULL,
    -- The held document's players, applied if it is confirmed or accepted.
    players     jsonb NOT NULL
);

-- A race that ended while a document was held closed from the last good data before its end.
ALTER TABLE races ADD COLUMN closed_during_hold boolean NOT NULL DEFAULT false;
