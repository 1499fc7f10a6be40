//! Queries of the Telegram bot, one file per concern, matching `telegram/`: the stored updates
//! (`updates`), the outbound queue (`outbox`) and its shared send slots (`send_slots`), the
//! command windows (`limits`), who the bot talks to (`chats`), the link requests it announces
//! (`link_requests`), broadcasts (`broadcasts`), the admins' lookups (`lookups`), the groups
//! opted in to race news and their admin checks (`group_news`), what it posts to the groups on
//! its own (the channel posts re-posted and the scheduled posts, `group_posts`), what the race
//! notifier saw (`race_watch`), the open wizards (`wizards`), what is deleted after
//! `telegram.retention_days` (`retention`) and the figures of the status (`status`). Each
//! takes any client, so the bot runs them on the
//! transaction of the update or message at hand.

mod broadcasts;
mod chats;
mod group_news;
mod group_posts;
mod limits;
mod link_requests;
mod lookups;
mod outbox;
mod race_watch;
mod retention;
mod send_slots;
mod status;
mod updates;
mod wizards;

pub use broadcasts::*;
pub use chats::*;
pub use group_news::*;
pub use group_posts::*;
pub use limits::*;
pub use link_requests::*;
pub use lookups::*;
pub use outbox::*;
pub use race_watch::*;
pub use retention::*;
pub use send_slots::*;
pub use status::*;
pub use updates::*;
pub use wizards::*;
