//! Pure domain logic: amounts, leaderboard ranking, tiers, race periods and prizes, races of
//! any window (their state, measure, recurrence and the admin's input), account rules
//! (usernames, emails, passwords, bonus codes, name masking, Telegram public names), a
//! challenge's fields and bet link (`challenge`), what counts as Goated's site (`goated`), the
//! login throttle, the leaderboard's `period` / old `timeframe` parameters, when a scheduled
//! group post is due, small text helpers (`text`).
//! No I/O here; everything is unit-tested next to it.

pub mod accounts;
pub mod amount;
pub mod challenge;
pub mod goated;
pub mod history;
pub mod leaderboard;
pub mod login_throttle;
pub mod period_param;
pub mod plausibility;
pub mod race;
pub mod race_def;
pub mod race_draft;
pub mod schedule;
pub mod text;
pub mod tiers;

pub use amount::Amount;
