-- The prize settings of each race, kept current while it runs and frozen when it closes, so
-- that a later change of the configuration does not rewrite a closed race.
ALTER TABLE races
    ADD COLUMN prize_percentages numeric[],
    ADD COLUMN min_wager numeric;
