//! The inline query: `@bot name` typed in any chat answers with up to [`MAX_RESULTS`] players
//! of the board's snapshot, each an article with their month, week and all-time wager, ranks
//! and VIP tier (the figures and tier of `/stats`, from `views::player`).
//!
//! - **Matching** ([`matching`]): the name contains the query, ignoring case (a substring, not
//!   only a prefix); best matches first: the exact name, then names starting with the query,
//!   then the others, each group by all-time wager (the all-time leaderboard's order).
//! - **Privacy:** a player who chose a masked name is never found by name (not even by the
//!   masked form); they still appear, masked as on the leaderboard, in the month's top 5.
//! - **Empty query:** the month's top 5. **Nothing found:** one article saying so.
//! - The answer (`answerInlineQuery`, `cache_time` 30 s, the same for everybody) is queued in
//!   the outbox like every reply, under chat 0: it belongs to no chat, so the sender takes it
//!   before the messages waiting for a chat's pacing (Telegram wants it within seconds).
//! - Telegram sends a query each time typing pauses, so inline queries are not counted in the
//!   command limit (no chat to say "slow down" in); they have a quiet window of their own,
//!   [`INLINE_LIMIT_FACTOR`] times the command limit, so a flood cannot fill the outbox.

use serde_json::{json, Value};
use std::collections::HashSet;

use super::outgoing::{escape, Outgoing};
use super::{Ctx, HandleError};
use crate::domain::leaderboard::{Period, Player};
use crate::telegram::update::InlineQuery;
use crate::views::{self, PlayerView};

/// Most articles in one answer.
pub const MAX_RESULTS: usize = 5;

/// How long Telegram may show the same answer to the same query, in seconds.
pub const CACHE_SECS: u32 = 30;

/// The chat an inline answer is queued under: none (the sender does not pace it).
pub const NO_CHAT: i64 = 0;

/// Inline queries allowed per command window, as a multiple of `telegram.command_limit`: a
/// name typed letter by letter is a few queries.
const INLINE_LIMIT_FACTOR: u32 = 4;

/// Answers an inline query: nothing at all when the user is over their inline window.
pub(super) async fn on_inline_query(
    ctx: &Ctx<'_, '_>,
    query: &InlineQuery,
) -> Result<Vec<Outgoing>, HandleError> {
    use crate::db::telegram::{hit_limit, Limit};
    if query.from.is_bot {
        return Ok(Vec::new());
    }
    let tg = &ctx.config.telegram;
    let limit = tg.command_limit.saturating_mul(INLINE_LIMIT_FACTOR) as i32;
    let window = tg.command_window_secs as i64;
    let key = format!("i:{}", query.from.id);
    if hit_limit(&*ctx.tx, &key, ctx.now, window, limit).await? != Limit::Allowed {
        return Ok(Vec::new());
    }
    Ok(vec![answer(ctx, query)])
}

/// The `answerInlineQuery` call for `query`.
fn answer(ctx: &Ctx<'_, '_>, query: &InlineQuery) -> Outgoing {
    let (snap, cfg, now) = (ctx.snapshot, ctx.config, ctx.now);
    let wanted = query.query.trim().trim_start_matches('@').trim();
    let players: Vec<&Player> = if wanted.is_empty() {
        snap.rankings
            .ranked(Period::Monthly)
            .map(|(_, p)| p)
            .take(MAX_RESULTS)
            .collect()
    } else {
        let by_all_time = snap.rankings.ranked(Period::AllTime).map(|(_, p)| p);
        matching(by_all_time, &snap.race.masked, wanted, MAX_RESULTS)
    };
    let mut results: Vec<Value> = players
        .iter()
        .filter_map(|p| views::player(snap, cfg, now, &p.uid))
        .enumerate()
        .map(|(i, p)| player_article(i, &p))
        .collect();
    if results.is_empty() {
        results.push(nothing_found(wanted));
    }
    Outgoing {
        chat_id: NO_CHAT,
        method: "answerInlineQuery",
        params: json!({
            "inline_query_id": query.id,
            "results": results,
            "cache_time": CACHE_SECS,
        }),
    }
}

/// The players whose name contains `query` (ignoring case), masked players left out, best
/// first: the exact name, then those starting with it, then the rest, each in the order given
/// (the all-time leaderboard's); at most `limit`.
pub fn matching<'a>(
    players: impl Iterator<Item = &'a Player>,
    masked: &HashSet<String>,
    query: &str,
    limit: usize,
) -> Vec<&'a Player> {
    let needle = query.to_lowercase();
    let mut found: Vec<(u8, &Player)> = players
        .filter(|p| !masked.contains(&p.uid))
        .filter_map(|p| {
            let name = p.name.to_lowercase();
            let class = if name == needle {
                0
            } else if name.starts_with(&needle) {
                1
            } else if name.contains(&needle) {
                2
            } else {
                return None;
            };
            Some((class, p))
        })
        .collect();
    // Stable: the leaderboard's order within each class.
    found.sort_by_key(|(class, _)| *class);
    found.into_iter().take(limit).map(|(_, p)| p).collect()
}

/// The message an article sends: the player's name, month, week and all-time wager with their
/// ranks, and VIP tier, in Telegram HTML (every value escaped).
pub fn article_text(p: &PlayerView) -> String {
    format!(
        "<b>{}</b>\nThis month: {} (#{})\nThis week: {} (#{})\nAll time: {} (#{})\nVIP tier: {}",
        escape(&p.name),
        p.wagered.this_month,
        p.ranks.monthly,
        p.wagered.this_week,
        p.ranks.weekly,
        p.wagered.all_time,
        p.ranks.all_time,
        escape(&p.tier.name),
    )
}

/// The one-line summary under an article's title.
fn article_summary(p: &PlayerView) -> String {
    format!(
        "Month {} · Week {} · All time {} · {}",
        p.wagered.this_month, p.wagered.this_week, p.wagered.all_time, p.tier.name
    )
}

fn player_article(i: usize, p: &PlayerView) -> Value {
    json!({
        "type": "article",
        "id": format!("p{i}"),
        "title": p.name,
        "description": article_summary(p),
        "input_message_content": {
            "message_text": article_text(p),
            "parse_mode": "HTML",
        },
    })
}

/// The one article of an answer that found nobody.
fn nothing_found(wanted: &str) -> Value {
    json!({
        "type": "article",
        "id": "none",
        "title": format!("No player named {wanted}"),
        "description": "Type part of a name on the leaderboard",
        "input_message_content": {
            "message_text": format!("No player named <b>{}</b> on the leaderboard.", escape(wanted)),
            "parse_mode": "HTML",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::leaderboard::Wagers;
    use crate::domain::Amount;

    fn amt(n: i64) -> Amount {
        Amount(rust_decimal::Decimal::from(n))
    }

    fn player(uid: &str, name: &str) -> Player {
        Player {
            uid: uid.into(),
            name: name.into(),
            wagered: Wagers::default(),
        }
    }

    #[test]
    fn exact_then_prefix_then_substring_in_leaderboard_order() {
        let players = [
            player("1", "MegaLlama"),
            player("2", "llamaKing"),
            player("3", "Llama"),
            player("4", "Bob"),
            player("5", "llama2"),
        ];
        let names = |q: &str, limit| {
            matching(players.iter(), &HashSet::new(), q, limit)
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("LLAMA", 5),
            ["Llama", "llamaKing", "llama2", "MegaLlama"]
        );
        assert_eq!(names("llama", 2), ["Llama", "llamaKing"]);
        assert!(names("zed", 5).is_empty());
    }

    #[test]
    fn a_masked_player_is_never_found_by_name() {
        let players = [player("1", "Lu***ma"), player("2", "Lumen")];
        let masked: HashSet<String> = ["1".to_string()].into();
        for q in ["lu", "Lu***ma", "***"] {
            let found = matching(players.iter(), &masked, q, 5);
            assert!(found.iter().all(|p| p.uid != "1"), "{q}");
        }
        assert_eq!(matching(players.iter(), &masked, "lu", 5).len(), 1);
    }

    #[test]
    fn the_article_text_is_escaped_html_with_every_figure() {
        let view = PlayerView {
            uid: "u".into(),
            name: "<b>Ann & Co</b>".into(),
            wagered: views::WagerFigures {
                today: Amount::ZERO,
                this_week: amt(250),
                this_month: amt(1200),
                all_time: amt(50_000),
            },
            ranks: views::PeriodRanks {
                today: 1,
                weekly: 3,
                monthly: 2,
                all_time: 7,
            },
            tier: views::TierView {
                name: "Gold".into(),
                min: Amount::ZERO,
                next: None,
                next_min: None,
                progress_percent: amt(100),
            },
            race: None,
            races: Vec::new(),
            updated_at: None,
        };
        assert_eq!(
            article_text(&view),
            "<b>&lt;b&gt;Ann &amp; Co&lt;/b&gt;</b>\nThis month: 1200 (#2)\nThis week: 250 (#3)\n\
             All time: 50000 (#7)\nVIP tier: Gold"
        );
        assert_eq!(
            nothing_found("<x>")["input_message_content"]["message_text"],
            "No player named <b>&lt;x&gt;</b> on the leaderboard."
        );
    }
}
