-- Challenges (#23): "hit x50 on Limbo with a $1 minimum bet, first 5 winners get $20". Players
-- enter with a bet link, an admin verifies each entry with a code, the winner claims it.
CREATE TABLE challenges (
    id                 bigserial PRIMARY KEY,
    game               text NOT NULL,
    multiplier         numeric NOT NULL CHECK (multiplier > 1),
    min_bet            numeric NOT NULL CHECK (min_bet > 0),
    prize              numeric NOT NULL CHECK (prize > 0),
    winners            integer NOT NULL CHECK (winners > 0),
    -- NULL: open until the winners are all verified.
    open_until         timestamptz,
    description        text NOT NULL,
    -- 'open' past open_until shows as expired; 'closed' once the winners are all verified.
    state              text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    created_by         bigint REFERENCES users (id) ON DELETE SET NULL,
    created_by_name    text NOT NULL,
    created_at         timestamptz NOT NULL,
    closed_at          timestamptz,
    -- Set by the one daemon that queued the groups' announcement (of the challenge, of its
    -- close), in the transaction that queued it: each is told once.
    announced_at       timestamptz,
    close_announced_at timestamptz
);
CREATE INDEX challenges_open ON challenges (created_at) WHERE state = 'open';

CREATE TABLE challenge_entries (
    id               bigserial PRIMARY KEY,
    challenge_id     bigint NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    goated_uid       text NOT NULL,
    goated_name      text NOT NULL,
    link             text NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'verified', 'rejected')),
    -- The prize code of a verified entry; the reason of a rejected one.
    code             text,
    reason           text,
    reviewed_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    reviewed_by_name text,
    reviewed_at      timestamptz,
    created_at       timestamptz NOT NULL,
    -- Set by the one daemon that queued the player's message about the review.
    notified_at      timestamptz,
    -- Each player enters each challenge once.
    UNIQUE (challenge_id, user_id),
    CHECK ((state = 'verified') = (code IS NOT NULL))
);
CREATE INDEX challenge_entries_pending ON challenge_entries (id) WHERE state = 'pending';
CREATE INDEX challenge_entries_user ON challenge_entries (user_id);
CREATE INDEX challenge_entries_unnotified ON challenge_entries (id)
    WHERE notified_at IS NULL AND state <> 'pending';
