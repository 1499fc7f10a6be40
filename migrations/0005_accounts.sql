-- Accounts: players and admins, their sessions, account links, bonus codes and the audit log.

CREATE TABLE users (
    id               bigserial PRIMARY KEY,
    username         text NOT NULL,
    email            text NOT NULL,
    -- argon2id PHC string; the password itself is never stored.
    password_hash    text NOT NULL,
    role             text NOT NULL DEFAULT 'player' CHECK (role IN ('player', 'admin')),
    disabled         boolean NOT NULL DEFAULT false,
    -- Show this player's Goated name masked on public views.
    mask_name        boolean NOT NULL DEFAULT false,
    -- The approved Goated account: one uid belongs to at most one account.
    goated_uid       text UNIQUE,
    telegram_id      bigint UNIQUE,
    telegram_username text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_username_ci ON users (lower(username));
CREATE UNIQUE INDEX users_email_ci ON users (lower(email));

-- A session: only a keyed hash of the cookie's token is stored.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip           text
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Requests to link a Goated account, approved or rejected by an admin.
CREATE TABLE goated_link_requests (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    goated_uid  text NOT NULL,
    goated_name text NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    note        text,
    decided_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    decided_at  timestamptz
);
-- One open request per account.
CREATE UNIQUE INDEX goated_link_requests_one_pending ON goated_link_requests (user_id)
    WHERE status = 'pending';
CREATE INDEX goated_link_requests_status ON goated_link_requests (status, created_at);

-- One-time codes that link a Telegram account (hash of the code only).
CREATE TABLE telegram_link_codes (
    code_hash  bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

CREATE TABLE bonus_codes (
    id                bigserial PRIMARY KEY,
    code              text NOT NULL UNIQUE,
    description       text NOT NULL,
    reward            numeric NOT NULL CHECK (reward > 0),
    wager_requirement numeric NOT NULL CHECK (wager_requirement > 0),
    max_claims        integer NOT NULL CHECK (max_claims >= 1),
    claims            integer NOT NULL DEFAULT 0 CHECK (claims >= 0),
    expires_at        timestamptz NOT NULL,
    created_by        bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX bonus_codes_expires ON bonus_codes (expires_at);

-- Every admin action: who, what, on what, when, from where.
CREATE TABLE audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL,
    actor_id bigint REFERENCES users (id) ON DELETE SET NULL,
    -- The actor as shown: a username, or `cli:<uid>` for the command line.
    actor    text NOT NULL,
    action   text NOT NULL,
    target   text NOT NULL,
    detail   jsonb NOT NULL DEFAULT '{}'::jsonb,
    ip       text
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
