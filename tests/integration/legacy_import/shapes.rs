//! One old database of each shape, imported whole and checked through the daemon.

use super::*;

#[tokio::test]
async fn shape_v_accounts_links_races_and_codes() {
    let old = old_database("v").await;
    let expected = expected("v");
    let app = TestApp::builder().start().await;
    let out = import(&app, &old, &[], &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.stdout;
    assert!(report.contains("import-legacy: shape v"), "{report}");
    assert!(
        report.contains("users: 9 imported, 0 already imported, 0 skipped"),
        "{report}"
    );
    assert!(
        report.contains("races: 2 imported, 0 already imported, 1 skipped"),
        "{report}"
    );
    assert!(
        report.contains("(June 2025)") || report.contains("(202506)"),
        "{report}"
    );
    assert!(
        report.contains("bonus codes: 2 imported, 0 already imported, 1 skipped"),
        "{report}"
    );
    // The account with the same email in another case is kept and said so.
    assert!(
        report.contains("another account has this email in another case"),
        "{report}"
    );
    assert_eq!(audit_lines(&app).await, 1);

    check_users(&app, &expected).await;
    check_races(&app, &expected).await;
    check_bonus_codes(&app, &expected, &report).await;
    // Linked Telegram users get race notifications, as on the old site.
    assert!(notified(&app, 700672281).await);
    assert!(notified(&app, 700432054).await);
    // The old ids are recorded for the old addresses.
    let legacy: i64 = query_one(&app, "SELECT count(*) FROM legacy_user_ids", &[])
        .await
        .get(0);
    assert_eq!(legacy, 9);
    // Markup in a name stays text: escaped on the account page.
    let token = login(&app, "Zoë <b>bold</b>", "pw-lalujusaka-5")
        .await
        .unwrap();
    let (_, _, page) = crate::web::page(&app, "/account", Some(&token)).await;
    assert!(page.contains("Zoë &lt;b&gt;bold&lt;/b&gt;"), "{page}");
    assert!(!page.contains("<b>bold</b>"));
}

#[tokio::test]
async fn shape_c_scrypt_logins_requests_by_name_and_preferences() {
    let old = old_database("c").await;
    let expected = expected("c");
    let app = TestApp::builder().start().await;
    // The pending request names only the Goated player: found in the current data.
    app.db()
        .client()
        .await
        .execute(
            "INSERT INTO players (uid, name, today, this_week, this_month, all_time, sync_id)
             VALUES ('8dE3xKJm8GAF0wAwaIIN', 'ZERUPUPO35_G', 0, 0, 0, 0, 1)",
            &[],
        )
        .await
        .unwrap();
    let out = import(&app, &old, &[], &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.stdout;
    assert!(report.contains("users: 9 imported"), "{report}");
    assert!(report.contains("link requests: 1 imported"), "{report}");
    assert!(
        report.contains("a Telegram user with no site account"),
        "{report}"
    );
    assert!(report.contains("race notifications off"), "{report}");

    check_users(&app, &expected).await;
    // The request by name became a request for the uid of that name.
    let token = login(&app, "zerupupo35", "pw-zubowewujo-3").await.unwrap();
    let (_, account) = crate::accounts::get_with(&app, "/api/account", Some(&token)).await;
    assert_eq!(
        account["pending_requests"][0]["goated_uid"], "8dE3xKJm8GAF0wAwaIIN",
        "{account}"
    );
    check_races(&app, &expected).await;
    check_bonus_codes(&app, &expected, &report).await;
    // bukovuki30 had wager_race_updates = false; nobehuha71 had no preference.
    assert!(!notified(&app, 700672281).await);
    assert!(notified(&app, 700432054).await);
}

#[tokio::test]
async fn shape_b_decrypts_with_the_key_file_and_keeps_bcrypt() {
    let old = old_database("b").await;
    let expected = expected("b");
    let app = TestApp::builder().start().await;
    let key_file = app.path("old-key");
    std::fs::write(
        &key_file,
        format!(
            "{}\n",
            expected["password_encryption_key"].as_str().unwrap()
        ),
    )
    .unwrap();
    let out = import(
        &app,
        &old,
        &["--password-key-file", key_file.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.stdout;
    assert!(report.contains("users: 9 imported"), "{report}");
    assert!(!report.contains("without a usable password"), "{report}");
    // Decrypted passwords are argon2id at once; the test user's bcrypt is kept until login.
    assert!(stored_hash(&app, "gudifoto84")
        .await
        .starts_with("$argon2id$"));
    assert!(stored_hash(&app, "zozedade22").await.starts_with("$2b$10$"));

    // Shape b holds no pending link requests (expected.json names one for zerupupo35 all
    // the same): every other expectation holds.
    let mut expected = expected;
    for user in expected["users"].as_array_mut().unwrap() {
        user["goated_requested_uid"] = Value::Null;
    }
    check_users(&app, &expected).await;
    check_races(&app, &expected).await;
    check_bonus_codes(&app, &expected, &report).await;
}
