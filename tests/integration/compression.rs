//! Compressed answers: cached responses (stats, leaderboard pages, the current race) in the
//! encoding `Accept-Encoding` asks for, with `Vary`, one ETag per variant and 304; identity for
//! a client that accepts nothing; other JSON answers compressed on the fly; every compressed
//! body decodes to exactly the plain one.

use std::io::Read;

use crate::harness::{fixture, fresh_client, FakeMode, TestApp};

/// The cached endpoints, each large enough to be worth compressing with the 1,800-player
/// fixture.
const CACHED: [&str; 3] = [
    "/api/affiliate/stats",
    "/api/leaderboard?period=monthly&limit=100",
    "/api/wager-races/current",
];

/// The 1,800-player fixture on a stopped clock (so the race's `seconds_left` holds still).
async fn big_daemon() -> TestApp {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-1800.json")))
        .clock(chrono::Utc::now())
        .start()
        .await;
    app.wait_for_players(1800).await;
    app
}

/// GET with an optional `Accept-Encoding` and `If-None-Match`: status, headers, raw body.
async fn get(
    app: &TestApp,
    path: &str,
    accept: Option<&str>,
    if_none_match: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = fresh_client().get(app.url(path));
    if let Some(a) = accept {
        req = req.header("accept-encoding", a);
    }
    if let Some(e) = if_none_match {
        req = req.header("if-none-match", e);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).map(|v| v.to_str().unwrap())
}

fn decode(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    match encoding {
        None => plain.extend_from_slice(body),
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut plain)
                .unwrap();
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut plain)
                .unwrap();
        }
        Some(other) => panic!("unexpected Content-Encoding {other}"),
    }
    plain
}

#[tokio::test]
async fn cached_responses_in_each_accepted_encoding() {
    let app = big_daemon().await;
    // (Accept-Encoding, the encoding expected)
    let cases: [(Option<&str>, Option<&str>); 8] = [
        (None, None),
        (Some("identity"), None),
        (Some("deflate, zstd"), None),
        (Some("gzip;q=0, br;q=0"), None),
        (Some("gzip"), Some("gzip")),
        (Some("br"), Some("br")),
        (Some("gzip, deflate, br"), Some("br")),
        (Some("br;q=0.2, gzip;q=0.8"), Some("gzip")),
    ];
    for path in CACHED {
        let (status, _, plain) = get(&app, path, None, None).await;
        assert_eq!(status, 200, "{path}");
        serde_json::from_slice::<serde_json::Value>(&plain).expect("plain body is JSON");
        let mut etags = std::collections::HashMap::new();
        for (accept, expected) in cases {
            let (status, headers, body) = get(&app, path, accept, None).await;
            assert_eq!(status, 200, "{path} {accept:?}");
            assert_eq!(
                header(&headers, "content-encoding"),
                expected,
                "{path} {accept:?}"
            );
            assert_eq!(
                header(&headers, "vary"),
                Some("accept-encoding"),
                "{path} {accept:?}"
            );
            assert!(
                header(&headers, "content-type")
                    .unwrap()
                    .starts_with("application/json"),
                "{path}"
            );
            if expected.is_some() {
                assert!(body.len() < plain.len(), "{path} {accept:?} is smaller");
            }
            assert_eq!(
                decode(expected, &body),
                plain,
                "{path} {accept:?} decodes to the plain body"
            );
            let etag = header(&headers, "etag").unwrap().to_string();
            etags
                .entry(expected)
                .or_insert_with(Vec::new)
                .push(etag.clone());

            // 304 for the variant's own ETag, with the same Vary and ETag.
            let (status, headers, body) = get(&app, path, accept, Some(&etag)).await;
            assert_eq!(status, 304, "{path} {accept:?}");
            assert!(body.is_empty());
            assert_eq!(header(&headers, "etag"), Some(etag.as_str()));
            assert_eq!(header(&headers, "vary"), Some("accept-encoding"));
        }
        // Same encoding, same ETag; a different encoding, a different ETag.
        for tags in etags.values() {
            assert!(tags.windows(2).all(|w| w[0] == w[1]), "{path} {tags:?}");
        }
        let distinct: std::collections::HashSet<&String> = etags.values().map(|t| &t[0]).collect();
        assert_eq!(distinct.len(), 3, "{path}: one ETag per encoding");
        // Another variant's ETag does not validate this one.
        let gzip_etag = &etags[&Some("gzip")][0];
        let (status, headers, _) = get(&app, path, Some("br"), Some(gzip_etag)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-encoding"), Some("br"));
    }
}

#[tokio::test]
async fn other_json_answers_are_compressed_on_the_fly() {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .start()
        .await;
    app.wait_for_players(12).await;
    // The OpenAPI document is JSON of many KiB, built per request.
    let (status, headers, plain) = get(&app, "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert!(plain.len() > 1024);
    assert_eq!(header(&headers, "content-encoding"), None);
    assert_eq!(header(&headers, "vary"), Some("accept-encoding"));
    for encoding in ["gzip", "br"] {
        let (status, headers, body) = get(&app, "/openapi.json", Some(encoding), None).await;
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-encoding"), Some(encoding));
        assert_eq!(header(&headers, "vary"), Some("accept-encoding"));
        assert!(body.len() < plain.len());
        assert_eq!(decode(Some(encoding), &body), plain);
    }
    // Small answers and error answers go out as they are.
    let (status, headers, body) = get(&app, "/api/health", Some("gzip"), None).await;
    assert_eq!(status, 200);
    assert!(body.len() < 1024, "health stays small");
    assert_eq!(header(&headers, "content-encoding"), None);
    let (status, headers, _) = get(&app, "/api/no-such-thing", Some("gzip"), None).await;
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "content-encoding"), None);
}
