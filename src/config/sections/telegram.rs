//! `[telegram]`: the Telegram bot.

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;
use super::super::values::Secret;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    pub bot_token: Secret,
    pub webhook_secret: Secret,
    /// The bot's username (without `@`; empty when not known yet), for the
    /// `https://t.me/<bot>?start=<code>` link.
    pub bot_username: String,
    /// Base URL of the Bot API, without a trailing `/` (tests point it at a fake).
    pub api_url: String,
    /// The public URL Telegram posts updates to (`ctl telegram set-webhook`); empty when not set.
    pub webhook_url: String,
    /// Most Bot API calls per second, all chats and all daemons on the database together.
    pub messages_per_second: u32,
    /// Least time between two messages to one chat, in milliseconds.
    pub chat_interval_ms: u64,
    /// Attempts of one message before it is given up (5xx, network errors).
    pub max_attempts: u32,
    /// The site's public URL (`/website`, the `/start` buttons); empty hides it.
    pub site_url: String,
    /// The affiliate sign-up link (`/play`, the `/start` buttons, a `/deploybonus`
    /// announcement's button); empty hides it.
    pub affiliate_url: String,
    /// Most commands one user may send per `command_window_secs`; over it the bot says so once.
    pub command_limit: u32,
    pub command_window_secs: u64,
    /// Least time between two commands answered in one group, in seconds.
    pub group_cooldown_secs: u64,
    /// Telegram user ids that are bot admins (besides users linked to an admin account).
    pub admin_ids: Vec<i64>,
    /// Group chat ids the bot answers in and the only ones it posts to; empty: it answers in
    /// every group and posts to none.
    pub allowed_groups: Vec<i64>,
    /// Most messages to one group per minute (Telegram: about 20).
    pub group_messages_per_minute: u32,
    /// Handled updates, sent or given-up messages and old command windows are deleted after
    /// this many days (in batches, every hour).
    pub retention_days: u32,
    /// Channels whose posts are re-posted to every allowed group, goated.com links rewritten to
    /// `affiliate_url` (the bot must be an administrator of each, with no rights needed:
    /// Telegram sends a channel's posts only to its administrators).
    pub forward_channels: Vec<ForwardChannel>,
}

/// A channel of `telegram.forward_channels`: its id (negative, e.g. -1001234567890) or its
/// public `@name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ForwardChannel {
    Id(i64),
    Name(String),
}

impl ForwardChannel {
    /// Whether a post from the channel `id`, whose public name (without `@`) is `username`,
    /// comes from this one; names compare without case, as Telegram's do.
    pub fn is(&self, id: i64, username: Option<&str>) -> bool {
        match self {
            Self::Id(listed) => *listed == id,
            Self::Name(name) => username.is_some_and(|u| {
                name.trim_start_matches('@')
                    .eq_ignore_ascii_case(u.trim_start_matches('@'))
            }),
        }
    }

    fn is_valid(&self) -> bool {
        match self {
            Self::Id(id) => *id < 0,
            Self::Name(name) => name
                .strip_prefix('@')
                .is_some_and(crate::domain::accounts::is_telegram_username),
        }
    }
}

impl Default for TelegramConfig {
    fn default() -> Self {
        Self {
            bot_token: Secret::default(),
            webhook_secret: Secret::default(),
            bot_username: String::new(),
            api_url: "https://api.telegram.org".into(),
            webhook_url: String::new(),
            messages_per_second: 25,
            chat_interval_ms: 1000,
            max_attempts: 5,
            site_url: String::new(),
            affiliate_url: String::new(),
            command_limit: 5,
            command_window_secs: 10,
            group_cooldown_secs: 2,
            admin_ids: Vec::new(),
            allowed_groups: Vec::new(),
            group_messages_per_minute: 20,
            retention_days: 30,
            forward_channels: Vec::new(),
        }
    }
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

impl TelegramConfig {
    /// Checks the values as configured, then drops the `@` of the username and the trailing
    /// `/` of the API URL.
    pub(super) fn check(&mut self, checks: &mut Checks) {
        let mut s = checks.section("telegram");
        s.check(
            self.bot_username
                .trim_start_matches('@')
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "bot_username",
            "must be a Telegram bot username such as GoatedVIPsBot",
        );
        s.check(
            is_http_url(&self.api_url),
            "api_url",
            "must be an http(s) URL such as https://api.telegram.org",
        );
        s.check(
            self.webhook_url.is_empty()
                || url::Url::parse(&self.webhook_url).is_ok_and(|u| u.scheme() == "https"),
            "webhook_url",
            "must be empty or an https URL ending in /api/telegram/webhook",
        );
        s.check(
            (1..=30).contains(&self.messages_per_second),
            "messages_per_second",
            "must be between 1 and 30 (the Bot API's limit)",
        );
        s.at_most("chat_interval_ms", self.chat_interval_ms, 60_000);
        s.between("max_attempts", self.max_attempts, 1..=100);
        s.check(
            (1..=60).contains(&self.group_messages_per_minute),
            "group_messages_per_minute",
            "must be between 1 and 60 (Telegram allows about 20)",
        );
        s.between("retention_days", self.retention_days, 1..=3650);
        s.between("command_limit", self.command_limit, 1..=1000);
        s.between("command_window_secs", self.command_window_secs, 1..=3600);
        s.check(
            self.group_cooldown_secs <= 3600,
            "group_cooldown_secs",
            "must be at most 3600 (0 turns it off)",
        );
        for (url, field) in [
            (&self.site_url, "site_url"),
            (&self.affiliate_url, "affiliate_url"),
        ] {
            s.check(
                url.is_empty() || is_http_url(url),
                field,
                "must be empty or an http(s) URL",
            );
        }
        s.check(
            self.forward_channels.iter().all(ForwardChannel::is_valid),
            "forward_channels",
            "each must be a channel id (a negative integer such as -1001234567890) or a \
             public channel name with its @, such as @goatedcom",
        );
        self.bot_username = self.bot_username.trim_start_matches('@').to_string();
        self.api_url = self.api_url.trim_end_matches('/').to_string();
    }
}
