-- Upstream bearer tokens set at run time (`goatedvips ctl upstream set-token`, /admin), newest
-- in force. The token is never stored in clear: it is sealed with AES-256-GCM under
-- upstream.token_key (from the secrets file, never in the database), so neither this table nor
-- a dump of it gives the token away. What may be shown is kept beside it: the Goated uid and the
-- expiry read from the token's payload, who set it and when.
CREATE TABLE upstream_token (
    id          bigserial PRIMARY KEY,
    nonce       bytea NOT NULL CHECK (length(nonce) = 12),
    ciphertext  bytea NOT NULL,
    uid         text,
    -- The token's `exp`; null when it is not a JWT with one.
    expires_at  timestamptz,
    -- A username, or `cli:<uid>` for the admin socket.
    set_by      text NOT NULL,
    set_at      timestamptz NOT NULL
);
CREATE INDEX upstream_token_newest ON upstream_token (set_at DESC, id DESC);
