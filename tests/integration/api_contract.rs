//! The error boundary and the API contract: internal errors are logged once with their cause
//! and the request id and answered generically; an `ApiError` keeps its status; 405 names the
//! allowed methods; absent fields are omitted; documented constraints are the enforced ones.
//! (`packaging/test-contract` fuzzes the whole document; these pin the specific promises.)

use poem::http::StatusCode;
use poem::Route;
use poem_openapi::payload::PlainText;
use poem_openapi::{OpenApi, OpenApiService};
use std::time::Duration;

use goatedvips::http::error::ApiError;

use crate::harness::{fresh_client, get_json, TestApp};

struct StatusApi;

#[OpenApi]
impl StatusApi {
    #[oai(path = "/conflict", method = "get")]
    async fn conflict(&self) -> Result<PlainText<String>, ApiError> {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "already running",
        ))
    }

    #[oai(path = "/teapot", method = "get")]
    async fn teapot(&self) -> Result<PlainText<String>, ApiError> {
        Err(ApiError::from_status(
            StatusCode::IM_A_TEAPOT,
            "short and stout",
        ))
    }

    #[oai(path = "/io", method = "get")]
    async fn io(&self) -> Result<PlainText<String>, ApiError> {
        Err(ApiError::internal(std::io::Error::other(
            "disk on fire at /secret/path",
        )))
    }
}

fn routes() -> Route {
    goatedvips::http::routes().nest("/status", OpenApiService::new(StatusApi, "status", "1"))
}

async fn error_of(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn internal_errors_are_logged_once_and_answered_generically() {
    let mut app = TestApp::builder().routes(routes).start().await;
    let client = fresh_client();

    // A database failure in a handler: the races table is gone.
    app.db()
        .client()
        .await
        .batch_execute("ALTER TABLE race_results RENAME TO race_results_gone")
        .await
        .unwrap();
    let resp = client
        .get(app.url("/api/wager-races/history"))
        .header("x-request-id", "contract-db-1")
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "internal");
    assert_eq!(
        body["error"]["message"],
        "internal error; reference contract-db-1"
    );

    // An I/O error: the same, and the client never sees its text.
    let resp = client
        .get(app.url("/status/io"))
        .header("x-request-id", "contract-io-1")
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 500);
    assert_eq!(
        body["error"]["message"],
        "internal error; reference contract-io-1"
    );
    assert!(!body.to_string().contains("secret"), "{body}");

    for (id, cause) in [
        ("contract-db-1", "relation \"race_results\" does not exist"),
        ("contract-io-1", "disk on fire at /secret/path"),
    ] {
        let failures = crate::harness::wait_for(
            "the failure's log record",
            Duration::from_secs(5),
            || async {
                let found: Vec<_> = app
                    .log_records()
                    .into_iter()
                    .filter(|r| r["msg"] == "request failed" && r["request_id"] == id)
                    .collect();
                (!found.is_empty()).then_some(found)
            },
        )
        .await;
        assert_eq!(failures.len(), 1, "logged once: {failures:?}");
        let logged = failures[0]["error"].as_str().unwrap();
        assert!(logged.contains(cause), "{logged}");
        assert_eq!(failures[0]["status"], 500);
    }
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn api_errors_keep_their_status_and_405_names_the_methods() {
    let mut app = TestApp::builder().routes(routes).start().await;
    let client = fresh_client();

    let resp = client
        .get(app.url("/status/conflict"))
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(resp).await;
    assert_eq!(
        (status, &body["error"]["code"], &body["error"]["message"]),
        (409, &"conflict".into(), &"already running".into())
    );
    let resp = client.get(app.url("/status/teapot")).send().await.unwrap();
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 418, "{body}");
    assert_eq!(body["error"]["message"], "short and stout");

    for (method, path) in [
        ("DELETE", "/api/health"),
        ("POST", "/api/wager-races/202401"),
        ("PUT", "/api/wager-races/current"),
        ("PATCH", "/api/players/someone"),
        ("POST", "/openapi.json"),
    ] {
        let resp = client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{method} {path}");
        assert_eq!(resp.headers()["allow"], "GET, HEAD", "{method} {path}");
        let (_, body) = error_of(resp).await;
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn absent_fields_are_omitted_and_documented_constraints_are_enforced() {
    let mut app = TestApp::builder().routes(routes).start().await;
    let addr = app.addr();

    let (status, race) = get_json(addr, "/api/wager-races/current").await;
    assert_eq!(status, 200);
    assert!(race.get("closed_late").is_none(), "{race}");
    let (_, spec) = get_json(addr, "/openapi.json").await;
    assert!(
        !spec.to_string().contains("\"nullable\""),
        "no field is documented as nullable"
    );
    fn has_null(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Null => true,
            serde_json::Value::Array(a) => a.iter().any(has_null),
            serde_json::Value::Object(o) => o.values().any(has_null),
            _ => false,
        }
    }
    assert!(!has_null(&race), "{race}");

    // The search must have a character that is not white space, and the schema says so.
    let search = spec["paths"]["/api/players"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "search")
        .unwrap();
    let pattern = search["schema"]["pattern"].as_str().expect("a pattern");
    assert!(pattern.contains("\\u00A0"), "{pattern}");
    for blank in ["%C2%A0", "%20%09", "%E3%80%80"] {
        let (status, body) = get_json(addr, &format!("/api/players?search={blank}")).await;
        assert_eq!(status, 400, "{blank}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request");
    }
    let (status, body) = get_json(addr, "/api/players?search=%C2%A0x").await;
    assert_eq!(status, 200, "{body}");

    // 404 is documented where a lookup can miss, the common errors everywhere.
    let responses = |path: &str| spec["paths"][path]["get"]["responses"].clone();
    for path in [
        "/api/players/{uid}",
        "/api/wager-races/{id}",
        "/api/wager-races/previous",
    ] {
        assert!(responses(path)["404"].is_object(), "{path}");
    }
    for path in [
        "/api/leaderboard",
        "/api/players",
        "/api/wager-races/history",
    ] {
        assert!(responses(path)["404"].is_null(), "{path}");
        for code in ["400", "413", "500", "503"] {
            assert!(responses(path)[code].is_object(), "{path} {code}");
        }
    }

    let health = responses("/api/health");
    for code in ["200", "400", "413", "500", "503"] {
        assert!(health[code].is_object(), "/api/health {code}");
    }
    assert!(
        health["503"].to_string().contains("Health"),
        "the health 503 is the health document: {}",
        health["503"]
    );

    // A race id (`YYYYMM` or a lowercase slug) is documented as a pattern.
    let id = spec["paths"]["/api/wager-races/{id}"]["get"]["parameters"][0]["schema"]["pattern"]
        .as_str()
        .expect("a pattern");
    assert!(id.starts_with('^') && id.ends_with('$'), "{id}");
    let (status, _) = get_json(addr, "/api/wager-races/Not_An_Id").await;
    assert_eq!(status, 400);
    let (status, _) = get_json(addr, "/api/wager-races/no-such-race").await;
    assert_eq!(status, 404);
    let (status, _) = get_json(addr, "/api/wager-races/201001").await;
    assert_eq!(status, 404);
    app.stop(Duration::from_secs(5)).await.unwrap();
}
