//! Every error of the API is JSON `{"error":{"code","message"}}`: 404, 405, 413, bad JSON,
//! validation, wrong media type, timeout; and every answer carries `X-Request-Id`.

use poem::web::Query;
use poem::{get, handler, Route};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, OpenApiService};
use serde::Deserialize;
use std::time::Duration;

use crate::harness::{daemon_routes, fresh_client, TestApp};

#[derive(Debug, Object)]
struct Echo {
    name: String,
    #[oai(validator(maximum(value = "10")))]
    count: u32,
}

struct TestApi;

#[OpenApi]
impl TestApi {
    #[oai(path = "/echo", method = "post")]
    async fn echo(&self, body: Json<Echo>) -> Json<Echo> {
        body
    }
}

#[derive(Deserialize)]
struct Sleep {
    ms: u64,
}

/// Answers after `ms` milliseconds: an in-flight request for timeout and stop tests.
#[handler]
pub async fn slow(Query(q): Query<Sleep>) -> String {
    tokio::time::sleep(Duration::from_millis(q.ms)).await;
    format!("slept {} ms", q.ms)
}

/// The daemon's routes plus test-only ones.
pub fn test_routes() -> Route {
    daemon_routes()
        .nest("/test", OpenApiService::new(TestApi, "test", "1"))
        .at("/slow", get(slow))
}

async fn assert_json_error(resp: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status().as_u16(), status);
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        ctype.starts_with("application/json"),
        "content-type {ctype}"
    );
    assert!(resp.headers().contains_key("x-request-id"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"]
        .as_str()
        .expect("message is a string");
    assert!(!message.is_empty());
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "only the error key: {body}"
    );
    message.to_string()
}

#[tokio::test]
async fn errors_are_json_with_a_code_and_message() {
    let mut app = TestApp::builder()
        .routes(test_routes)
        .config("server.body_limit_bytes", 1024)
        .config("server.request_timeout_secs", 1)
        .start()
        .await;
    let client = fresh_client();

    let resp = client.get(app.url("/no/such/thing")).send().await.unwrap();
    assert_json_error(resp, 404, "not_found").await;

    let resp = client.delete(app.url("/api/health")).send().await.unwrap();
    assert_json_error(resp, 405, "method_not_allowed").await;

    let ok = client
        .post(app.url("/test/echo"))
        .json(&serde_json::json!({"name": "gv", "count": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    let resp = client
        .post(app.url("/test/echo"))
        .header("content-type", "application/json")
        .body("{\"name\": \"gv\", \"count\": ")
        .send()
        .await
        .unwrap();
    assert_json_error(resp, 400, "invalid_request").await;

    let resp = client
        .post(app.url("/test/echo"))
        .json(&serde_json::json!({"name": "gv", "count": 11}))
        .send()
        .await
        .unwrap();
    let message = assert_json_error(resp, 400, "invalid_request").await;
    assert!(
        message.contains("count"),
        "validation message names the field: {message}"
    );

    let resp = client
        .post(app.url("/test/echo"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_json_error(resp, 415, "unsupported_media_type").await;

    let big = format!("{{\"name\":\"{}\",\"count\":1}}", "x".repeat(4096));
    let resp = client
        .post(app.url("/test/echo"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let message = assert_json_error(resp, 413, "payload_too_large").await;
    assert!(message.contains("1024"), "{message}");

    // Chunked: no Content-Length, the limit still holds.
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(512)
        .map(|c| Ok(String::from_utf8(c.to_vec()).unwrap()))
        .collect();
    let resp = client
        .post(app.url("/test/echo"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_json_error(resp, 413, "payload_too_large").await;

    // A small chunked body passes through intact.
    let small: Vec<Result<&'static str, std::io::Error>> =
        vec![Ok("{\"name\":\"chu"), Ok("nked\",\"count\":2}")];
    let resp = client
        .post(app.url("/test/echo"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            small,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let echoed: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(echoed["name"], "chunked");

    let resp = client.get(app.url("/slow?ms=3000")).send().await.unwrap();
    assert_json_error(resp, 503, "timeout").await;

    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn request_id_is_generated_or_echoed() {
    let mut app = TestApp::builder().routes(test_routes).start().await;
    let client = fresh_client();

    let a = client.get(app.url("/api/health")).send().await.unwrap();
    let b = client.get(app.url("/api/health")).send().await.unwrap();
    let id_a = a.headers()["x-request-id"].to_str().unwrap().to_string();
    let id_b = b.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id_a.len(), 32);
    assert_ne!(id_a, id_b);

    let echoed = client
        .get(app.url("/api/health"))
        .header("x-request-id", "lb-7f3a.2")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "lb-7f3a.2");

    let replaced = client
        .get(app.url("/api/health"))
        .header("x-request-id", "<script>")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "<script>");

    // The id in the header is the id in the log line.
    let logged = app
        .wait_for_log("request log line", |r| {
            r["msg"] == "request" && r["request_id"] == "lb-7f3a.2"
        })
        .await;
    assert_eq!(logged["path"], "/api/health");
    app.stop(Duration::from_secs(5)).await.unwrap();
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn slow_clients_cannot_hold_a_connection() {
    use tokio::io::AsyncWriteExt;
    let mut app = TestApp::builder()
        .routes(test_routes)
        .config("server.header_read_timeout_secs", 1)
        .config("server.request_timeout_secs", 1)
        .start()
        .await;
    let limit = Duration::from_secs(10);

    // Sends nothing at all.
    let mut silent = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
    let closed = tokio::time::timeout(limit, read_until_closed(&mut silent)).await;
    assert!(closed.is_ok(), "a silent connection was not closed");

    // Sends half a request head, then stalls.
    let mut trickle = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
    trickle
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let closed = tokio::time::timeout(limit, read_until_closed(&mut trickle)).await;
    assert!(
        closed.is_ok(),
        "a half-sent request head held the connection"
    );

    // Announces a chunked body and never sends it: answered 503 timeout, then closed.
    let mut stalled = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
    stalled
        .write_all(b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = tokio::time::timeout(limit, read_until_closed(&mut stalled))
        .await
        .expect("a stalled body was cut off");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"code\":\"timeout\""), "{answer}");

    // HTTP/2 prior knowledge is not spoken: the preface is answered as a bad HTTP/1 request.
    let mut h2 = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    let closed = tokio::time::timeout(limit, read_until_closed(&mut h2)).await;
    assert!(closed.is_ok(), "an HTTP/2 preface held the connection");
    app.stop(Duration::from_secs(5)).await.unwrap();
}
