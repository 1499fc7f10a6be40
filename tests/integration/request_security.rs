//! Request security: rate limits with Retry-After and trusted proxies, CORS, the CSRF origin
//! check, the WebSocket Origin check, and the security headers.

use serde_json::{json, Value};

use crate::accounts::{register, PASSWORD};
use crate::harness::fresh_client;
use crate::harness::TestApp;

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let app = TestApp::builder()
        .config("security.auth_rate_limit_requests", 3)
        .config("security.rate_limit_requests", 5)
        .in_process()
        .start()
        .await;
    let login = || async {
        fresh_client()
            .post(app.url("/api/auth/login"))
            .json(&json!({"login": "nobody", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
    };
    for _ in 0..3 {
        assert_eq!(login().await.status().as_u16(), 401);
    }
    let resp = login().await;
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(resp.headers().contains_key("x-request-id"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");

    // The general limit is separate; health is exempt.
    for _ in 0..5 {
        assert_eq!(app.get("/api/leaderboard").await.status().as_u16(), 200);
    }
    assert_eq!(app.get("/api/leaderboard").await.status().as_u16(), 429);
    for _ in 0..20 {
        assert_ne!(app.get("/api/health").await.status().as_u16(), 429);
    }

    // Each rejection is counted by route group.
    let scrape = reqwest::get(format!(
        "http://{}/metrics",
        app.state().metrics_addr.unwrap()
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    for line in [
        "goatedvips_rate_limited_total{group=\"auth\"} 1",
        "goatedvips_rate_limited_total{group=\"default\"} 1",
    ] {
        assert!(scrape.lines().any(|l| l == line), "{line} in:\n{scrape}");
    }
}

async fn with_forwarded(app: &TestApp, path: &str, forwarded: &str) -> u16 {
    fresh_client()
        .get(app.url(path))
        .header("x-forwarded-for", forwarded)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn forwarded_for_counts_only_from_trusted_proxies() {
    // Not trusted: X-Forwarded-For is ignored, every request is the socket's peer.
    let app = TestApp::builder()
        .config("security.rate_limit_requests", 2)
        .start()
        .await;
    assert_eq!(
        with_forwarded(&app, "/api/leaderboard", "1.1.1.1").await,
        200
    );
    assert_eq!(
        with_forwarded(&app, "/api/leaderboard", "2.2.2.2").await,
        200
    );
    assert_eq!(
        with_forwarded(&app, "/api/leaderboard", "3.3.3.3").await,
        429
    );

    // Trusted: each forwarded client has its own allowance.
    let app = TestApp::builder()
        .config("security.rate_limit_requests", 2)
        .config("security.trusted_proxies", vec!["127.0.0.0/8"])
        .start()
        .await;
    for _ in 0..2 {
        assert_eq!(
            with_forwarded(&app, "/api/leaderboard", "1.1.1.1").await,
            200
        );
    }
    assert_eq!(
        with_forwarded(&app, "/api/leaderboard", "1.1.1.1").await,
        429
    );
    assert_eq!(
        with_forwarded(&app, "/api/leaderboard", "2.2.2.2").await,
        200
    );
    // A spoofed left-most hop does not help: the proxy appended the real client.
    assert_eq!(
        with_forwarded(&app, "/api/leaderboard", "9.9.9.9, 1.1.1.1").await,
        429
    );
}

#[tokio::test]
async fn memory_stays_bounded_under_many_ips() {
    let app = TestApp::builder()
        .in_process()
        .config("security.rate_limit_max_tracked", 100)
        .config("security.trusted_proxies", vec!["127.0.0.0/8"])
        .start()
        .await;
    for i in 0..600u32 {
        let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
        assert_eq!(with_forwarded(&app, "/api/leaderboard", &ip).await, 200);
    }
    let tracked = app.state().rate_limits.tracked();
    assert!(tracked <= 100 + 256, "{tracked} clients tracked");
}

#[tokio::test]
async fn cors_only_for_allowed_origins() {
    let app = TestApp::builder()
        .config("security.allowed_origins", vec!["https://goatedvips.gg"])
        .start()
        .await;
    let preflight = |origin: &'static str| {
        fresh_client()
            .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight("https://goatedvips.gg").await.unwrap();
    assert_eq!(ok.status().as_u16(), 204);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://goatedvips.gg"
    );
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    assert!(ok.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("content-type"));

    let unknown = preflight("https://evil.example").await.unwrap();
    assert!(unknown
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    assert!(unknown
        .headers()
        .get("access-control-allow-credentials")
        .is_none());

    let simple = fresh_client()
        .get(app.url("/api/leaderboard"))
        .header("origin", "https://goatedvips.gg")
        .send()
        .await
        .unwrap();
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://goatedvips.gg"
    );
    let other = fresh_client()
        .get(app.url("/api/leaderboard"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // No origins configured: nothing is allowed cross-origin.
    let closed = TestApp::builder().start().await;
    let resp = fresh_client()
        .request(reqwest::Method::OPTIONS, closed.url("/api/leaderboard"))
        .header("origin", "https://goatedvips.gg")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn csrf_origin_check() {
    let app = TestApp::builder()
        .config("security.allowed_origins", vec!["https://goatedvips.gg"])
        .start()
        .await;
    let token = register(&app, "csrf.user").await;
    let logout = |origin: Option<&'static str>, content_type: &'static str| {
        let mut req = fresh_client()
            .post(app.url("/api/auth/logout"))
            .header("cookie", format!("goatedvips_session={token}"))
            .header("content-type", content_type)
            .body("x=1");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    // A form post from another site, or without any origin: refused.
    for origin in [Some("https://evil.example"), None] {
        let resp = logout(origin, "application/x-www-form-urlencoded")
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "forbidden");
    }
    // A Referer of another site: refused.
    let resp = fresh_client()
        .post(app.url("/api/auth/logout"))
        .header("cookie", format!("goatedvips_session={token}"))
        .header("referer", "https://evil.example/page")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    // The site itself (same host) passes.
    let own = format!("http://{}", app.addr());
    let resp = fresh_client()
        .post(app.url("/api/auth/logout"))
        .header("cookie", format!("goatedvips_session={token}"))
        .header("origin", own)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    // An allowed origin passes, and so does JSON: past the CSRF check, the session (now
    // ended) is what answers, 401 rather than 403.
    for (origin, content_type) in [
        (Some("https://goatedvips.gg"), "text/plain"),
        (None, "application/json"),
    ] {
        let resp = logout(origin, content_type).await.unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{origin:?} {content_type}");
    }
}

#[tokio::test]
async fn websocket_checks_origin() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = TestApp::builder()
        .config("security.allowed_origins", vec!["https://goatedvips.gg"])
        .start()
        .await;
    let connect = |origin: &'static str| {
        let mut req = format!("ws://{}/ws", app.addr())
            .into_client_request()
            .unwrap();
        req.headers_mut().insert("origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    match connect("https://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 403)
        }
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    assert!(connect("https://goatedvips.gg").await.is_ok());
    // No Origin (not a browser) is fine too.
    assert!(
        tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr()))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let app = TestApp::builder().start().await;
    for path in [
        "/api/health",
        "/api/leaderboard",
        "/no/such/path",
        "/openapi.json",
    ] {
        let resp = app.get(path).await;
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors"),
            "{path}"
        );
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS without secure cookies"
        );
    }
}
