-- The per-account login throttle, shared by every daemon: failed logins counted per login name
-- (normalised, whether or not such an account exists), stored as a keyed hash of the name.

CREATE TABLE login_throttle (
    key_hash        bytea PRIMARY KEY,
    -- Attempts since the last success, each counted before its password is checked.
    failures        integer NOT NULL CHECK (failures >= 1),
    last_failure_at timestamptz NOT NULL,
    -- No login with this name is checked before then.
    locked_until    timestamptz
);
CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure_at);
