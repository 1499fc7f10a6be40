//! The per-account login throttle: failures of one login name counted across every address
//! (here many, through a trusted proxy) and every daemon; 429 with `Retry-After`, the same for
//! a name without an account; doubled waits; a success resets it.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::accounts::{register, PASSWORD};
use crate::harness::{fresh_client, TestApp};

/// What a login answered: status, `Retry-After`, body.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

/// A login through the proxy on behalf of `client`, to `base` (one daemon's address).
async fn login_from(base: &str, client: &str, login: &str, password: &str) -> Answer {
    let resp = fresh_client()
        .post(format!("{base}/api/auth/login"))
        .header("x-forwarded-for", client)
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap();
    Answer {
        status: resp.status().as_u16(),
        retry_after: resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse().unwrap()),
        body: resp.json().await.unwrap(),
    }
}

/// Client addresses in distinct /64s of one /48, each with its own per-IP allowance.
fn address(n: usize) -> String {
    format!("2001:db8:77:{n:x}::1")
}

#[tokio::test]
async fn failed_logins_of_one_name_wait_from_any_address_and_daemon() {
    let start: DateTime<Utc> = "2026-11-10T12:00:00Z".parse().unwrap();
    let app = TestApp::builder()
        .clock(start)
        .config("security.trusted_proxies", vec!["127.0.0.0/8"])
        // The daemons' shared key: the throttle keeps a keyed hash of each name.
        .config(
            "security.session_secret",
            "0123456789abcdef0123456789abcdef-throttle",
        )
        .start()
        .await;
    register(&app, "victim").await;
    let second = app.start_second().await;
    let first_base = format!("http://{}", app.addr());
    let second_base = format!("http://{}", second.addr);
    let mut clients = (0..).map(address);
    let mut next = || clients.next().unwrap();

    // Five wrong passwords from five addresses, for the account and for a name without one
    // (in any case): each a plain 401.
    for name in ["victim", "ghost"] {
        for attempt in 0..5 {
            let login = if attempt % 2 == 0 {
                name.to_string()
            } else {
                name.to_uppercase()
            };
            let a = login_from(&first_base, &next(), &login, "wrong password!").await;
            assert_eq!(a.status, 401, "{name} attempt {attempt}: {}", a.body);
        }
    }
    // Now that name waits, even with the right password, from a new address and on the other
    // daemon; the answer says nothing of whether the account exists.
    let victim = login_from(&second_base, &next(), "victim", PASSWORD).await;
    let ghost = login_from(&second_base, &next(), "ghost", PASSWORD).await;
    assert_eq!(victim.status, 429, "{}", victim.body);
    assert_eq!(victim.body["error"]["code"], "rate_limited");
    assert_eq!(victim.retry_after, Some(30));
    assert_eq!(
        (ghost.status, ghost.retry_after, &ghost.body),
        (victim.status, victim.retry_after, &victim.body)
    );
    // Other accounts are not affected.
    register(&app, "bystander").await;
    let other = login_from(&first_base, &next(), "bystander", "wrong password!").await;
    assert_eq!(other.status, 401);

    // After the wait, one more try; a failure doubles the wait.
    app.clock().set(start + Duration::seconds(31));
    let a = login_from(&first_base, &next(), "ghost", "wrong password!").await;
    assert_eq!(a.status, 401);
    let a = login_from(&first_base, &next(), "ghost", "wrong password!").await;
    assert_eq!((a.status, a.retry_after), (429, Some(60)));

    // A success resets the count: four more failures are plain 401s again.
    let a = login_from(&first_base, &next(), "victim", PASSWORD).await;
    assert_eq!(a.status, 200, "{}", a.body);
    for _ in 0..4 {
        let a = login_from(&second_base, &next(), "victim", "wrong password!").await;
        assert_eq!(a.status, 401, "{}", a.body);
    }
    let a = login_from(&second_base, &next(), "victim", PASSWORD).await;
    assert_eq!(a.status, 200, "{}", a.body);
}
