-- Telegram: the slots of telegram.messages_per_second, shared by every daemon on the database.
-- A daemon takes a slot (under a transaction-scoped advisory lock, so two daemons cannot both
-- take the last one) before each Bot API call, and a call is made only while fewer than
-- messages_per_second slots count. A slot counts while its call is under way and for a second
-- after it ended; should the daemon stop during the call, until its lease runs out.

CREATE TABLE telegram_send_slots (
    id    bigserial PRIMARY KEY,
    -- The slot counts until then (the database's clock, one for every daemon). No index: the
    -- table holds at most messages_per_second slots that count; the others are deleted when
    -- the next slot is taken.
    until timestamptz NOT NULL
);
