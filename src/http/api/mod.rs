//! The OpenAPI-documented API: one `#[OpenApi]` impl per tag.

pub mod account;
pub mod admin;
pub mod admin_races;
pub mod auth;
pub mod bonus_codes;
pub mod challenges;
pub mod choice;
pub mod health;
pub mod leaderboard;
pub mod players;
pub mod races;
pub mod strict;
pub mod telegram;
pub mod upstream_token;

use poem_openapi::Tags;

#[derive(Tags)]
pub enum ApiTags {
    /// Liveness and readiness of the daemon and its dependencies, for load balancers and monitoring.
    Health,
    /// Leaderboards of the players referred by GoatedVIPs: today, this week, this month, all time.
    Leaderboard,
    /// Wager races: every listed race, live standings, a player's place, prizes, closed races.
    Races,
    /// Individual players: figures, ranks, VIP tier, race place; name search.
    Players,
    /// Accounts and sessions: register, log in and out. Sessions are the `goatedvips_session`
    /// cookie; state-changing requests must be JSON or come from an allowed origin (CSRF).
    Auth,
    /// The logged-in player's account: linked Goated and Telegram accounts, privacy.
    Account,
    /// Bonus codes: the active ones for everybody; admins create, change and expire them.
    BonusCodes,
    /// Challenges: the open ones and their winners for everybody, a player's entry; admins
    /// create them and review the entries.
    Challenges,
    /// The Telegram bot: the webhook Telegram posts updates to, and the bot's status.
    Telegram,
    /// Administration (an admin session is required): users, link requests, bonus codes,
    /// the audit log. Anonymous callers get 401, players 403.
    Admin,
}
