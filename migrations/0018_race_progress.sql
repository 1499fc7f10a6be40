-- Race progress (#22): the top 10 of each live race at each sync, compacted to one point per
-- hour once a day old; what the race chart is drawn from.
CREATE TABLE race_progress (
    race_id  text NOT NULL REFERENCES races (id) ON DELETE CASCADE,
    taken_at timestamptz NOT NULL,
    rank     integer NOT NULL,
    uid      text NOT NULL,
    name     text NOT NULL,
    wagered  numeric NOT NULL,
    PRIMARY KEY (race_id, taken_at, rank)
);
