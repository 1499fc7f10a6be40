//! What the bot answers. Players: `/start [code]` and `/link <code>` (link this Telegram account
//! with a code from the account page), `/verify <Goated name>` (ask to link a Goated account;
//! an admin approves), `/stats`, `/leaderboard [today|week|month|all]` (the race's top 10 by
//! default; a Refresh button edits it in place), `/race`, `/play`, `/website`, `/help`.
//! Admins (an admin account linked to this Telegram account): `/pending`, `/approve <id>`,
//! `/reject <id> [note]`, and the Approve / Reject buttons of a notification.
//!
//! Every answer comes from the services (`accounts`) and views (`views`, `domain`) the HTTP API
//! uses; nothing here decides a rule. Handling returns the Bot API calls to queue; the caller
//! queues them in the transaction that marks the update handled, so each is sent once.

use serde_json::{json, Value};

use super::Telegram;
use crate::accounts::linking::{Decision, GoatedRef};
use crate::accounts::{AccountError, Actor, User};
use crate::db::DbError;
use crate::domain::leaderboard::Period;
use crate::views;

/// A Bot API call to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub chat_id: i64,
    pub method: &'static str,
    pub params: Value,
}

impl Outgoing {
    /// A plain-text message: every character renders literally (escaped for HTML parse mode).
    pub fn message(chat_id: i64, text: impl AsRef<str>) -> Self {
        Self::html(chat_id, escape(text.as_ref()))
    }

    /// A message already written in Telegram's HTML (every inserted value passed through
    /// [`escape`]).
    pub fn html(chat_id: i64, html: String) -> Self {
        Self {
            chat_id,
            method: "sendMessage",
            params: json!({
                "chat_id": chat_id, "text": html, "parse_mode": "HTML",
                "disable_web_page_preview": true,
            }),
        }
    }

    /// Adds an inline keyboard (rows of buttons).
    pub fn with_keyboard(mut self, rows: Value) -> Self {
        self.params["reply_markup"] = json!({ "inline_keyboard": rows });
        self
    }
}

/// Escapes text for Telegram's HTML parse mode (also inside attribute values). Only `<`, `>`,
/// `&` and `"` mean anything there; Markdown's `_*[]()~>#+-=|{}.!` are plain characters.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A command in a message: its name (lowercase, without `/` and `@bot`) and the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Command<'a> {
    pub name: String,
    pub args: &'a str,
    /// Written `/name@OurBot`: addressed to us by name (in a group, others see it too).
    pub addressed: bool,
}

/// Reads `/name[@bot] args`. A command addressed to another bot (`/x@OtherBot`) is not ours;
/// when `bot_username` is not configured any addressee is accepted.
pub fn parse_command<'a>(text: &'a str, bot_username: &str) -> Option<Command<'a>> {
    let text = text.trim_start();
    let rest = text.strip_prefix('/')?;
    let (head, args) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(h, a)| (h, a.trim()));
    let (name, addressee) = head
        .split_once('@')
        .map_or((head, None), |(n, b)| (n, Some(b)));
    if let Some(bot) = addressee {
        if !bot_username.is_empty() && !bot.eq_ignore_ascii_case(bot_username) {
            return None;
        }
    }
    if name.is_empty()
        || name.len() > 32
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    Some(Command {
        name: name.to_ascii_lowercase(),
        args,
        addressed: addressee.is_some(),
    })
}

/// A failure that makes the update be handled again later (the database is out of reach).
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Account(String),
}

impl From<AccountError> for HandleError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Db(e) => Self::Db(e),
            other => Self::Account(other.to_string()),
        }
    }
}

/// What the player is told when an account operation is refused; database failures are retried.
fn refusal(e: AccountError) -> Result<String, HandleError> {
    match e {
        AccountError::Db(e) => Err(HandleError::Db(e)),
        e @ AccountError::Hash(_) => Err(e.into()),
        AccountError::Invalid(m)
        | AccountError::Conflict(m)
        | AccountError::Unauthorized(m)
        | AccountError::Forbidden(m)
        | AccountError::NotFound(m) => Ok(capitalise(&m)),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

const HELP: &str = "GoatedVIPs bot\n\
/stats - your wager, ranks, VIP tier and race place\n\
/leaderboard [today|week|month|all] - the top 10\n\
/race - the monthly wager race\n\
/play - the affiliate link to play on Goated\n\
/notify on|off - race notifications (new leader, your paid place, your result)\n\
/website - the GoatedVIPs website\n\
/link <code> - link this Telegram account (get the code on your account page)\n\
/verify <Goated name> - ask to link your Goated account (an admin approves)\n\
/help - this list";

const WELCOME: &str = "Welcome to GoatedVIPs!\n\n\
I show the Goated wager leaderboard and the monthly wager race, your own wager, ranks and VIP \
tier, and link this Telegram account to your GoatedVIPs account.\n\n\
Get a link code on your account page and send /link <code> (or open the link there), then \
/stats. /help lists every command.";

const ADMIN_HELP: &str = "\n\nAdmin:\n/pending - link requests waiting\n\
/approve <id> - approve a link request\n/reject <id> [note] - reject one\n\
/broadcast <text> - a message to every linked user (alone: how the last one went)\n\
/bonus - the active bonus codes";

/// Handles one stored update; returns the calls to queue.
pub async fn handle(bot: &Telegram, update: &Value) -> Result<Vec<Outgoing>, HandleError> {
    if let Some(message) = update.get("message") {
        let mut message = message.clone();
        if let Some(id) = update.get("update_id") {
            message[UPDATE_ID] = id.clone();
        }
        return on_message(bot, &message).await;
    }
    if let Some(query) = update.get("callback_query") {
        return on_callback(bot, query).await;
    }
    // Edited messages (commands are not run twice), channel posts, membership changes and
    // every other kind: stored and acknowledged, nothing to answer.
    Ok(Vec::new())
}

async fn on_message(bot: &Telegram, message: &Value) -> Result<Vec<Outgoing>, HandleError> {
    let (Some(chat_id), Some(from_id)) = (
        message.pointer("/chat/id").and_then(Value::as_i64),
        message.pointer("/from/id").and_then(Value::as_i64),
    ) else {
        return Ok(Vec::new());
    };
    if message.pointer("/from/is_bot").and_then(Value::as_bool) == Some(true) {
        return Ok(Vec::new());
    }
    let private = message.pointer("/chat/type").and_then(Value::as_str) == Some("private");
    let username = message.pointer("/from/username").and_then(Value::as_str);
    let Some(text) = message.get("text").and_then(Value::as_str) else {
        return Ok(Vec::new());
    };
    if !private {
        let cfg = bot.config.load();
        let allowed = &cfg.config.telegram.allowed_groups;
        if !allowed.is_empty() && !allowed.contains(&chat_id) {
            return Ok(Vec::new());
        }
    }
    let bot_username = bot.username().await;
    let Some(cmd) = parse_command(text, &bot_username) else {
        return Ok(Vec::new());
    };
    let reply = |text: String| Ok(vec![Outgoing::message(chat_id, text)]);
    if private {
        // Writing to the bot again means it is not blocked (any more).
        let conn = crate::db::leaderboard::conn(&bot.pool).await?;
        crate::db::telegram::clear_blocked(&*conn, chat_id).await?;
    }
    if let Some(note) = over_limit(bot, from_id, chat_id, private).await? {
        return Ok(note
            .map(|text| Outgoing::message(chat_id, text))
            .into_iter()
            .collect());
    }
    let user = bot.linked_user(from_id).await?;
    match cmd.name.as_str() {
        "start" | "link" if !cmd.args.is_empty() => {
            if !private {
                return reply("Send your link code to me in a private chat.".into());
            }
            match bot
                .accounts
                .redeem_telegram_code(cmd.args, from_id, username)
                .await
            {
                Ok(user) => reply(format!(
                    "Linked: this Telegram account now belongs to {}. Try /stats.",
                    user.username
                )),
                Err(e) => reply(refusal(e)?),
            }
        }
        "start" => Ok(vec![welcome(bot, chat_id)]),
        "help" => {
            let admin = admin_actor(bot, from_id, user.as_ref()).is_some();
            reply(format!("{HELP}{}", if admin { ADMIN_HELP } else { "" }))
        }
        "notify" => reply(notify(bot, from_id, user.as_ref(), cmd.args).await?),
        "play" => Ok(vec![link_reply(
            chat_id,
            &bot.config.load().config.telegram.affiliate_url,
            "Play on Goated",
            "The affiliate link is not set up yet.",
        )]),
        "website" | "site" => Ok(vec![link_reply(
            chat_id,
            &bot.config.load().config.telegram.site_url,
            "GoatedVIPs website",
            "The website address is not set up yet.",
        )]),
        "link" => reply("Send /link <code> with the code from your account page.".into()),
        "verify" => reply(verify(bot, user.as_ref(), cmd.args).await?),
        "stats" | "me" => reply(stats(bot, user.as_ref())),
        "leaderboard" | "top" => {
            let (text, keyboard) = leaderboard(bot, cmd.args);
            Ok(vec![
                Outgoing::message(chat_id, text).with_keyboard(keyboard)
            ])
        }
        "race" => reply(race(bot, user.as_ref())),
        "pending" | "approve" | "reject" | "broadcast" | "bonus" => {
            let update_id = update_id_of(message);
            admin_command(bot, chat_id, from_id, user.as_ref(), &cmd, update_id).await
        }
        // In a group, `/typo` may be meant for another bot there: answered only when it names us.
        _ if private || cmd.addressed => {
            reply("Unknown command. /help lists what I can do.".into())
        }
        _ => Ok(Vec::new()),
    }
}

/// The URL buttons of the site and the affiliate link, those configured.
fn link_buttons(bot: &Telegram) -> Vec<Value> {
    let cfg = bot.config.load();
    let tg = &cfg.config.telegram;
    [
        (&tg.affiliate_url, "Play on Goated"),
        (&tg.site_url, "Website"),
    ]
    .into_iter()
    .filter(|(url, _)| !url.is_empty())
    .map(|(url, text)| json!({"text": text, "url": url}))
    .collect()
}

fn welcome(bot: &Telegram, chat_id: i64) -> Outgoing {
    let buttons = link_buttons(bot);
    let out = Outgoing::message(chat_id, WELCOME);
    if buttons.is_empty() {
        out
    } else {
        out.with_keyboard(json!([buttons]))
    }
}

/// `/play`, `/website`: the link (also as a button), or `missing` when it is not configured.
fn link_reply(chat_id: i64, url: &str, label: &str, missing: &str) -> Outgoing {
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

/// The per-user command limit, then the group cooldown: `None` to go on, `Some(Some(note))` to
/// answer only the note (the first time over in a window), `Some(None)` to stay quiet.
async fn over_limit(
    bot: &Telegram,
    from_id: i64,
    chat_id: i64,
    private: bool,
) -> Result<Option<Option<String>>, HandleError> {
    use crate::db::telegram::{hit_limit, Limit};
    let tg = bot.config.load().config.telegram.clone();
    let now = bot.clock.now();
    let conn = crate::db::leaderboard::conn(&bot.pool).await?;
    let user = hit_limit(
        &*conn,
        &format!("u:{from_id}"),
        now,
        tg.command_window_secs as i64,
        tg.command_limit as i32,
    )
    .await?;
    let window = tg.command_window_secs;
    match user {
        Limit::Allowed => {}
        Limit::Warn => {
            return Ok(Some(Some(format!(
                "Easy there - at most {} commands every {window} seconds, please. \
                 I will answer again in a few seconds.",
                tg.command_limit
            ))))
        }
        Limit::Quiet => return Ok(Some(None)),
    }
    if private || tg.group_cooldown_secs == 0 {
        return Ok(None);
    }
    let cooldown = tg.group_cooldown_secs;
    Ok(
        match hit_limit(&*conn, &format!("g:{chat_id}"), now, cooldown as i64, 1).await? {
            Limit::Allowed => None,
            Limit::Warn => Some(Some(format!(
                "One command every {cooldown} seconds in this group, please."
            ))),
            Limit::Quiet => Some(None),
        },
    )
}

/// `/notify on|off`: race notifications for this Telegram user.
async fn notify(
    bot: &Telegram,
    from_id: i64,
    user: Option<&User>,
    args: &str,
) -> Result<String, HandleError> {
    let on = match args.trim().to_ascii_lowercase().as_str() {
        "on" => true,
        "off" => false,
        _ => return Ok("Send /notify on or /notify off.".into()),
    };
    let conn = crate::db::leaderboard::conn(&bot.pool).await?;
    crate::db::telegram::set_notify(&*conn, from_id, on, bot.clock.now()).await?;
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

async fn verify(bot: &Telegram, user: Option<&User>, args: &str) -> Result<String, HandleError> {
    let Some(user) = user else {
        return Ok(NOT_LINKED.into());
    };
    if args.is_empty() {
        return Ok("Send /verify <your Goated name>.".into());
    }
    let snap = bot.board.snapshot();
    match bot
        .accounts
        .request_goated_link(user, GoatedRef::Name(args.to_string()), |t| {
            views::find_goated(&snap, t)
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

fn stats(bot: &Telegram, user: Option<&User>) -> String {
    let Some(user) = user else {
        return NOT_LINKED.into();
    };
    let Some(uid) = &user.goated_uid else {
        return "No Goated account is linked yet: send /verify <your Goated name>.".into();
    };
    let cfg = bot.config.load().config.clone();
    let snap = bot.board.snapshot();
    let Some(p) = views::player(&snap, &cfg, bot.clock.now(), uid) else {
        return "Your Goated account is not in the current leaderboard data.".into();
    };
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
    match p.race {
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
fn leaderboard(bot: &Telegram, args: &str) -> (String, Value) {
    let key = match args.trim().to_ascii_lowercase().as_str() {
        "today" | "day" => "today",
        "week" | "weekly" => "week",
        "month" | "monthly" => "month",
        "all" | "alltime" | "all_time" => "all",
        _ => "race",
    };
    let cfg = bot.config.load().config.clone();
    let snap = bot.board.snapshot();
    let now = bot.clock.now();
    let mut text = String::new();
    if key == "race" {
        let view = views::current_race(&snap, &cfg, now);
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
        let page = views::leaderboard_page(&snap, &cfg, period, 1, 10);
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

/// `3d 4h 5m`.
fn time_left(seconds: i64) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else {
        format!("{h}h {m}m")
    }
}

/// The race and, for a linked player, their place: wager, the gap to the place above, the
/// prize of the place, the time left.
fn race(bot: &Telegram, user: Option<&User>) -> String {
    let cfg = bot.config.load().config.clone();
    let snap = bot.board.snapshot();
    let now = bot.clock.now();
    let view = views::current_race(&snap, &cfg, now);
    let mut text = format!(
        "Race {}: prize pool {} {}, {} players, ends {}\nTime left: {}",
        view.id,
        view.prize_pool,
        view.currency,
        view.participant_count,
        view.end.format("%Y-%m-%d %H:%M UTC"),
        time_left(view.seconds_left),
    );
    let Some(user) = user else {
        text.push_str("\nLink your account (/link) to see your place.");
        return text;
    };
    let Some(uid) = &user.goated_uid else {
        text.push_str("\nLink your Goated account (/verify <name>) to see your place.");
        return text;
    };
    let Some(me) = views::player(&snap, &cfg, now, uid).and_then(|p| p.race) else {
        text.push_str("\nYou have no wager in this race yet.");
        return text;
    };
    text.push_str(&format!(
        "\nYour place: #{}, wagered {}",
        me.rank, me.wagered
    ));
    let place = |rank: u32| view.participants.iter().find(|p| p.rank == rank);
    if me.rank > 1 {
        match place(me.rank - 1) {
            Some(above) => text.push_str(&format!(
                "\nGap to #{}: {}",
                above.rank,
                crate::domain::amount::Amount(above.wagered.0 - me.wagered.0)
            )),
            None => text.push_str(&format!("\nGap to #{}: unknown", me.rank - 1)),
        }
    } else if let Some(second) = place(2) {
        text.push_str(&format!(
            "\nYou lead #2 by {}",
            crate::domain::amount::Amount(me.wagered.0 - second.wagered.0)
        ));
    }
    match me.prize {
        Some(prize) => text.push_str(&format!("\nPrize for this place: {prize}")),
        None => text.push_str("\nThis place is not paid."),
    }
    text
}

/// What an admin is shown of a pending link request.
#[derive(Debug, Clone, Copy)]
pub struct RequestCard<'a> {
    pub id: i64,
    pub username: &'a str,
    pub goated_name: &'a str,
    pub goated_uid: &'a str,
}

impl<'a> From<&'a crate::accounts::linking::LinkRequest> for RequestCard<'a> {
    fn from(r: &'a crate::accounts::linking::LinkRequest) -> Self {
        Self {
            id: r.id,
            username: &r.username,
            goated_name: &r.goated_name,
            goated_uid: &r.goated_uid,
        }
    }
}

/// The text and buttons of a pending link request, for admins.
pub fn request_card(chat_id: i64, r: RequestCard<'_>) -> Outgoing {
    Outgoing::message(
        chat_id,
        format!(
            "Link request #{}: account {} asks for Goated {} ({})",
            r.id, r.username, r.goated_name, r.goated_uid
        ),
    )
    .with_keyboard(json!([[
        {"text": "Approve", "callback_data": format!("approve:{}", r.id)},
        {"text": "Reject", "callback_data": format!("reject:{}", r.id)},
    ]]))
}

/// A bot admin: a Telegram user linked to an enabled admin account, or one listed in
/// `telegram.admin_ids` (audited as `telegram:<id>`).
fn admin_actor(bot: &Telegram, from_id: i64, user: Option<&User>) -> Option<Actor> {
    match user {
        Some(u) if u.role == crate::accounts::Role::Admin => Some(Actor::user(u, None)),
        _ if bot
            .config
            .load()
            .config
            .telegram
            .admin_ids
            .contains(&from_id) =>
        {
            Some(Actor {
                user_id: None,
                name: format!("telegram:{from_id}"),
                ip: None,
            })
        }
        _ => None,
    }
}

/// The `update_id` the handler put beside the message (see [`handle`]).
fn update_id_of(message: &Value) -> i64 {
    message
        .get(UPDATE_ID)
        .and_then(Value::as_i64)
        .unwrap_or_default()
}

const UPDATE_ID: &str = "__update_id";

async fn admin_command(
    bot: &Telegram,
    chat_id: i64,
    from_id: i64,
    user: Option<&User>,
    cmd: &Command<'_>,
    update_id: i64,
) -> Result<Vec<Outgoing>, HandleError> {
    let Some(admin) = admin_actor(bot, from_id, user) else {
        return Ok(vec![Outgoing::message(chat_id, "Only admins may do that.")]);
    };
    if cmd.name == "bonus" {
        let codes = match bot.accounts.active_bonus_codes().await {
            Ok(c) => c,
            Err(e) => return Ok(vec![Outgoing::message(chat_id, refusal(e)?)]),
        };
        let mut text = format!("{} active bonus code(s)", codes.len());
        for c in &codes {
            text.push_str(&format!(
                "\n{} - {} (reward {}, wager {}, {}/{} claimed, expires {})",
                c.code,
                c.description,
                c.reward,
                c.wager_requirement,
                c.claims,
                c.max_claims,
                c.expires_at.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        return Ok(vec![Outgoing::message(chat_id, text)]);
    }
    if cmd.name == "broadcast" {
        return broadcast(bot, chat_id, &admin, cmd.args, update_id).await;
    }
    if cmd.name == "pending" {
        let (requests, total) = match bot.accounts.link_requests(Some("pending"), 10, 0).await {
            Ok(r) => r,
            Err(e) => return Ok(vec![Outgoing::message(chat_id, refusal(e)?)]),
        };
        let mut out = vec![Outgoing::message(
            chat_id,
            format!("{total} link request(s) pending."),
        )];
        out.extend(requests.iter().map(|r| request_card(chat_id, r.into())));
        return Ok(out);
    }
    let (id, note) = cmd
        .args
        .split_once(char::is_whitespace)
        .map_or((cmd.args, ""), |(i, n)| (i, n.trim()));
    let Ok(id) = id.trim_start_matches('#').parse::<i64>() else {
        return Ok(vec![Outgoing::message(
            chat_id,
            format!("Send /{} <request id>.", cmd.name),
        )]);
    };
    let decision = if cmd.name == "approve" {
        Decision::Approve
    } else {
        Decision::Reject
    };
    let text = decide(
        bot,
        &admin,
        id,
        decision,
        (!note.is_empty()).then_some(note),
    )
    .await?;
    Ok(vec![Outgoing::message(chat_id, text)])
}

/// `/broadcast TEXT`: one message to every linked user who has not blocked the bot, queued
/// with this update's replies (so once); audited. `/broadcast` alone reports how the last one
/// went: sent, failed, still queued.
async fn broadcast(
    bot: &Telegram,
    chat_id: i64,
    admin: &Actor,
    text: &str,
    update_id: i64,
) -> Result<Vec<Outgoing>, HandleError> {
    use crate::db::telegram as q;
    let conn = crate::db::leaderboard::conn(&bot.pool).await?;
    if text.is_empty() {
        let Some(last) = q::last_broadcast(&*conn).await? else {
            return Ok(vec![Outgoing::message(
                chat_id,
                "No broadcast yet. Send /broadcast <text>.",
            )]);
        };
        let (sent, failed, pending) = q::delivery_of_update(&*conn, last, chat_id).await?;
        return Ok(vec![Outgoing::message(
            chat_id,
            format!("Last broadcast: {sent} sent, {failed} failed, {pending} still queued."),
        )]);
    }
    let chats = q::broadcast_chats(&*conn).await?;
    drop(conn);
    bot.accounts
        .audit(
            admin,
            "telegram.broadcast",
            &format!("update:{update_id}"),
            json!({"text": text, "recipients": chats.len()}),
        )
        .await?;
    let mut out: Vec<Outgoing> = chats
        .iter()
        .map(|&chat| Outgoing::message(chat, text))
        .collect();
    out.push(Outgoing::message(
        chat_id,
        format!(
            "Broadcast queued for {} user(s). Send /broadcast to see how many were sent and failed.",
            chats.len()
        ),
    ));
    Ok(out)
}

async fn decide(
    bot: &Telegram,
    admin: &Actor,
    id: i64,
    decision: Decision,
    note: Option<&str>,
) -> Result<String, HandleError> {
    match bot.accounts.decide_link(admin, id, decision, note).await {
        Ok(r) => Ok(format!(
            "Link request #{} {}: {} - Goated {}.",
            r.id, r.status, r.username, r.goated_name
        )),
        Err(e) => refusal(e),
    }
}

async fn on_callback(bot: &Telegram, query: &Value) -> Result<Vec<Outgoing>, HandleError> {
    let (Some(query_id), Some(from_id)) = (
        query.get("id").and_then(Value::as_str),
        query.pointer("/from/id").and_then(Value::as_i64),
    ) else {
        return Ok(Vec::new());
    };
    let chat_id = query
        .pointer("/message/chat/id")
        .and_then(Value::as_i64)
        .unwrap_or(from_id);
    let answer = |text: &str| Outgoing {
        chat_id,
        method: "answerCallbackQuery",
        params: json!({"callback_query_id": query_id, "text": text}),
    };
    let data = query.get("data").and_then(Value::as_str).unwrap_or("");
    if let Some(board) = data.strip_prefix("lb:") {
        let Some(message_id) = query.pointer("/message/message_id").and_then(Value::as_i64) else {
            return Ok(vec![answer("This message is too old to refresh.")]);
        };
        let (text, keyboard) = leaderboard(bot, board);
        let mut edit = Outgoing::message(chat_id, text).with_keyboard(keyboard);
        edit.method = "editMessageText";
        edit.params["message_id"] = json!(message_id);
        return Ok(vec![answer("Updated."), edit]);
    }
    let parsed = data.split_once(':').and_then(|(verb, id)| {
        let decision = match verb {
            "approve" => Decision::Approve,
            "reject" => Decision::Reject,
            _ => return None,
        };
        id.parse::<i64>().ok().map(|id| (decision, id))
    });
    let Some((decision, id)) = parsed else {
        return Ok(vec![answer("Unknown button.")]);
    };
    let user = bot.linked_user(from_id).await?;
    let Some(admin) = admin_actor(bot, from_id, user.as_ref()) else {
        return Ok(vec![answer("Only admins may do that.")]);
    };
    let text = decide(bot, &admin, id, decision, None).await?;
    Ok(vec![answer(&text), Outgoing::message(chat_id, text)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_parsed_with_and_without_the_bot_name() {
        let c = parse_command("/verify LuckyLlama", "GoatedVIPsBot").unwrap();
        assert_eq!((c.name.as_str(), c.args), ("verify", "LuckyLlama"));
        let c = parse_command("/leaderboard@GoatedVIPsBot", "GoatedVIPsBot").unwrap();
        assert_eq!((c.name.as_str(), c.args), ("leaderboard", ""));
        let c = parse_command("/Start@goatedvipsbot  ABC123 ", "GoatedVIPsBot").unwrap();
        assert_eq!((c.name.as_str(), c.args), ("start", "ABC123"));
        assert_eq!(
            parse_command("/leaderboard@OtherBot", "GoatedVIPsBot"),
            None
        );
        assert!(parse_command("/leaderboard@OtherBot", "").is_some());
        assert!(
            parse_command("/x@GoatedVIPsBot", "GoatedVIPsBot")
                .unwrap()
                .addressed
        );
        assert!(!parse_command("/x", "GoatedVIPsBot").unwrap().addressed);
        for text in ["hello", "", "/", "/ x", "/a-b", "//x"] {
            assert_eq!(parse_command(text, "GoatedVIPsBot"), None, "{text:?}");
        }
    }

    #[test]
    fn html_escaping_keeps_hostile_names_literal() {
        assert_eq!(escape("<b>x</b>"), "&lt;b&gt;x&lt;/b&gt;");
        assert_eq!(escape("a & \"b\""), "a &amp; &quot;b&quot;");
        let markdown = "_ * [ ] ( ) ~ > # + - = | { } . !";
        assert_eq!(escape(markdown), markdown.replace('>', "&gt;"));
        let out = Outgoing::message(7, "<b>x</b>");
        assert_eq!(out.params["parse_mode"], "HTML");
        assert_eq!(out.params["text"], "&lt;b&gt;x&lt;/b&gt;");
    }

    #[test]
    fn refusals_keep_the_service_message() {
        let text = refusal(AccountError::Invalid(
            "this code is unknown, used or expired".into(),
        ))
        .unwrap();
        assert_eq!(text, "This code is unknown, used or expired");
        assert!(refusal(AccountError::Db(DbError::PoolTimeout)).is_err());
    }
}
