//! What the old database holds, read into one form whatever its shape: the readers
//! (`shape_b`, `shape_c`, `shape_v`) fill it, the writers (`write_*`) take it. Values stay as
//! the old rows had them (text amounts, optional fields); judging them is the writers' job, so
//! that a bad row becomes a reported skip rather than a failed read.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// The three schemas the old app had (see the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Jan–Mar 2025: serial ids, Node scrypt hashes.
    C,
    /// Mar–May 2025: serial ids, AES-256-GCM encrypted passwords.
    B,
    /// Jun 2025 (v2.0): uuid ids, bcrypt.
    V,
}

impl Shape {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::B => "b",
            Self::C => "c",
            Self::V => "v",
        }
    }

    pub fn era(self) -> &'static str {
        match self {
            Self::C => "Jan–Mar 2025",
            Self::B => "Mar–May 2025",
            Self::V => "Jun 2025, v2.0",
        }
    }
}

/// An old password as stored.
#[derive(Debug, Clone)]
pub enum OldPassword {
    /// `"<128 hex>.<32 hex>"` from Node's `scryptSync`.
    NodeScrypt(String),
    /// `$2a$`/`$2b$`/`$2y$`, 60 characters.
    Bcrypt(String),
    /// Shape b: reversibly encrypted, every part in hex.
    Encrypted(EncryptedPassword),
    /// No password, or one in no known form (the text is not kept).
    Unusable(&'static str),
}

#[derive(Debug, Clone)]
pub struct EncryptedPassword {
    pub ciphertext: String,
    pub iv: String,
    pub salt: String,
    pub auth_tag: String,
}

/// An old Goated link on the user row.
#[derive(Debug, Clone)]
pub struct OldGoated {
    pub uid: String,
    pub name: Option<String>,
    /// Approved (linked and verified); otherwise only requested.
    pub approved: bool,
}

#[derive(Debug, Clone)]
pub struct OldUser {
    /// The old id as text (a serial number or a uuid).
    pub legacy_id: String,
    pub username: String,
    pub email: String,
    pub admin: bool,
    pub disabled: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub password: OldPassword,
    pub goated: Option<OldGoated>,
    /// `users.telegram_id` (shapes b and v): a verified link there.
    pub telegram_id: Option<String>,
    pub telegram_username: Option<String>,
}

/// What a pending Goated link request names.
#[derive(Debug, Clone)]
pub enum RequestTarget {
    Uid {
        uid: String,
        name: Option<String>,
    },
    /// Shape c kept only the Goated name.
    Name(String),
}

#[derive(Debug, Clone)]
pub struct OldLinkRequest {
    pub legacy_id: String,
    pub user_legacy_id: String,
    pub target: RequestTarget,
    pub requested_at: Option<DateTime<Utc>>,
}

/// A `telegram_users` row (shapes c and b).
#[derive(Debug, Clone)]
pub struct OldTelegramUser {
    pub telegram_id: String,
    pub user_legacy_id: Option<String>,
    pub username: Option<String>,
    pub verified: bool,
    /// `notifications_enabled`; `None` when the column is absent or NULL.
    pub notifications: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct OldPlace {
    pub rank: Option<i64>,
    pub uid: Option<String>,
    pub name: Option<String>,
    pub wagered: Option<Decimal>,
    pub prize: Option<Decimal>,
    pub taken_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct OldRace {
    pub legacy_id: String,
    /// `YYYYMM` when the old row says it (shape v's id, shape c's year and month).
    pub month_id: Option<String>,
    pub title: Option<String>,
    /// `monthly`, `weekly` …; `None` where the shape has no type.
    pub kind: Option<String>,
    pub status: String,
    pub prize_pool: Option<Decimal>,
    pub min_wager: Option<Decimal>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The stored prize distribution as JSON text (`{"1": 0.25 …}` or `{"1": 25 …}`).
    pub distribution: Option<String>,
    pub places: Vec<OldPlace>,
    /// A place the reader could not make sense of (e.g. shape c's JSON), with why.
    pub unreadable: Option<String>,
}

/// Who made an old bonus code.
#[derive(Debug, Clone)]
pub enum OldCreator {
    UserId(String),
    Username(String),
}

#[derive(Debug, Clone)]
pub struct OldBonusCode {
    pub legacy_id: String,
    pub code: String,
    pub description: Option<String>,
    /// As stored: `"$50"`, `"$1,000"`, `"ask in chat"`, or a decimal's text.
    pub amount: Option<String>,
    /// `None` where the shape has no wager requirement (v) or the row has none.
    pub wager: Option<String>,
    pub max_claims: Option<i64>,
    pub claims: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
    pub active: bool,
    pub created_by: Option<OldCreator>,
    pub created_at: Option<DateTime<Utc>>,
}

/// Everything read from one old database.
#[derive(Debug, Clone)]
pub struct LegacyData {
    pub shape: Shape,
    pub users: Vec<OldUser>,
    pub link_requests: Vec<OldLinkRequest>,
    pub telegram_users: Vec<OldTelegramUser>,
    /// Old user ids whose `wager_race_updates` preference is off (shape c).
    pub race_updates_off: Vec<String>,
    pub races: Vec<OldRace>,
    pub bonus_codes: Vec<OldBonusCode>,
}

impl LegacyData {
    pub fn new(shape: Shape) -> Self {
        Self {
            shape,
            users: Vec::new(),
            link_requests: Vec::new(),
            telegram_users: Vec::new(),
            race_updates_off: Vec::new(),
            races: Vec::new(),
            bonus_codes: Vec::new(),
        }
    }
}
