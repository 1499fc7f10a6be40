-- Group race news (#23): groups that opted in with `/groupnews on` get a listed live race's
-- new leader and a race's final standings.
CREATE TABLE telegram_group_news (
    chat_id bigint PRIMARY KEY,
    since   timestamptz NOT NULL,
    -- Who turned it on: `telegram:<user id>` of the group admin, or the bot admin's name.
    set_by  text NOT NULL
);

-- A `/groupnews on|off` by a group member, waiting for Telegram (getChatMember) to say whether
-- they are one of the group's admins: asked outside the update's transaction, decided once.
CREATE TABLE telegram_group_news_checks (
    update_id  bigint PRIMARY KEY REFERENCES telegram_updates (update_id) ON DELETE CASCADE,
    chat_id    bigint NOT NULL,
    user_id    bigint NOT NULL,
    turn_on    boolean NOT NULL,
    created_at timestamptz NOT NULL,
    -- Telegram could not answer yet (5xx, network, 429): asked again from then on.
    next_ask_at timestamptz,
    decided_at timestamptz
);
CREATE INDEX telegram_group_news_checks_waiting ON telegram_group_news_checks (update_id)
    WHERE decided_at IS NULL;
