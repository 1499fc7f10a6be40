//! Leaderboard, stats, players: ranking with ties, exact decimals, names intact, pagination
//! bounds, bad parameters, ETag/304, tiers, search.

use crate::harness::{fixture, fresh_client, url, FakeMode, TestApp};

/// The binary serving the small fixture, its 12 players synced.
async fn small_daemon() -> TestApp {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .start()
        .await;
    app.wait_for_players(12).await;
    app
}

fn uids(page: &serde_json::Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn rankings_ties_and_exact_decimals() {
    let app = small_daemon().await;
    let (_, monthly) = app
        .get_json("/api/leaderboard?period=monthly&limit=100")
        .await;
    assert_eq!(
        uids(&monthly),
        vec![
            "big_bertha",
            "emoji🐐king",
            "LuckyLlama",
            "<script>alert(1)</script>",
            "crashqueen",
            "weekly_wendy",
            "tie_alpha",
            "tie_beta",
            "Zé_Ñandú",
            "tiny_tim",
            "dormant_dan",
            "zero_zoe"
        ]
    );
    // Ranks are positions + 1; tie_alpha and tie_beta are equal everywhere: uid decides.
    let entries = monthly["entries"].as_array().unwrap();
    assert!(entries
        .iter()
        .enumerate()
        .all(|(i, e)| e["rank"] == i as u64 + 1));
    let (_, today) = app.get_json("/api/leaderboard?period=today&limit=3").await;
    assert_eq!(uids(&today), vec!["big_bertha", "LuckyLlama", "Zé_Ñandú"]);
    assert_eq!(today["entries"][0]["tier"], "Emerald");
    // The raw text keeps every digit.
    let raw = app.get_text("/api/leaderboard?period=today&limit=1").await;
    assert!(raw.contains("\"wagered\":98000.12345678"), "{raw}");
    let raw = app
        .get_text("/api/leaderboard?period=all_time&limit=100")
        .await;
    assert!(raw.contains("0.0001") && raw.contains("449999.99"), "{raw}");

    let (_, stats) = app.get_json("/api/affiliate/stats").await;
    assert_eq!(stats["status"], "success");
    assert_eq!(stats["metadata"]["totalUsers"], 12);
    assert!(stats["metadata"]["lastUpdated"].is_string());
    let weekly = stats["data"]["weekly"]["data"].as_array().unwrap();
    assert_eq!(weekly[0]["name"], "big_bertha");
    assert_eq!(weekly[1]["name"], "weekly_wendy");
    assert_eq!(weekly[0]["wagered"]["today"].to_string(), "98000.12345678");
    assert_eq!(stats["data"]["all_time"]["data"][0]["name"], "Zé_Ñandú");
}

#[tokio::test]
async fn pagination_bounds_and_bad_parameters() {
    let app = small_daemon().await;
    let (_, p) = app
        .get_json("/api/leaderboard?period=all_time&page=2&limit=5")
        .await;
    assert_eq!(
        (
            p["page"].as_u64(),
            p["limit"].as_u64(),
            p["total"].as_u64(),
            p["total_pages"].as_u64()
        ),
        (Some(2), Some(5), Some(12), Some(3))
    );
    assert_eq!(p["entries"][0]["rank"], 6);
    let (_, last) = app
        .get_json("/api/leaderboard?period=all_time&page=3&limit=5")
        .await;
    assert_eq!(last["entries"].as_array().unwrap().len(), 2);
    let (status, beyond) = app.get_json("/api/leaderboard?page=9&limit=5").await;
    assert_eq!(status, 200);
    assert_eq!(beyond["entries"].as_array().unwrap().len(), 0);
    let (_, default) = app.get_json("/api/leaderboard").await;
    assert_eq!(
        (default["period"].as_str(), default["limit"].as_u64()),
        (Some("monthly"), Some(10))
    );
    for bad in ["limit=0", "limit=101", "page=0", "limit=ten", "page=-1"] {
        let (status, body) = app.get_json(&format!("/api/leaderboard?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request", "{bad}");
    }
    // An unknown period names the parameter's values (old_addresses tests `timeframe`).
    let (status, body) = app.get_json("/api/leaderboard?period=yearly").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_parameter");
}

#[tokio::test]
async fn etag_and_not_modified() {
    let app = small_daemon().await;
    let addr = app.addr();
    let client = fresh_client();
    let first = client
        .get(url(addr, "/api/leaderboard?period=weekly"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert!(first.headers().contains_key("last-modified"));
    let again = client
        .get(url(addr, "/api/leaderboard?period=weekly"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.text().await.unwrap().is_empty());
    let other = client
        .get(url(addr, "/api/leaderboard?period=today"))
        .send()
        .await
        .unwrap();
    assert_ne!(other.headers()["etag"].to_str().unwrap(), etag);

    // New data: the old ETag no longer matches.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&fixture("leaderboard-small.json")).unwrap();
    doc["data"][1]["wagered"]["this_week"] = serde_json::json!(999999);
    app.fake().set(FakeMode::Body(doc.to_string().into_bytes()));
    crate::harness::wait_for(
        "the new data",
        std::time::Duration::from_secs(20),
        || async {
            let resp = fresh_client()
                .get(url(addr, "/api/leaderboard?period=weekly"))
                .header("if-none-match", &etag)
                .send()
                .await
                .unwrap();
            (resp.status() == 200).then_some(())
        },
    )
    .await;
    let (_, weekly) = app.get_json("/api/leaderboard?period=weekly&limit=1").await;
    assert_eq!(weekly["entries"][0]["name"], "crashqueen");
}

#[tokio::test]
async fn players_tiers_and_search() {
    let app = small_daemon().await;
    let (status, dan) = app.get_json("/api/players/Fu8XrZ9wCa6LnO3hPq7i").await;
    assert_eq!(status, 200);
    assert_eq!(dan["name"], "dormant_dan");
    assert_eq!(dan["wagered"]["all_time"].to_string(), "449999.99");
    // 449,999.99 is just below Platinum (450k): Gold, 99.99 % of the way from 100k.
    assert_eq!(dan["tier"]["name"], "Gold");
    assert_eq!(dan["tier"]["next"], "Platinum");
    assert_eq!(dan["tier"]["progress_percent"].to_string(), "99.99");
    assert_eq!(dan["ranks"]["all_time"], 4);
    assert!(
        dan["race"].is_null(),
        "nothing wagered this month: not in the race"
    );

    let (_, bertha) = app.get_json("/api/players/Ix1AuC2zFd9OqR6kSt0l").await;
    assert_eq!(bertha["race"]["rank"], 1);
    assert_eq!(bertha["race"]["prize"], 1250);
    assert!(bertha["race"]["gap_to_next"].is_null());
    assert_eq!(bertha["tier"]["name"], "Emerald");

    let (status, missing) = app.get_json("/api/players/nobody").await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["code"], "not_found");
    assert_eq!(missing["error"]["message"], "no player with uid \"nobody\"");

    let (_, found) = app.get_json("/api/players?search=TIE_").await;
    let names: Vec<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["tie_alpha", "tie_beta"]);
    let (_, one) = app.get_json("/api/players?search=a&limit=1").await;
    assert_eq!(one["truncated"], true);
    let (status, _) = app.get_json("/api/players?search=").await;
    assert_eq!(status, 400);
    let (status, body) = app.get_json("/api/players?search=%20%20").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, _) = app.get_json("/api/players").await;
    assert_eq!(status, 400);
}
