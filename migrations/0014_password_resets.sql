-- Password reset links (there is no e-mail here: an admin hands the link over, from
-- `goatedvips user reset-link` or the admin page, and the bot sends it to a linked Telegram).
-- Only a keyed hash of the link's token is stored; a link works once, for 24 hours, and a new
-- one replaces the user's unused ones.

CREATE TABLE password_resets (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_resets_user ON password_resets (user_id);
CREATE INDEX password_resets_expires ON password_resets (expires_at);
