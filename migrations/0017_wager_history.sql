-- Wager history (#22): one point per player per upstream day, written by the poller, kept for
-- `leaderboard.history_days`. A day with no wager stores no row.
CREATE TABLE wager_history (
    uid      text NOT NULL,
    -- The upstream's day (in `upstream.timezone`).
    day      date NOT NULL,
    -- The day's wager (the upstream's `today`) and all-time total at the day's last sync.
    wagered  numeric NOT NULL,
    all_time numeric NOT NULL,
    PRIMARY KEY (uid, day)
);
CREATE INDEX wager_history_day ON wager_history (day);
