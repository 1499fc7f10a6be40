-- `goatedvips import-legacy`: what was brought over from the old app's database, so that a
-- second run imports nothing twice, and what the old site's addresses need.

-- One row per imported record: `kind` is `user`, `race` or `bonus_code`; `legacy_id` the old
-- row's id (a serial number or a uuid, as text); `new_id` the id here.
CREATE TABLE legacy_imports (
    shape       text NOT NULL CHECK (shape IN ('b', 'c', 'v')),
    kind        text NOT NULL,
    legacy_id   text NOT NULL,
    new_id      text NOT NULL,
    imported_at timestamptz NOT NULL,
    PRIMARY KEY (shape, kind, legacy_id)
);

-- The old user ids (serial numbers or uuids) of imported accounts: the old `/user/{id}`
-- addresses redirect through it. The first import of an id keeps it.
-- (Also declared by migration 0013, for the old addresses.)
CREATE TABLE IF NOT EXISTS legacy_user_ids (
    legacy_id text PRIMARY KEY,
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS legacy_user_ids_user ON legacy_user_ids (user_id);

-- The old app allowed emails that differ only in case. Such an imported account is kept (it
-- logs in by username, or by its exact email), marked here, and left out of the uniqueness of
-- emails; every new email is still unique whatever its case.
ALTER TABLE users ADD COLUMN email_case_duplicate boolean NOT NULL DEFAULT false;
DROP INDEX users_email_ci;
CREATE UNIQUE INDEX users_email_ci ON users (lower(email)) WHERE NOT email_case_duplicate;
CREATE INDEX users_email_lower ON users (lower(email));

-- The newest old schema had no wager requirement on its bonus codes: imported as 0 ("none").
ALTER TABLE bonus_codes DROP CONSTRAINT bonus_codes_wager_requirement_check;
ALTER TABLE bonus_codes ADD CONSTRAINT bonus_codes_wager_requirement_check
    CHECK (wager_requirement >= 0);
