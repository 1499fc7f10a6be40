//! `goatedvips import-legacy` end to end: an old database of each shape (the fixtures in
//! tests/fixtures/legacy) imported by the real binary, then the daemon serving the imported
//! accounts (log in with the clear passwords of `expected.json`), links, races and codes.
//! `shapes`: one test per shape; `runs`: dry run, second run, refusal, shape b without key.

mod runs;
mod shapes;

use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

use crate::accounts::{get_with, post_json, token};
use crate::harness::{run_cli, CliOutput, TestApp, TestDb};

/// The fixtures, copied into the repository from the shared legacy fixtures.
fn fixture_path(name: &str) -> String {
    format!(
        "{}/tests/fixtures/legacy/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

pub fn expected(shape: &str) -> Value {
    let text = std::fs::read_to_string(fixture_path(&format!("shape-{shape}.expected.json")))
        .expect("expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

/// A fresh database holding the old app's data of `shape`.
pub async fn old_database(shape: &str) -> TestDb {
    let db = TestDb::create().await;
    let sql = std::fs::read_to_string(fixture_path(&format!("shape-{shape}.sql"))).expect("sql");
    db.client()
        .await
        .batch_execute(&sql)
        .await
        .expect("load the old database");
    db
}

/// `goatedvips import-legacy --from <old> ARGS…` against the app's database.
pub fn import(app: &TestApp, old: &TestDb, args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    let config = app.write_config();
    let mut all = vec![
        "--config",
        config.to_str().unwrap(),
        "import-legacy",
        "--from",
        &old.url,
    ];
    all.extend_from_slice(args);
    run_cli(&all, env)
}

/// Logs in; the session token, or the refusal's status.
pub async fn login(app: &TestApp, login: &str, password: &str) -> Result<String, u16> {
    let (status, cookies, body) = post_json(
        app,
        "/api/auth/login",
        None,
        json!({"login": login, "password": password}),
    )
    .await;
    match status {
        200 => Ok(token(&cookies)),
        401 => Err(401),
        other => panic!("login {login}: {other} {body}"),
    }
}

pub async fn query_one(
    app: &TestApp,
    sql: &str,
    args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> tokio_postgres::Row {
    app.db().client().await.query_one(sql, args).await.unwrap()
}

pub async fn stored_hash(app: &TestApp, username: &str) -> String {
    query_one(
        app,
        "SELECT password_hash FROM users WHERE username = $1",
        &[&username],
    )
    .await
    .get(0)
}

/// An amount of the API (a number or a decimal string) as a decimal.
pub fn amount(v: &Value) -> Decimal {
    let text = v.to_string();
    Decimal::from_str(text.trim_matches('"')).unwrap_or_else(|_| panic!("not an amount: {v}"))
}

/// Every user of `expected` logs in with their clear password (a disabled one cannot), has
/// the role, the Goated link, the pending request and the Telegram link expected; imported
/// old hashes are replaced by argon2id at that first login.
pub async fn check_users(app: &TestApp, expected: &Value) {
    for user in expected["users"].as_array().unwrap() {
        let username = user["username"].as_str().unwrap();
        let password = user["password"].as_str().unwrap();
        let before = stored_hash(app, username).await;
        assert!(!before.contains(password), "a clear password is stored");
        let session = login(app, username, password).await;
        if user["disabled"].as_bool().unwrap() {
            assert_eq!(session, Err(401), "{username} is disabled");
            let disabled: bool = query_one(
                app,
                "SELECT disabled FROM users WHERE username = $1",
                &[&username],
            )
            .await
            .get(0);
            assert!(disabled, "{username}");
            continue;
        }
        let session = session.unwrap_or_else(|s| panic!("{username} cannot log in: {s}"));
        let after = stored_hash(app, username).await;
        assert!(after.starts_with("$argon2id$"), "{username}: {after}");
        if !before.starts_with("$argon2id$") {
            assert_ne!(before, after, "{username}: the old hash is replaced");
            // And the new hash works.
            assert!(
                login(app, username, password).await.is_ok(),
                "{username} again"
            );
        }
        let (status, account) = get_with(app, "/api/account", Some(&session)).await;
        assert_eq!(status, 200, "{account}");
        let profile = &account["profile"];
        assert_eq!(profile["username"], user["username"], "{account}");
        assert_eq!(profile["email"], user["email"], "{account}");
        assert_eq!(profile["role"], user["role"], "{account}");
        assert_eq!(
            account["goated"]["uid"].as_str(),
            user["goated_uid"].as_str(),
            "{username}: {account}"
        );
        let pending: Vec<&str> = account["pending_requests"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r["goated_uid"].as_str()).collect())
            .unwrap_or_default();
        match user["goated_requested_uid"].as_str() {
            Some(uid) => assert_eq!(pending, vec![uid], "{username}: {account}"),
            None if user.get("goated_requested_name").is_none() => {
                assert!(pending.is_empty(), "{username}: {account}")
            }
            None => {}
        }
        assert_eq!(
            account["telegram"]["id"].as_i64(),
            user["telegram_id"].as_i64(),
            "{username}: {account}"
        );
        // The old profile address of the account leads to its Goated player's page.
        let legacy_id = match &user["legacy_id"] {
            Value::String(id) => id.clone(),
            id => id.to_string(),
        };
        let (status, location, _) =
            crate::old_addresses::visit(app, reqwest::Method::GET, &format!("/user/{legacy_id}"))
                .await;
        match user["goated_uid"].as_str() {
            Some(uid) => assert_eq!(
                (status, location.as_str()),
                (301, format!("/players/{uid}").as_str()),
                "{username}: /user/{legacy_id}"
            ),
            None => assert_eq!(status, 404, "{username}: /user/{legacy_id}"),
        }
    }
}

/// Every race of `expected` is closed here with every place, and the live one is not.
pub async fn check_races(app: &TestApp, expected: &Value) {
    for race in expected["races"].as_array().unwrap() {
        let id = race["id"].as_str().unwrap();
        let (status, got) = app.get_json(&format!("/api/wager-races/{id}")).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["status"], "closed", "{got}");
        assert_eq!(
            amount(&got["prize_pool"]),
            amount(&race["prize_pool"]),
            "{got}"
        );
        let places = got["participants"].as_array().unwrap();
        let want = race["places"].as_array().unwrap();
        assert_eq!(places.len(), want.len(), "{got}");
        for (p, w) in places.iter().zip(want) {
            assert_eq!(p["rank"], w["rank"], "{got}");
            assert_eq!(p["uid"], w["uid"], "{got}");
            assert_eq!(amount(&p["wagered"]), amount(&w["wagered"]), "{id}: {p}");
            assert_eq!(amount(&p["prize"]), amount(&w["prize"]), "{id}: {p}");
        }
        assert_eq!(places[0]["name"], race["winner_name"], "{got}");
    }
    let races: i64 = query_one(
        app,
        "SELECT count(*) FROM races WHERE closed_at IS NOT NULL",
        &[],
    )
    .await
    .get(0);
    assert_eq!(races as usize, expected["races"].as_array().unwrap().len());
}

/// The active codes are public with their reward; the expired one is imported expired; the
/// one whose amount is not a number is not imported (the report says why).
pub async fn check_bonus_codes(app: &TestApp, expected: &Value, report: &str) {
    let (status, public) = app.get_json("/api/bonus-codes").await;
    assert_eq!(status, 200, "{public}");
    let text = public.to_string();
    for code in expected["bonus_codes"].as_array().unwrap() {
        let name = code["code"].as_str().unwrap();
        let row = app
            .db()
            .client()
            .await
            .query_opt(
                "SELECT reward, expires_at <= now() FROM bonus_codes WHERE code = $1",
                &[&name],
            )
            .await
            .unwrap();
        if code["importable"] == json!(false) {
            assert!(row.is_none(), "{name} imported");
            assert!(
                report.contains(&format!(
                    "bonus_code legacy_id={} ({name}): ",
                    code_id(report, name)
                )),
                "{name} not reported:\n{report}"
            );
            continue;
        }
        let row = row.unwrap_or_else(|| panic!("{name} not imported"));
        let expired: bool = row.get(1);
        if code["active"] == json!(true) {
            assert!(!expired, "{name}");
            assert_eq!(row.get::<_, Decimal>(0), amount(&code["reward"]), "{name}");
            assert!(text.contains(name), "{name} not public: {public}");
        } else {
            assert!(expired, "{name} should be expired");
            assert!(!text.contains(name), "{name} is public: {public}");
        }
    }
}

/// The old id the report gives the code `name`.
fn code_id(report: &str, name: &str) -> String {
    report
        .lines()
        .find(|l| l.contains(&format!("({name}):")))
        .and_then(|l| l.split("legacy_id=").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or("?")
        .to_string()
}

/// Whether `telegram_id` gets race notifications.
pub async fn notified(app: &TestApp, telegram_id: i64) -> bool {
    query_one(
        app,
        "SELECT EXISTS (SELECT 1 FROM telegram_notify WHERE telegram_id = $1)",
        &[&telegram_id],
    )
    .await
    .get(0)
}

pub async fn audit_lines(app: &TestApp) -> i64 {
    query_one(
        app,
        "SELECT count(*) FROM audit_log WHERE action = 'legacy.import'",
        &[],
    )
    .await
    .get(0)
}
