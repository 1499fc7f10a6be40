//! The site's own pages and what players expect around them: Markdown pages of
//! `web.pages_dir` rendered harmless, titled by their first heading, listed in the footer and
//! read again on reload (not per request); a missing directory or a bad file answering 404 for
//! that name while the daemon serves on; `/vip` for a visitor and for a linked player; the
//! account page's race notifications switch, which is the bot's `/notify`; share tags on a
//! player page; the home page's top player cards.

use std::path::Path;

use serde_json::json;

use crate::accounts::register;
use crate::harness::{FakeMode, TestApp};
use crate::web::{page, site};

/// Markdown that tries everything a page must not do.
const HOSTILE: &str = "# Hostile *page*\n\nFirst words of it.\n\n<script>alert(1)</script>\n\n\
    [js](javascript:alert(2)) [data](data:text/html,x) [vb](vbscript:msgbox(3)) \
    [ok](https://goated.com) <a href=\"javascript:alert(4)\">raw</a> <img src=x onerror=alert(6)>\n";

/// A daemon serving `dir` as its pages (and demo data).
async fn with_pages(dir: &Path) -> TestApp {
    TestApp::builder()
        .config("web.pages_dir", dir.display().to_string())
        .start()
        .await
}

/// The page's `<article>`: the rendered Markdown.
fn article(body: &str) -> &str {
    let start = body.find("<article").expect("an article");
    let end = start + body[start..].find("</article>").expect("its end");
    &body[start..end]
}

/// The page's footer.
fn footer(body: &str) -> &str {
    &body[body.find("<footer").expect("a footer")..]
}

fn reload(app: &TestApp) {
    let out = app.ctl(&["reload"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[tokio::test]
async fn markdown_pages_are_rendered_harmless_titled_and_listed_in_the_footer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hostile.md"), HOSTILE).unwrap();
    std::fs::write(
        dir.path().join("faq.md"),
        "Intro.\n\n## Questions & answers\n",
    )
    .unwrap();
    let app = with_pages(dir.path()).await;

    let (status, headers, body) = page(&app, "/p/hostile", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<title>Hostile page · GoatedVIPs</title>"),
        "{body}"
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let html = article(&body);
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    // One anchor is left, the https one; the others keep only their text.
    assert_eq!(html.matches("<a ").count(), 1, "{html}");
    assert!(
        html.contains(r#"<a href="https://goated.com" rel="nofollow noopener">ok</a>"#),
        "{html}"
    );
    for text in ["js", "data", "vb"] {
        assert!(html.contains(&format!(" {text} ")) || html.contains(&format!(">{text} ")));
    }
    assert!(
        body.contains(r#"<meta property="og:description" content="First words of it.">"#),
        "{body}"
    );

    // Without a heading at the top, the first heading anywhere is the title.
    let (_, _, body) = page(&app, "/p/faq", None).await;
    assert!(body.contains("<title>Questions &amp; answers · GoatedVIPs</title>"));

    // Every page's footer lists the pages by title, in name order; the 404 page's too.
    for path in ["/", "/leaderboard", "/no-such-page"] {
        let (_, _, body) = page(&app, path, None).await;
        let foot = footer(&body);
        let faq = foot
            .find(r#"<a href="/p/faq">Questions &amp; answers</a>"#)
            .unwrap_or_else(|| panic!("{path}: {foot}"));
        let hostile = foot
            .find(r#"<a href="/p/hostile">Hostile page</a>"#)
            .unwrap_or_else(|| panic!("{path}: {foot}"));
        assert!(faq < hostile, "{foot}");
    }
}

#[tokio::test]
async fn a_missing_directory_or_a_bad_file_is_a_404_for_that_name_and_stops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("pages");
    let app = with_pages(&pages).await;
    let (status, _, body) = page(&app, "/p/faq", None).await;
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"));
    let (status, _, body) = page(&app, "/", None).await;
    assert_eq!(status, 200);
    assert!(!footer(&body).contains("/p/"), "{body}");
    app.wait_for_log("the missing directory logged", |r| {
        r["level"] == "WARN"
            && r["msg"]
                .as_str()
                .is_some_and(|m| m.contains("pages directory") && m.contains("cannot be read"))
    })
    .await;

    // A good page, a file that is not UTF-8, a directory named like a page and a file nobody
    // may read (root reads it all the same: then it is served).
    std::fs::create_dir_all(pages.join("folder.md")).unwrap();
    std::fs::write(pages.join("good.md"), "# Good\n").unwrap();
    std::fs::write(pages.join("latin1.md"), b"# Caf\xe9\n").unwrap();
    std::fs::write(pages.join("locked.md"), "# Locked\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        pages.join("locked.md"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    reload(&app);
    assert_eq!(page(&app, "/p/good", None).await.0, 200);
    for name in ["latin1", "folder", "FOLDER", "good.md", "..%2Fgood"] {
        assert_eq!(
            page(&app, &format!("/p/{name}"), None).await.0,
            404,
            "{name}"
        );
    }
    assert_eq!(
        page(&app, "/p/locked", None).await.0,
        if root { 200 } else { 404 }
    );
    assert_eq!(app.get("/api/health").await.status(), 200);
    // Each problem is logged once for this load.
    let logged = |file: &str| {
        app.log_records()
            .iter()
            .filter(|r| r["msg"].as_str().is_some_and(|m| m.contains(file)))
            .count()
    };
    app.wait_for_log("the pages loaded", |r| {
        r["msg"] == "site pages loaded" && r["pages"] == json!(if root { 2 } else { 1 })
    })
    .await;
    assert_eq!(logged("latin1.md is not UTF-8"), 1);
    assert_eq!(logged("folder.md cannot be read"), 1);
    assert_eq!(logged("locked.md cannot be read"), usize::from(!root));
}

#[tokio::test]
async fn pages_are_read_again_on_reload_not_per_request() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("faq.md"), "# FAQ one\n").unwrap();
    let app = with_pages(dir.path()).await;
    std::fs::write(dir.path().join("faq.md"), "# FAQ two\n").unwrap();
    std::fs::write(dir.path().join("new-page.md"), "# Brand new\n\nHello.").unwrap();
    // Held in memory: nothing changes until a reload.
    assert_eq!(page(&app, "/p/new-page", None).await.0, 404);
    assert!(page(&app, "/p/faq", None).await.2.contains("FAQ one"));

    reload(&app);
    let (status, _, body) = page(&app, "/p/new-page", None).await;
    assert_eq!(status, 200);
    assert!(body.contains("<title>Brand new · GoatedVIPs</title>"));
    assert!(footer(&body).contains(r#"<a href="/p/new-page">Brand new</a>"#));
    assert!(page(&app, "/p/faq", None).await.2.contains("FAQ two"));

    std::fs::remove_file(dir.path().join("new-page.md")).unwrap();
    reload(&app);
    assert_eq!(page(&app, "/p/new-page", None).await.0, 404);
}

/// Three tiers, the middle one with a benefits text.
fn tiers_with_benefits() -> toml::Value {
    toml::Value::try_from(json!([
        {"name": "Copper", "min": 0},
        {"name": "Gold", "min": 100000, "benefits": "A monthly <reload> code"},
        {"name": "Pearl", "min": 1500000},
    ]))
    .unwrap()
}

#[tokio::test]
async fn vip_lists_the_tiers_and_where_a_linked_player_stands() {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(crate::harness::fixture(
            "leaderboard-small.json",
        )))
        .config("leaderboard.tiers", tiers_with_benefits())
        .start()
        .await;
    app.wait_for_players(12).await;

    let (status, _, body) = page(&app, "/vip", None).await;
    assert_eq!(status, 200, "{body}");
    for tier in ["Copper", "Gold", "Pearl"] {
        assert!(body.contains(&format!(">{tier}</span>")), "{tier}");
    }
    assert!(body.contains("$100,000.00") && body.contains("$1,500,000.00"));
    assert!(body.contains("A monthly &lt;reload&gt; code"), "{body}");
    assert!(body.contains("Log in and link your Goated account"));
    assert!(!body.contains("Your tier"));

    // Logged in, not linked: how to link.
    let fan = register(&app, "vip.fan").await;
    let (_, _, body) = page(&app, "/vip", Some(&fan)).await;
    assert!(body.contains("Link your Goated account"), "{body}");

    // Linked to LuckyLlama ($912,400.10 all time): Gold, 58 % of the way to Pearl.
    app.db()
        .client()
        .await
        .execute(
            "UPDATE users SET goated_uid = 'aX93kQ2mZp0LrT7vWb1c' WHERE username = 'vip.fan'",
            &[],
        )
        .await
        .unwrap();
    let (_, _, body) = page(&app, "/vip", Some(&fan)).await;
    assert!(body.contains("$912,400.10 wagered all time"), "{body}");
    assert!(body.contains("58% of the way to Pearl ($1,500,000.00)"));
    assert!(body.contains("$587,599.90 to go."));
    let mine = &body[body
        .find(r#"<tr class="mine-row">"#)
        .expect("the player's row")..];
    let mine = &mine[..mine.find("</tr>").unwrap()];
    assert!(
        mine.contains(">Gold<") && mine.contains("Your tier"),
        "{mine}"
    );

    // Tier badges elsewhere lead here.
    let (_, _, body) = page(&app, "/leaderboard?period=all_time", None).await;
    assert!(
        body.contains(r#"<a class="tier tier-gold" href="/vip""#),
        "{body}"
    );
}

/// A private message `text` from the Telegram user `from`.
fn telegram_message(update_id: i64, from: i64, text: &str) -> serde_json::Value {
    json!({"update_id": update_id, "message": {
        "message_id": update_id, "from": {"id": from, "is_bot": false, "first_name": "N"},
        "chat": {"id": from, "first_name": "N", "type": "private"},
        "date": 1795000000, "text": text,
    }})
}

/// Posts the notifications form with `body`, from `origin`; (status, Location).
async fn post_notifications(
    app: &TestApp,
    session: Option<&str>,
    origin: &str,
    body: &str,
) -> (u16, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client
        .post(app.url("/account/notifications"))
        .header("origin", origin)
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    if let Some(s) = session {
        req = req.header("cookie", format!("goatedvips_session={s}"));
    }
    let resp = req.send().await.unwrap();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (resp.status().as_u16(), location)
}

#[tokio::test]
async fn race_notifications_on_the_account_page_are_the_bots_notify_switch() {
    const TG: i64 = 424242777;
    let app = TestApp::builder().with_fake_telegram().start().await;
    let site_origin = app.url("").trim_end_matches('/').to_string();
    let fan = register(&app, "notify.fan").await;
    let switch = r#"id="race_notifications""#;

    // Without a linked Telegram account there is nothing to switch, and the page says why.
    let (_, _, body) = page(&app, "/account", Some(&fan)).await;
    assert!(body.contains("need a linked Telegram account") && !body.contains(switch));
    let (status, _) =
        post_notifications(&app, Some(&fan), &site_origin, "race_notifications=on").await;
    assert_eq!(status, 409);

    let db = app.db().client().await;
    db.execute(
        "UPDATE users SET telegram_id = $1 WHERE username = 'notify.fan'",
        &[&TG],
    )
    .await
    .unwrap();
    let subscribed = || async {
        db.query_one(
            "SELECT count(*) FROM telegram_notify WHERE telegram_id = $1",
            &[&TG],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
            == 1
    };
    let checked = |body: &str| {
        let input = &body[body.find(switch).expect("the switch")..];
        input[..input.find('>').unwrap()].contains("checked")
    };
    let (_, _, body) = page(&app, "/account", Some(&fan)).await;
    assert!(!checked(&body));

    // A form from another site is refused by the CSRF check; no session: refused too.
    let (status, _) = post_notifications(
        &app,
        Some(&fan),
        "https://evil.example",
        "race_notifications=on",
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post_notifications(&app, None, &site_origin, "race_notifications=on").await;
    assert_eq!(status, 401);
    assert!(!subscribed().await);

    // On from the account page: the bot's subscriber list has the Telegram account.
    let (status, location) =
        post_notifications(&app, Some(&fan), &site_origin, "race_notifications=on").await;
    assert_eq!(status, 303);
    assert_eq!(location, "/account?saved=notifications#notifications");
    assert!(subscribed().await);
    let (_, _, body) = page(&app, "/account?saved=notifications", Some(&fan)).await;
    assert!(checked(&body) && body.contains("Saved."), "{body}");

    // Off from the bot: the account page shows it off.
    app.telegram_update(&telegram_message(1, TG, "/notify off"))
        .await;
    let texts = app.bot().wait_texts(TG, 1).await;
    assert_eq!(texts[0], "Notifications off.");
    assert!(!subscribed().await);
    let (_, _, body) = page(&app, "/account", Some(&fan)).await;
    assert!(!checked(&body));

    // On again from the page, then off (an unchecked box sends nothing).
    post_notifications(&app, Some(&fan), &site_origin, "race_notifications=on").await;
    assert!(subscribed().await);
    let (status, _) = post_notifications(&app, Some(&fan), &site_origin, "").await;
    assert_eq!(status, 303);
    assert!(!subscribed().await);
}

#[tokio::test]
async fn player_pages_carry_share_tags_and_home_shows_the_top_players() {
    let app = site().await;
    let (_, _, body) = page(&app, "/players/aX93kQ2mZp0LrT7vWb1c", None).await;
    let description =
        "LuckyLlama on GoatedVIPs: Platinum tier, $912,400.10 wagered all time, #3 this month.";
    for tag in [
        r#"<meta property="og:title" content="LuckyLlama · GoatedVIPs">"#.to_string(),
        format!(r#"<meta property="og:description" content="{description}">"#),
        r#"<meta name="twitter:card" content="summary">"#.to_string(),
        r#"<meta name="twitter:title" content="LuckyLlama · GoatedVIPs">"#.to_string(),
        format!(r#"<meta name="twitter:description" content="{description}">"#),
    ] {
        assert!(body.contains(&tag), "{tag} missing: {body}");
    }
    // A hostile name stays text in the tags.
    let (_, _, body) = page(&app, "/players/Jy2BvD3aGe0PrS7lTu1m", None).await;
    assert!(body.contains(r#"content="&lt;script&gt;alert(1)&lt;/script&gt; · GoatedVIPs""#));

    // Home: one card per period, each led by that period's top player.
    let (_, _, body) = page(&app, "/", None).await;
    let cards: Vec<&str> = body
        .split(r#"<section class="card top-card""#)
        .skip(1)
        .collect();
    assert_eq!(cards.len(), 4, "{body}");
    for (card, (period, leader, amount)) in cards.iter().zip([
        ("Today", "big_bertha", "$98,000.12"),
        ("This week", "big_bertha", "$150,000.50"),
        ("This month", "big_bertha", "$1,500,000.00"),
        ("All time", "Zé_Ñandú", "$21,000,000.00"),
    ]) {
        let card = &card[..card.find("</section>").unwrap()];
        assert!(card.contains(&format!(">{period}</h3>")), "{card}");
        let lead = &card[card.find(r#"class="leader""#).unwrap()..];
        assert!(lead.contains(leader) && lead.contains(amount), "{card}");
        assert_eq!(card.matches("<li>").count(), 2, "{card}");
    }
    assert!(body.contains("race-glance"), "the race glance stays");
}
