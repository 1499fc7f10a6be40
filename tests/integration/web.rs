//! The web site: every page's status and key content, escaped names, the admin page refusing
//! players and anonymous visitors, the HTML 404, friendly errors for bad input, the
//! content-hashed assets' caching headers, and the Content-Security-Policy of pages and of
//! the framable embed.

use crate::accounts::{admin_session, register};
use crate::harness::{fixture, fresh_client, wait_for, FakeMode, TestApp};

/// A daemon serving the small fixture, its first sync done.
pub(crate) async fn site() -> TestApp {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .start()
        .await;
    app.wait_for_players(12).await;
    app
}

/// Status, headers and body of a GET, with an optional session.
pub async fn page(
    app: &TestApp,
    path: &str,
    session: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = fresh_client()
        .get(app.url(path))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8");
    if let Some(s) = session {
        req = req.header("cookie", format!("goatedvips_session={s}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn public_pages_render_with_escaped_names_and_a_strict_csp() {
    let app = site().await;
    for (path, expect) in [
        ("/", "Wager race"),
        ("/leaderboard", "LuckyLlama"),
        ("/leaderboard?period=all_time", "Zé_Ñandú"),
        ("/leaderboard?period=today&page=1", "big_bertha"),
        ("/race", "Prizes"),
        ("/races", "Races"),
        ("/players/aX93kQ2mZp0LrT7vWb1c", "LuckyLlama"),
        ("/bonus-codes", "Bonus codes"),
        ("/challenges", "No challenge is open right now"),
        ("/login", "Log in"),
        ("/register", "Create an account"),
        ("/overlay/race", "Ends in"),
        ("/overlay/leaderboard?period=weekly&top=3", "This week"),
        ("/embed/leaderboard", "GoatedVIPs"),
    ] {
        let (status, h, body) = page(&app, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            header(&h, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert!(body.contains(expect), "{path} lacks {expect:?}");
        let csp = header(&h, "content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        // No inline script anywhere: every <script> has a src.
        assert_eq!(
            body.matches("<script").count(),
            body.matches("<script src=").count(),
            "{path}"
        );
        if path.starts_with("/embed/") {
            assert!(csp.contains("frame-ancestors *"), "{csp}");
            assert!(h.get("x-frame-options").is_none());
        } else {
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert_eq!(header(&h, "x-frame-options"), "DENY", "{path}");
        }
    }

    // The upstream's <script> name comes back escaped on every page that shows it.
    for path in [
        "/leaderboard?period=monthly",
        "/race",
        "/players/Jy2BvD3aGe0PrS7lTu1m",
        "/overlay/race?top=25",
        "/embed/leaderboard?top=25",
    ] {
        let (status, _, body) = page(&app, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path} does not show the name escaped"
        );
        assert!(
            !body.contains("<script>alert(1)"),
            "{path} has the raw name"
        );
    }

    // The overlays show the top N of the query (at most 25), with no navigation.
    let (_, _, body) = page(&app, "/overlay/leaderboard?period=all_time&top=3", None).await;
    assert_eq!(body.matches("<li>").count(), 3, "{body}");
    assert!(!body.contains("<nav"));
    let (_, _, body) = page(&app, "/overlay/race?top=2", None).await;
    assert_eq!(body.matches("<li>").count(), 2, "{body}");
    let (_, _, body) = page(&app, "/overlay/leaderboard?top=999", None).await;
    assert_eq!(body.matches("<li>").count(), 12);

    // Tabs, pagination and search.
    let (_, _, body) = page(&app, "/leaderboard?period=weekly", None).await;
    assert!(
        body.contains(r#"href="/leaderboard?period=weekly" aria-current="page""#),
        "{body}"
    );
    assert!(body.contains("Page 1 of 1"));
    let (_, _, body) = page(&app, "/leaderboard?q=tie_", None).await;
    assert!(body.contains("2 players matching"), "{body}");
    assert!(
        body.contains("tie_alpha") && body.contains("tie_beta") && !body.contains("LuckyLlama")
    );
    let (_, _, body) = page(&app, "/leaderboard?page=2", None).await;
    assert!(body.contains("No players to show"));

    // Fresh data: no stale sign.
    let (_, _, body) = page(&app, "/leaderboard", None).await;
    assert!(body.contains("Updated ") && !body.contains("Data may be out of date"));
}

#[tokio::test]
async fn bad_input_and_unknown_pages_get_friendly_html() {
    let app = site().await;
    for (path, status, text) in [
        ("/nope", 404, "Page not found"),
        ("/players/no-such-player", 404, "Player not found"),
        ("/race/209913", 404, "No such race"),
        ("/race/203001", 404, "No such race"),
        ("/leaderboard?period=yearly", 400, "Unknown period"),
        ("/leaderboard?page=0", 400, "Bad page number"),
        ("/leaderboard?page=abc", 400, "Bad page number"),
        ("/races?page=-1", 400, "Bad page number"),
        ("/assets/app.000000000000.css", 404, "Page not found"),
    ] {
        let (got, h, body) = page(&app, path, None).await;
        assert_eq!(got, status, "{path}");
        assert!(
            header(&h, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert!(body.contains(text), "{path}: {body}");
        assert!(!body.contains("\"error\""), "{path} shows JSON");
    }
    // A login form posted without the script gets a page that says so, not JSON.
    let resp = fresh_client()
        .post(app.url("/login"))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("login=a&password=b")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("This form needs JavaScript"));
    // A client that does not ask for HTML gets the JSON error of the rest of the daemon.
    let resp = fresh_client().get(app.url("/nope")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    // The API keeps its JSON 404.
    let (got, h, _) = page(&app, "/api/nope", None).await;
    assert_eq!(got, 404);
    assert!(header(&h, "content-type").starts_with("application/json"));
    // The current race has its own page too, with its countdown.
    let id = chrono::Utc::now().format("%Y%m").to_string();
    let (status, _, body) = page(&app, &format!("/race/{id}"), None).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Ends in") && body.contains("class=\"countdown\""),
        "{body}"
    );
}

#[tokio::test]
async fn assets_are_hashed_and_cached_for_a_year() {
    let app = site().await;
    let (_, _, body) = page(&app, "/", None).await;
    let hrefs: Vec<&str> = body
        .split('"')
        .filter(|s| s.starts_with("/assets/app."))
        .collect();
    assert_eq!(hrefs.len(), 2, "{hrefs:?}");
    for href in hrefs {
        let ext = href.rsplit('.').next().unwrap();
        let resp = fresh_client().get(app.url(href)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{href}");
        assert_eq!(
            resp.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(
            ct.starts_with(if ext == "css" {
                "text/css"
            } else {
                "text/javascript"
            }),
            "{ct}"
        );
        let bytes = resp.bytes().await.unwrap();
        let hash = &href["/assets/app.".len()..href.len() - ext.len() - 1];
        use sha2::Digest;
        assert_eq!(
            hash,
            &hex::encode(sha2::Sha256::digest(&bytes))[..12],
            "{href}"
        );
    }
}

#[tokio::test]
async fn account_and_admin_pages_know_who_is_asking() {
    let app = site().await;
    let player = register(&app, "webplayer").await;
    let admin = admin_session(&app, "webadmin").await;

    // The account page: anonymous visitors go to the login page.
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/account"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/login");
    let (status, _, body) = page(&app, "/account", Some(&player)).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Hi, webplayer")
            && body.contains("Get a link code")
            && body.contains("Request link")
    );
    assert!(
        !body.contains(r#"href="/admin""#),
        "a player sees no admin link"
    );

    // Admin: refused to anonymous visitors and players, shown to admins.
    let (status, _, body) = page(&app, "/admin", None).await;
    assert_eq!(status, 401);
    assert!(body.contains("Log in first"));
    let (status, _, body) = page(&app, "/admin", Some(&player)).await;
    assert_eq!(status, 403);
    assert!(body.contains("Admins only") && !body.contains("Audit log"));
    let (status, _, body) = page(&app, "/admin", Some(&admin)).await;
    assert_eq!(status, 200);
    for part in [
        "Pending link requests",
        "Bonus codes",
        "New challenge",
        "Users",
        "Audit log",
        "webplayer",
    ] {
        assert!(body.contains(part), "admin page lacks {part}");
    }
    let (_, _, body) = page(&app, "/admin?q=nobody-here", Some(&admin)).await;
    assert!(body.contains("0 users"));
}

/// A form post to the site, as a browser sends it.
pub(crate) async fn form_post(
    app: &TestApp,
    path: &str,
    session: &str,
    origin: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut req = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(path))
        .header("cookie", format!("goatedvips_session={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .body(body.to_string());
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn admin_changes_roles_and_disables_users_with_form_posts_from_the_site() {
    let app = site().await;
    let player = register(&app, "formplayer").await;
    let admin = admin_session(&app, "formadmin").await;
    let own = app.url("").trim_end_matches('/').to_string();

    // A form of another site is refused, and so is one without an origin.
    let (status, _) = form_post(
        &app,
        "/admin/users/role",
        &admin,
        Some("https://evil.example"),
        "username=formplayer&role=admin",
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = form_post(
        &app,
        "/admin/users/role",
        &admin,
        None,
        "username=formplayer&role=admin",
    )
    .await;
    assert_eq!(status, 403);
    // A player may not, even from the site.
    let (status, body) = form_post(
        &app,
        "/admin/users/role",
        &player,
        Some(&own),
        "username=formplayer&role=admin",
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("Admins only"));
    // Bad input gets a friendly page.
    let (status, body) = form_post(
        &app,
        "/admin/users/role",
        &admin,
        Some(&own),
        "username=formplayer&role=king",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("Not changed") && !body.contains("\"error\""));
    let (status, body) = form_post(
        &app,
        "/admin/users/state",
        &admin,
        Some(&own),
        "username=nobody&disabled=true",
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // The admin, from the site's own origin: the player becomes an admin.
    let (status, _) = form_post(
        &app,
        "/admin/users/role",
        &admin,
        Some(&own),
        "username=formplayer&role=admin",
    )
    .await;
    assert_eq!(status, 303);
    let (_, _, body) = page(&app, "/admin?q=formplayer", Some(&admin)).await;
    assert!(body.contains("Make player"), "formplayer is an admin now");
    // Disabled (a Referer of the site is enough without Origin): the player's session ends.
    let player = crate::accounts::login(&app, "formplayer").await;
    let (status, _, _) = page(&app, "/admin", Some(&player)).await;
    assert_eq!(status, 200, "an admin now");
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/admin/users/state"))
        .header("cookie", format!("goatedvips_session={admin}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("referer", format!("{own}/admin"))
        .body("username=formplayer&disabled=true")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    let (status, _, _) = page(&app, "/admin", Some(&player)).await;
    assert_eq!(status, 401, "a disabled user's session has ended");
    let (_, _, body) = page(&app, "/admin", Some(&admin)).await;
    assert!(
        body.contains("user.disable") && body.contains("user.set_role"),
        "both changes are audited"
    );
}

#[tokio::test]
async fn a_failed_sync_shows_the_stale_sign() {
    let app = site().await;
    let (_, _, body) = page(&app, "/leaderboard", None).await;
    assert!(!body.contains("Data may be out of date"));
    app.fake().set(FakeMode::Status(500, "down".into()));
    wait_for(
        "the stale sign",
        std::time::Duration::from_secs(30),
        || async {
            let (_, _, body) = page(&app, "/leaderboard", None).await;
            body.contains("Data may be out of date").then_some(())
        },
    )
    .await;
    // The last good data is still shown.
    let (_, _, body) = page(&app, "/leaderboard", None).await;
    assert!(body.contains("LuckyLlama"));
}

#[tokio::test]
async fn a_closed_race_is_listed_with_its_winners() {
    use chrono::TimeZone;
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .clock(
            chrono::Utc
                .with_ymd_and_hms(2026, 11, 30, 23, 59, 0)
                .unwrap(),
        )
        .start()
        .await;
    app.wait_for_players(12).await;
    let (_, _, body) = page(&app, "/race", None).await;
    assert!(
        body.contains("November 2026") && body.contains("0d 00h 01m 00s"),
        "{body}"
    );
    let (_, _, body) = page(&app, "/races", None).await;
    assert!(body.contains("No race has closed yet"));

    // December starts with the month's figures reset.
    app.clock()
        .set(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 5).unwrap());
    let mut doc: serde_json::Value =
        serde_json::from_slice(&fixture("leaderboard-small.json")).unwrap();
    for row in doc["data"].as_array_mut().unwrap() {
        row["wagered"]["this_month"] = serde_json::json!(0);
        row["wagered"]["today"] = serde_json::json!(0);
    }
    app.fake().set(FakeMode::Body(doc.to_string().into_bytes()));
    let body = wait_for(
        "November in the list",
        std::time::Duration::from_secs(20),
        || async {
            let (_, _, body) = page(&app, "/races", None).await;
            body.contains("Winner: <strong>big_bertha</strong>")
                .then_some(body)
        },
    )
    .await;
    assert!(body.contains(r#"href="/race/202611""#));
    assert!(
        body.contains("Winner: <strong>big_bertha</strong>"),
        "{body}"
    );
    let (status, _, body) = page(&app, "/race/202611", None).await;
    assert_eq!(status, 200);
    assert!(body.contains("Winners and final standings") && body.contains("$1,250.00"));
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    wait_for(
        "December on /race",
        std::time::Duration::from_secs(20),
        || async {
            let (_, _, body) = page(&app, "/race", None).await;
            body.contains("<h1>December 2026</h1>").then_some(())
        },
    )
    .await;
}
