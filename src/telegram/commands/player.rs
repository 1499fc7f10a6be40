//! The player commands: `/start` (the welcome and its buttons), `/help`, `/play`, `/website`,
//! `/notify on|off`, `/verify <Goated name>`, `/stats` (its text also `/check_stats`'s), `/leaderboard` and `/bonuscodes`
//! (whose list admins get with claims from `/bonus`); `/race` is in `race`. Each reads the
//! views (`views`) and services (`accounts`) the HTTP API uses.

use serde_json::{json, Value};

use super::outgoing::{escape, Outgoing};
use super::race::time_left;
use super::{refusal, Ctx, HandleError};
use crate::accounts::linking::GoatedRef;
use crate::accounts::User;
use crate::domain::leaderboard::Period;
use crate::views;

pub(super) const HELP: &str = "GoatedVIPs bot\n\
/stats - your wager, ranks, VIP tier and race place\n\
/leaderboard [today|week|month|all] - the top 10\n\
/race [ID] - the live races and your place, or your place in one\n\
/bonuscodes - the active bonus codes\n\
/challenges - the open challenges\n\
/challengecomplete [ID] <bet link> - enter a challenge (or #ChallengeComplete [ID] <bet link>)\n\
/claim - the codes you won in challenges (in private)\n\
/play - the affiliate link to play on Goated\n\
/check_stats <Goated name> - your own stats by your player's name\n\
/notify on|off - race notifications (new leader, your paid place, your result)\n\
/groupnews on|off - race news in a group (the group's admins)\n\
/website - the GoatedVIPs website\n\
/link <code> - link this Telegram account (get the code on your account page)\n\
/verify <Goated name> - ask to link your Goated account (an admin approves)\n\
/help - this list\n\
Inline: type @<this bot> <name> in any chat for a player's wagers and tier";

const WELCOME: &str = "Welcome to GoatedVIPs!\n\n\
I show the Goated wager leaderboard and the monthly wager race, your own wager, ranks and VIP \
tier, and link this Telegram account to your GoatedVIPs account.\n\n\
Get a link code on your account page and send /link <code> (or open the link there), then \
/stats. /help lists every command.";

/// The URL buttons of the site and the affiliate link, those configured.
fn link_buttons(ctx: &Ctx<'_, '_>) -> Vec<Value> {
    let tg = &ctx.config.telegram;
    [
        (&tg.affiliate_url, "Play on Goated"),
        (&tg.site_url, "Website"),
    ]
    .into_iter()
    .filter(|(url, _)| !url.is_empty())
    .map(|(url, text)| json!({"text": text, "url": url}))
    .collect()
}

pub(super) fn welcome(ctx: &Ctx<'_, '_>, chat_id: i64) -> Outgoing {
    let buttons = link_buttons(ctx);
    let out = Outgoing::message(chat_id, WELCOME);
    if buttons.is_empty() {
        out
    } else {
        out.with_keyboard(json!([buttons]))
    }
}

/// `/play`, `/website`: the link (also as a button), or `missing` when it is not configured.
pub(super) fn link_reply(chat_id: i64, url: &str, label: &str, missing: &str) -> Outgoing {
    if url.is_empty() {
        return Outgoing::message(chat_id, missing);
    }
    Outgoing::html(
        chat_id,
        format!(
            "{}: <a href=\"{}\">{}</a>",
            escape(label),
            escape(url),
            escape(url)
        ),
    )
    .with_keyboard(json!([[{"text": label, "url": url}]]))
}

/// `/notify on|off`: race notifications for this Telegram user.
pub(super) async fn notify(
    ctx: &Ctx<'_, '_>,
    from_id: i64,
    user: Option<&User>,
    args: &str,
) -> Result<String, HandleError> {
    let on = match args.trim().to_ascii_lowercase().as_str() {
        "on" => true,
        "off" => false,
        _ => return Ok("Send /notify on or /notify off.".into()),
    };
    crate::db::telegram::set_notify(&*ctx.tx, from_id, on, ctx.now).await?;
    if !on {
        return Ok("Notifications off.".into());
    }
    let personal = if user.and_then(|u| u.goated_uid.as_ref()).is_some() {
        ", your player entering or leaving the paid places, and your result when a race closes"
    } else {
        " (link your Goated account with /verify to hear about your own place and result)"
    };
    Ok(format!(
        "Notifications on: a new race leader{personal}. /notify off stops them."
    ))
}

const NOT_LINKED: &str = "This Telegram account is not linked yet: log in on the website, open \
your account page, get a link code and send /link <code> here.";

pub(super) async fn verify(
    ctx: &mut Ctx<'_, '_>,
    user: Option<&User>,
    args: &str,
) -> Result<String, HandleError> {
    let Some(user) = user else {
        return Ok(NOT_LINKED.into());
    };
    if args.is_empty() {
        return Ok("Send /verify <your Goated name>.".into());
    }
    let snap = ctx.snapshot;
    match ctx
        .accounts
        .request_goated_link_in(&mut *ctx.tx, user, GoatedRef::Name(args.to_string()), |t| {
            views::find_goated(snap, t)
        })
        .await
    {
        Ok(request) => Ok(format!(
            "Request #{} sent: link {} to your account. An admin will review it.",
            request.id, request.goated_name
        )),
        Err(e) => refusal(e),
    }
}

pub(super) fn stats(ctx: &Ctx<'_, '_>, user: Option<&User>) -> String {
    let Some(user) = user else {
        return NOT_LINKED.into();
    };
    let Some(uid) = &user.goated_uid else {
        return "No Goated account is linked yet: send /verify <your Goated name>.".into();
    };
    match views::player(ctx.snapshot, ctx.config, ctx.now, uid) {
        Some(p) => stats_text(&p),
        None => "Your Goated account is not in the current leaderboard data.".into(),
    }
}

/// What `/stats` shows of a player (also `/check_stats`): name, wager and rank in each period,
/// VIP tier with the way to the next, and the place in the month's race.
pub(super) fn stats_text(p: &views::PlayerView) -> String {
    let mut text = format!(
        "{}\nWagered: today {} (#{}), this week {} (#{}), this month {} (#{}), all time {} (#{})\nVIP tier: {}",
        p.name,
        p.wagered.today, p.ranks.today,
        p.wagered.this_week, p.ranks.weekly,
        p.wagered.this_month, p.ranks.monthly,
        p.wagered.all_time, p.ranks.all_time,
        p.tier.name,
    );
    if let Some(next) = &p.tier.next {
        text.push_str(&format!(
            " ({}% of the way to {next})",
            p.tier.progress_percent
        ));
    }
    match &p.race {
        Some(r) => {
            text.push_str(&format!(
                "\nRace {}: #{} with {}",
                r.race_id, r.rank, r.wagered
            ));
            if let Some(prize) = r.prize {
                text.push_str(&format!(", prize {prize}"));
            }
        }
        None => text.push_str("\nNot in this month's race yet."),
    }
    text
}

/// The top 10 of the race (no argument) or of a period, with a Refresh button that edits the
/// message in place (its callback data names the board).
pub(super) fn leaderboard(ctx: &Ctx<'_, '_>, args: &str) -> (String, Value) {
    let key = match args.trim().to_ascii_lowercase().as_str() {
        "today" | "day" => "today",
        "week" | "weekly" => "week",
        "month" | "monthly" => "month",
        "all" | "alltime" | "all_time" => "all",
        _ => "race",
    };
    let (cfg, snap, now) = (ctx.config, ctx.snapshot, ctx.now);
    let mut text = String::new();
    if key == "race" {
        let Some(view) = ctx.races.featured(snap, now) else {
            text.push_str("No race is running.");
            let keyboard = json!([[{"text": "Refresh", "callback_data": format!("lb:{key}")}]]);
            return (text, keyboard);
        };
        text.push_str(&format!(
            "Race {} - top 10 (prize pool {} {})",
            view.id, view.prize_pool, view.currency
        ));
        if view.participants.is_empty() {
            text.push_str("\nNobody has wagered in this race yet.");
        }
        for p in view.participants.iter().take(10) {
            text.push_str(&format!("\n{}. {} - {}", p.rank, p.name, p.wagered));
            if let Some(prize) = p.prize {
                text.push_str(&format!(" (prize {prize})"));
            }
        }
        text.push_str(&format!("\nTime left: {}", time_left(view.seconds_left)));
    } else {
        let (period, title) = match key {
            "today" => (Period::Today, "Today"),
            "week" => (Period::Weekly, "This week"),
            "all" => (Period::AllTime, "All time"),
            _ => (Period::Monthly, "This month"),
        };
        let page = views::leaderboard_page(snap, cfg, period, 1, 10);
        if page.entries.is_empty() {
            text.push_str("No leaderboard data yet.");
        } else {
            text.push_str(&format!("Top 10 - {title}"));
        }
        for e in &page.entries {
            text.push_str(&format!(
                "\n{}. {} - {} ({})",
                e.rank, e.name, e.wagered, e.tier
            ));
        }
    }
    // Telegram refuses an edit that changes nothing: the time makes each refresh differ.
    text.push_str(&format!("\nUpdated {}", now.format("%H:%M:%S UTC")));
    let keyboard = json!([[{"text": "Refresh", "callback_data": format!("lb:{key}")}]]);
    (text, keyboard)
}

/// Who a list of bonus codes is for: admins also see the claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Audience {
    Player,
    Admin,
}

/// The active bonus codes, one a line: code, description, reward, wager requirement, expiry
/// (and, for admins, the claims); a refusal's text when they cannot be read.
pub(super) async fn bonus_codes_text(
    ctx: &Ctx<'_, '_>,
    audience: Audience,
) -> Result<String, HandleError> {
    let codes = match ctx.accounts.active_bonus_codes_in(&*ctx.tx).await {
        Ok(c) => c,
        Err(e) => return refusal(e),
    };
    if codes.is_empty() && audience == Audience::Player {
        return Ok("No active bonus codes right now. Check back soon.".into());
    }
    let mut text = format!("{} active bonus code(s)", codes.len());
    for c in &codes {
        let claims = match audience {
            Audience::Admin => format!(", {}/{} claimed", c.claims, c.max_claims),
            Audience::Player => String::new(),
        };
        text.push_str(&format!(
            "\n{} - {} (reward {}, wager {}{claims}, expires {})",
            c.code,
            c.description,
            c.reward,
            c.wager_requirement,
            c.expires_at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    Ok(text)
}

/// `/bonuscodes`: the active codes, for everybody.
pub(super) async fn bonus_codes(ctx: &Ctx<'_, '_>) -> Result<String, HandleError> {
    bonus_codes_text(ctx, Audience::Player).await
}
