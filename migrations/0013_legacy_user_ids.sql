-- The old app's user ids (serial numbers or uuids, as text), each naming the account it was
-- imported into, so that the old profile addresses `/user/{id}` and `/user-profile/{id}` lead to
-- that account's player page. Filled by `import-legacy`; `IF NOT EXISTS` because the importer
-- declares the same table.

CREATE TABLE IF NOT EXISTS legacy_user_ids (
    legacy_id text PRIMARY KEY,
    user_id   bigint NOT NULL REFERENCES users ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS legacy_user_ids_user ON legacy_user_ids (user_id);
