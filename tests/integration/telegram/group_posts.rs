//! What the bot posts to the groups on its own: channel posts re-posted with their goated.com
//! links rewritten to the affiliate link (text and media, once with two daemons; edits and
//! unlisted channels not), and scheduled posts (once per due time with two daemons, once after
//! a downtime), with their admin commands.

use chrono::{DateTime, Utc};

use super::*;

const GROUP_B: i64 = -1009876543210;
const CHANNEL: i64 = -1005550001;
/// A channel listed by its @name.
const NEWS: i64 = -1005550002;
const AFF: &str = "https://goated.com/r/VIPS";

/// The UTF-16 offset and length of `needle` in `text`, as Telegram counts them.
fn span(text: &str, needle: &str) -> (usize, usize) {
    let byte = text.find(needle).expect("needle in text");
    (
        text[..byte].encode_utf16().count(),
        needle.encode_utf16().count(),
    )
}

/// The text an entity of `text` covers.
fn covered(text: &str, entity: &Value) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    let offset = entity["offset"].as_u64().unwrap() as usize;
    let length = entity["length"].as_u64().unwrap() as usize;
    String::from_utf16(&units[offset..offset + length]).unwrap()
}

/// A new post of `channel` (with `username`), `post` holding its text or media fields.
fn channel_post(
    update_id: i64,
    channel: i64,
    username: &str,
    message_id: i64,
    post: Value,
) -> Value {
    let mut p = json!({"message_id": message_id, "date": 1795000000,
        "chat": {"id": channel, "type": "channel", "title": "Goated", "username": username}});
    for (k, v) in post.as_object().unwrap() {
        p[k] = v.clone();
    }
    json!({"update_id": update_id, "channel_post": p})
}

/// The parameters of the calls of `method` to `chat` answered `ok`.
fn calls_to(app: &TestApp, chat: i64, method: &str) -> Vec<Value> {
    app.bot()
        .calls()
        .into_iter()
        .filter(|c| c.method == method && c.status == 200 && c.params["chat_id"] == chat)
        .map(|c| c.params)
        .collect()
}

async fn wait_calls(app: &TestApp, chat: i64, method: &str, n: usize) -> Vec<Value> {
    wait_for(
        &format!("{n} {method} call(s) to {chat}"),
        Duration::from_secs(10),
        || async {
            let calls = calls_to(app, chat, method);
            (calls.len() >= n).then_some(calls)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn channel_posts_reach_each_group_once_with_affiliate_links_on_two_daemons() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_telegram()
        .config("telegram.allowed_groups", vec![LOUNGE, GROUP_B])
        .config(
            "telegram.forward_channels",
            toml::Value::Array(vec![CHANNEL.into(), "@goated_news".into()]),
        )
        .config("telegram.affiliate_url", AFF)
        .config("telegram.chat_interval_ms", 0)
        .start()
        .await;
    let second = app.start_second().await;

    // A text post: an emoji, a bold title, a goated.com link to rewrite, one that already
    // carries the code, a look-alike host, and a hashtag after them.
    let text = "🐐 Weekly promo: https://goated.com/promo or https://www.goated.com/r/vips \
                (not https://goated.com.evil.com/x) #goated";
    let entity = |kind: &str, needle: &str| {
        let (offset, length) = span(text, needle);
        json!({"type": kind, "offset": offset, "length": length})
    };
    let entities = json!([
        entity("bold", "Weekly promo: https://goated.com/promo"),
        entity("url", "https://goated.com/promo"),
        entity("url", "https://www.goated.com/r/vips"),
        entity("url", "https://goated.com.evil.com/x"),
        entity("hashtag", "#goated"),
    ]);
    let post = channel_post(
        1,
        CHANNEL,
        "goatedcom",
        40,
        json!({"text": text, "entities": entities}),
    );
    // Telegram delivers it to both daemons' webhooks (behind a load balancer, retried).
    let (first, again) = tokio::join!(
        app.telegram_update(&post),
        post_update(second.addr, &post, Some(WEBHOOK_SECRET))
    );
    assert_eq!((first.0, again.0), (200, 200));
    // The same post delivered again under another update id, to one daemon only.
    let mut redelivered = post.clone();
    redelivered["update_id"] = json!(2);
    post_update(second.addr, &redelivered, Some(WEBHOOK_SECRET)).await;

    let expected = format!(
        "🐐 Weekly promo: {AFF} or https://www.goated.com/r/vips \
         (not https://goated.com.evil.com/x) #goated"
    );
    for group in [LOUNGE, GROUP_B] {
        let sent = wait_calls(&app, group, "sendMessage", 1).await;
        let params = &sent[0];
        assert_eq!(params["text"], expected.as_str());
        assert!(
            params.get("parse_mode").is_none(),
            "entities, no parse mode"
        );
        let shown: Vec<String> = params["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| covered(&expected, e))
            .collect();
        assert_eq!(
            shown,
            [
                format!("Weekly promo: {AFF}"),
                AFF.to_string(),
                "https://www.goated.com/r/vips".into(),
                "https://goated.com.evil.com/x".into(),
                "#goated".into(),
            ]
        );
        assert_eq!(params["entities"][0]["type"], "bold");
    }

    // A photo from the channel listed by its @name, to one daemon: copied with its caption
    // rewritten.
    let caption = "Claim it at goated.com/bonus 🎁";
    let (offset, length) = span(caption, "goated.com/bonus");
    let photo = channel_post(
        3,
        NEWS,
        "Goated_News",
        7,
        json!({"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}],
               "caption": caption,
               "caption_entities": [{"type": "url", "offset": offset, "length": length}]}),
    );
    post_update(second.addr, &photo, Some(WEBHOOK_SECRET)).await;
    let new_caption = format!("Claim it at {AFF} 🎁");
    for group in [LOUNGE, GROUP_B] {
        let copied = wait_calls(&app, group, "copyMessage", 1).await;
        assert_eq!(copied[0]["from_chat_id"], NEWS);
        assert_eq!(copied[0]["message_id"], 7);
        assert_eq!(copied[0]["caption"], new_caption.as_str());
        assert_eq!(
            covered(&new_caption, &copied[0]["caption_entities"][0]),
            AFF
        );
    }

    // An edit of the first post, and a post of a channel not listed: nothing goes out.
    app.telegram_update(&json!({"update_id": 4, "edited_channel_post": {
        "message_id": 40, "date": 1795000000, "edit_date": 1795000100,
        "chat": {"id": CHANNEL, "type": "channel", "username": "goatedcom"},
        "text": "Edited: https://goated.com/promo2"}}))
        .await;
    app.telegram_update(&channel_post(
        5,
        -1007777777,
        "someone_else",
        1,
        json!({"text": "Elsewhere https://goated.com"}),
    ))
    .await;
    wait_idle(&app, 5).await;
    for group in [LOUNGE, GROUP_B] {
        assert_eq!(
            calls_to(&app, group, "sendMessage").len(),
            1,
            "once, not edited"
        );
        assert_eq!(calls_to(&app, group, "copyMessage").len(), 1);
    }
    let to_channels = app
        .bot()
        .calls()
        .into_iter()
        .filter(|c| {
            [CHANNEL, NEWS, -1007777777].contains(&c.params["chat_id"].as_i64().unwrap_or(0))
        })
        .count();
    assert_eq!(to_channels, 0, "nothing is answered in the channels");
    drop(second);
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_posts_go_out_once_per_due_time_on_two_daemons_and_once_after_a_downtime() {
    let start = utc("2026-12-04T10:00:00Z");
    let app = TestApp::builder()
        .with_fake_telegram()
        .clock(start)
        .config("telegram.allowed_groups", vec![LOUNGE, GROUP_B])
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.chat_interval_ms", 0)
        .config("race.timezone", "America/New_York")
        .start()
        .await;
    let second = app.start_second().await;
    let say = |id: i64, from: i64, text: &str| message(id, from, None, text);

    app.telegram_update(&say(
        1,
        ADMIN_TG,
        "/schedule every 6h | Race ends <Sunday> & more!",
    ))
    .await;
    assert_eq!(
        app.bot().wait_texts(ADMIN_TG, 1).await[0],
        "Schedule #1 made: every 6h, first post Fri 4 Dec 2026 11:00 EST. It goes to 2 \
         group(s). /unschedule 1 removes it."
    );
    // The daily time is New York's (EST in December).
    post_update(
        second.addr,
        &say(2, ADMIN_TG, "/schedule daily 18:00 | Daily reminder"),
        Some(WEBHOOK_SECRET),
    )
    .await;
    assert!(app.bot().wait_texts(ADMIN_TG, 2).await[1]
        .starts_with("Schedule #2 made: daily 18:00, first post Fri 4 Dec 2026 18:00 EST."));
    // Nothing is due yet.
    wait_idle(&app, 2).await;
    assert!(app.bot().texts_to(LOUNGE).is_empty());

    // 16:00 UTC: the first schedule is due; both daemons look, one posts to each group.
    app.clock().set(start + chrono::Duration::hours(6));
    for group in [LOUNGE, GROUP_B] {
        assert_eq!(
            app.bot().wait_texts(group, 1).await,
            ["Race ends <Sunday> & more!"]
        );
    }

    // Ten days down, then back: each schedule posts once, not once per missed time.
    app.clock().set(utc("2026-12-14T13:00:00Z"));
    for group in [LOUNGE, GROUP_B] {
        let mut texts = app.bot().wait_texts(group, 3).await;
        texts.sort();
        assert_eq!(
            texts,
            [
                "Daily reminder",
                "Race ends <Sunday> & more!",
                "Race ends <Sunday> & more!"
            ]
        );
    }
    app.telegram_update(&say(3, ADMIN_TG, "/schedules")).await;
    let listed = app.bot().wait_texts(ADMIN_TG, 3).await[2].clone();
    assert_eq!(
        listed,
        "2 scheduled posts:\n\
         #1 every 6h - next Mon 14 Dec 2026 11:00 EST - Race ends <Sunday> & more!\n\
         #2 daily 18:00 - next Mon 14 Dec 2026 18:00 EST - Daily reminder"
    );
    wait_idle(&app, 3).await;
    for group in [LOUNGE, GROUP_B] {
        assert_eq!(app.bot().texts_to(group).len(), 3, "one catch-up post each");
    }

    // Removed, it posts no more; the changes are audited.
    app.telegram_update(&say(4, ADMIN_TG, "/unschedule 1"))
        .await;
    assert_eq!(
        app.bot().wait_texts(ADMIN_TG, 4).await[3],
        "Schedule #1 removed (every 6h: Race ends <Sunday> & more!)."
    );
    app.clock().set(utc("2026-12-15T12:00:00Z"));
    for group in [LOUNGE, GROUP_B] {
        assert_eq!(app.bot().wait_texts(group, 4).await[3], "Daily reminder");
    }
    wait_idle(&app, 4).await;
    assert_eq!(app.bot().texts_to(LOUNGE).len(), 4);
    let actions = schedule_audit(&app).await;
    let admin = format!("telegram:{ADMIN_TG}");
    assert_eq!(
        actions,
        [
            format!("telegram.schedule.create schedule:1 {admin}"),
            format!("telegram.schedule.create schedule:2 {admin}"),
            format!("telegram.schedule.remove schedule:1 {admin}"),
        ]
    );
    drop(second);
}

#[tokio::test(flavor = "multi_thread")]
async fn schedule_commands_answer_bad_arguments_with_the_usage_and_refuse_players() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_telegram()
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.chat_interval_ms", 0)
        .start()
        .await;
    let cases = [
        (
            "/schedule",
            "Not scheduled: the schedule and the text are missing.",
        ),
        (
            "/schedule every 6h Race tonight",
            "Not scheduled: put a | between the schedule and the text.",
        ),
        (
            "/schedule every 5m | Too often",
            "Not scheduled: the period must be at least 15 minutes and at most 30 days.",
        ),
        (
            "/schedule every 31d | Too rare",
            "Not scheduled: the period must be at least 15 minutes and at most 30 days.",
        ),
        (
            "/schedule daily 25:00 | Never",
            "Not scheduled: the time of day is HH:MM from 00:00 to 23:59, e.g. 18:00.",
        ),
        ("/schedule weekly 18:00 | x", "Not scheduled: say `every"),
        (
            "/schedule every 6h |   ",
            "Not scheduled: the text to post is empty.",
        ),
        (
            "/unschedule",
            "Usage: /unschedule <id>, with an id from /schedules. Not removed: the id is missing.",
        ),
        (
            "/unschedule abc",
            "Not removed: \"abc\" is not a schedule id.",
        ),
        (
            "/unschedule 99",
            "Not removed: there is no schedule #99. /schedules lists them.",
        ),
        // Periods no duration can hold: refused, not a panic (the update would go unanswered).
        (
            "/schedule every -200000000000d | x",
            "Not scheduled: the period is a whole number and a unit",
        ),
        (
            "/schedule every -9999999999999h | x",
            "Not scheduled: the period is a whole number and a unit",
        ),
        (
            "/schedule every 200000000000d | x",
            "Not scheduled: the period must be at least 15 minutes and at most 30 days.",
        ),
        ("/schedules", "No scheduled posts. /schedule makes one."),
        (
            "/schedules all",
            "Usage: /schedules, alone: it lists every scheduled post. It takes no argument, \
             not \"all\".",
        ),
        (
            "/cancel now",
            "Usage: /cancel, alone: it leaves the question you are answering. It takes no \
             argument, not \"now\": nothing was left.",
        ),
    ];
    for (i, (command, expected)) in cases.iter().enumerate() {
        app.telegram_update(&message(i as i64 + 1, ADMIN_TG, None, command))
            .await;
        let answer = app.bot().wait_texts(ADMIN_TG, i + 1).await[i].clone();
        assert!(answer.contains(expected), "{command}: {answer}");
        if command.starts_with("/schedule ") || *command == "/schedule" {
            assert!(
                answer.starts_with("Usage: /schedule every <number><m|h|d> | <text>"),
                "{command}: {answer}"
            );
        }
    }
    // Players may not schedule, list or remove.
    for (i, command) in ["/schedule every 6h | Spam", "/schedules", "/unschedule 1"]
        .iter()
        .enumerate()
    {
        app.telegram_update(&message(100 + i as i64, LUCY, None, command))
            .await;
        assert_eq!(
            app.bot().wait_texts(LUCY, i + 1).await[i],
            "Only admins may do that."
        );
    }
    let db = app.db().client().await;
    let stored: i64 = db
        .query_one("SELECT count(*) FROM telegram_schedules", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_list_of_schedules_fits_one_message_and_an_unreadable_one_is_parked_once() {
    let start = utc("2026-12-04T10:00:00Z");
    let app = TestApp::builder()
        .with_fake_telegram()
        .clock(start)
        .config("telegram.allowed_groups", vec![LOUNGE])
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.chat_interval_ms", 0)
        .start()
        .await;
    let db = app.db().client().await;
    // Sixty schedules with long texts: far more than one Telegram message (4096 characters).
    db.execute(
        "INSERT INTO telegram_schedules (spec, text, next_due, created_by, created_at) \
         SELECT 'every 6h', 'Post ' || n || ' ' || repeat('x', 80), $1, 'test', $2 \
         FROM generate_series(1, 60) n",
        &[&(start + chrono::Duration::hours(6)), &start],
    )
    .await
    .unwrap();
    app.telegram_update(&message(1, ADMIN_TG, None, "/schedules"))
        .await;
    let listed = app.bot().wait_texts(ADMIN_TG, 1).await[0].clone();
    assert!(
        listed.starts_with("60 scheduled posts:\n#1 every 6h"),
        "{listed}"
    );
    assert!(listed.chars().count() <= 3700, "{}", listed.chars().count());
    let shown = listed.lines().filter(|l| l.starts_with('#')).count();
    assert!(shown >= 10, "{listed}");
    assert_eq!(
        listed.lines().last().unwrap(),
        format!("… and {} more (all on /admin).", 60 - shown)
    );

    // A hand-edited row whose rhythm cannot be read, due now: never posted, and moved out of
    // the way once instead of being read again on every turn.
    db.execute("DELETE FROM telegram_schedules", &[])
        .await
        .unwrap();
    db.execute(
        "INSERT INTO telegram_schedules (spec, text, next_due, created_by, created_at) \
         VALUES ('every now and then', 'Broken', $1, 'test', $1)",
        &[&start],
    )
    .await
    .unwrap();
    let parked: DateTime<Utc> = wait_for(
        "the unreadable schedule moved",
        Duration::from_secs(10),
        || async {
            let due: DateTime<Utc> = db
                .query_one("SELECT next_due FROM telegram_schedules", &[])
                .await
                .unwrap()
                .get(0);
            (due > start).then_some(due)
        },
    )
    .await;
    assert!(
        parked > start + chrono::Duration::days(365 * 50),
        "{parked}"
    );
    let posted: Option<DateTime<Utc>> = db
        .query_one("SELECT last_posted_at FROM telegram_schedules", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(posted, None);
    assert!(app.bot().texts_to(LOUNGE).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_page_lists_makes_and_removes_scheduled_posts_without_javascript() {
    use crate::web::{form_post, page};
    let start = utc("2026-12-04T10:00:00Z");
    let app = TestApp::builder()
        .with_fake_telegram()
        .clock(start)
        .config("telegram.allowed_groups", vec![LOUNGE])
        .config("telegram.chat_interval_ms", 0)
        .start()
        .await;
    let admin = admin_session(&app, "boss").await;
    let player = register(&app, "punter").await;
    let own = app.url("").trim_end_matches('/').to_string();
    // The new-schedule form posted by `session` from `origin`.
    let schedule = |session: &str, origin: &str, spec: &str, text: &str| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("spec", spec), ("text", text)])
            .finish();
        let (app, session, origin) = (&app, session.to_string(), origin.to_string());
        async move { form_post(app, "/admin/schedules", &session, Some(&origin), &body).await }
    };

    let (status, _, body) = page(&app, "/admin", Some(&admin)).await;
    assert_eq!(status, 200);
    for want in [
        "id=\"schedules\"",
        "action=\"/admin/schedules\"",
        "No scheduled posts.",
    ] {
        assert!(body.contains(want), "the admin page has {want}");
    }

    // Refused: the form again as typed, with what was wrong; players and other sites refused.
    let (status, body) = schedule(&admin, &own, "every 10m", "Too often").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("Not scheduled: the period must be at least 15 minutes and at most 30 days")
    );
    assert!(body.contains("value=\"every 10m\"") && body.contains("Too often"));
    // A period no duration can hold: the same refusal, not a 500.
    let (status, body) = schedule(&admin, &own, "every -9999999999999h", "Never").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Not scheduled: the period is a whole number and a unit"));
    let (status, _) = schedule(&player, &own, "every 2h", "x").await;
    assert_eq!(status, 403);
    let (status, _) = schedule(&admin, "https://evil.example", "every 2h", "x").await;
    assert_eq!(status, 403);

    let (status, _) = schedule(&admin, &own, "every 2h", "Race <tonight>").await;
    assert_eq!(status, 303);
    let (_, _, body) = page(&app, "/admin?schedule=1", Some(&admin)).await;
    assert!(body.contains("Scheduled post #1 saved."), "{body}");
    assert!(body.contains("every 2h") && body.contains("Race &lt;tonight&gt;"));
    assert!(body.contains("Fri 4 Dec 2026 12:00 UTC"), "the next time");
    assert!(body.contains("action=\"/admin/schedules/1/remove\""));

    // Due two hours later: posted to the group.
    app.clock().set(start + chrono::Duration::hours(2));
    assert_eq!(app.bot().wait_texts(LOUNGE, 1).await, ["Race <tonight>"]);

    let (status, _) = form_post(&app, "/admin/schedules/1/remove", &player, Some(&own), "").await;
    assert_eq!(status, 403);
    let (status, _) = form_post(&app, "/admin/schedules/1/remove", &admin, Some(&own), "").await;
    assert_eq!(status, 303);
    let (_, _, body) = page(&app, "/admin", Some(&admin)).await;
    assert!(body.contains("No scheduled posts."));
    let (status, body) = form_post(&app, "/admin/schedules/1/remove", &admin, Some(&own), "").await;
    assert_eq!(status, 404);
    assert!(body.contains("There is no scheduled post #1."));
    let audited = schedule_audit(&app).await;
    assert_eq!(
        audited,
        [
            "telegram.schedule.create schedule:1 boss",
            "telegram.schedule.remove schedule:1 boss"
        ]
    );
}

/// The audit of scheduled posts: `action target actor`, oldest first.
async fn schedule_audit(app: &TestApp) -> Vec<String> {
    let db = app.db().client().await;
    db.query(
        "SELECT action || ' ' || target || ' ' || actor FROM audit_log \
         WHERE action LIKE 'telegram.schedule%' ORDER BY id",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}
