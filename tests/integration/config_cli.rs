//! `goatedvips check-config` and config errors of `serve`: keys named, env overrides, secrets masked.

use crate::harness::run_cli;

const SHIPPED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/etc/goatedvips/goatedvips.toml"
);

#[test]
fn shipped_config_passes_check() {
    // Production, as shipped: the package's secrets.env provides the session secret.
    let out = run_cli(&["check-config", "--config", SHIPPED], &[]);
    assert_eq!(out.code, 78, "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("security.session_secret"),
        "{}",
        out.stderr
    );
    let secret = ("SESSION_SECRET", "0123456789abcdef0123456789abcdef-shipped");
    let out = run_cli(&["check-config", "--config", SHIPPED], &[secret]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(out.stderr.contains("configuration OK"), "{}", out.stderr);
    let effective: toml::Table = out.stdout.parse().expect("check-config prints TOML");
    assert_eq!(effective["server"]["port"].as_integer(), Some(3000));
    assert_eq!(
        effective["server"]["environment"].as_str(),
        Some("production")
    );
    assert!(!out.stderr.contains("note:"), "{}", out.stderr);
}

#[test]
fn the_old_upstream_keys_still_work_with_a_deprecation_note() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.toml");
    std::fs::write(
        &file,
        "[server]\nenvironment = \"development\"\n[upstream]\nbase_url = \"https://api.goated.com\"\naffiliate_id = \"2RW440E\"\n",
    )
    .unwrap();
    let out = run_cli(&["check-config", "--config", file.to_str().unwrap()], &[]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let effective: toml::Table = out.stdout.parse().unwrap();
    let derived = "https://api.goated.com/user/affiliate/referral-leaderboard/2RW440E";
    assert_eq!(effective["upstream"]["url"].as_str(), Some(derived));
    assert!(
        out.stderr
            .contains("note: upstream.base_url and upstream.affiliate_id are deprecated")
            && out.stderr.contains(derived),
        "{}",
        out.stderr
    );

    // The old app's environment name for the whole URL wins over the old keys.
    let out = run_cli(
        &["check-config", "--config", file.to_str().unwrap()],
        &[("GOATED_API_URL", "https://apis.goated.com/x")],
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let effective: toml::Table = out.stdout.parse().unwrap();
    assert_eq!(
        effective["upstream"]["url"].as_str(),
        Some("https://apis.goated.com/x")
    );
    assert!(
        out.stderr.contains("ignored: upstream.url is set and wins"),
        "{}",
        out.stderr
    );
}

#[test]
fn broken_file_lists_every_error_with_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[server]\nport = \"eighty\"\nhots = \"0.0.0.0\"\n[log]\nlevel = \"chatty\"\n[database]\npool_size = 0\n",
    )
    .unwrap();
    let out = run_cli(&["check-config", "--config", path.to_str().unwrap()], &[]);
    assert_eq!(out.code, 78, "EX_CONFIG expected; stderr: {}", out.stderr);
    let file = path.display().to_string();
    assert!(
        out.stderr
            .contains(&format!("server.port (from {file}): expected an integer")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("server.hots (from {file}): unknown key")),
        "{}",
        out.stderr
    );
    // Type errors stop before range checks, so fix them and see the range errors.
    std::fs::write(
        &path,
        "[server]\nenvironment = \"development\"\n[log]\nlevel = \"chatty\"\n[database]\npool_size = 0\n",
    )
    .unwrap();
    let out = run_cli(&["check-config", "--config", path.to_str().unwrap()], &[]);
    assert_eq!(out.code, 78);
    assert!(out.stderr.contains("log.level"), "{}", out.stderr);
    assert!(out.stderr.contains("database.pool_size"), "{}", out.stderr);
    assert!(out.stderr.contains("2 errors"), "{}", out.stderr);
}

#[test]
fn syntax_error_and_missing_file_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("syntax.toml");
    std::fs::write(&path, "[server\nport = 1\n").unwrap();
    let out = run_cli(&["check-config", "--config", path.to_str().unwrap()], &[]);
    assert_eq!(out.code, 78);
    assert!(out.stderr.contains("not valid TOML"), "{}", out.stderr);

    let missing = dir.path().join("missing.toml");
    let out = run_cli(
        &["check-config", "--config", missing.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 78);
    assert!(
        out.stderr.contains("cannot read configuration file"),
        "{}",
        out.stderr
    );
}

#[test]
fn legacy_and_generic_env_names_override_the_file() {
    let out = run_cli(
        &["check-config", "--config", SHIPPED],
        &[
            ("PORT", "4321"),
            ("HOST", "127.0.0.1"),
            (
                "ALLOWED_ORIGINS",
                "https://goatedvips.gg,https://www.goatedvips.gg",
            ),
            ("NODE_ENV", "production"),
            ("SESSION_SECRET", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"),
            ("GOATEDVIPS_LOG__LEVEL", "debug"),
            ("GOATEDVIPS_DATABASE__POOL_SIZE", "3"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let c: toml::Table = out.stdout.parse().unwrap();
    assert_eq!(c["server"]["port"].as_integer(), Some(4321));
    assert_eq!(c["server"]["host"].as_str(), Some("127.0.0.1"));
    assert_eq!(c["server"]["environment"].as_str(), Some("production"));
    assert_eq!(c["log"]["level"].as_str(), Some("debug"));
    assert_eq!(c["database"]["pool_size"].as_integer(), Some(3));
    assert_eq!(
        c["security"]["allowed_origins"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn secrets_never_appear_in_output() {
    let secrets = [
        (
            "DATABASE_URL",
            "postgres://gv:pa55word-db@127.0.0.1:5432/gv",
        ),
        ("SESSION_SECRET", "session-secret-value-0123456789abcdef"),
        ("TELEGRAM_BOT_TOKEN", "123456:bot-token-value"),
        ("TELEGRAM_WEBHOOK_SECRET", "webhook-secret-value"),
    ];
    let out = run_cli(&["check-config", "--config", SHIPPED], &secrets);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for needle in [
        "pa55word-db",
        "session-secret-value",
        "bot-token-value",
        "webhook-secret-value",
    ] {
        assert!(
            !out.stdout.contains(needle) && !out.stderr.contains(needle),
            "{needle} leaked:\n{}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains("postgres://gv:***@127.0.0.1:5432/gv"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("bot_token = \"***\""), "{}", out.stdout);
    // An invalid value next to secrets: the error names the key, still without the secret.
    let mut with_error = secrets.to_vec();
    with_error.push(("PORT", "not-a-port"));
    let out = run_cli(&["check-config", "--config", SHIPPED], &with_error);
    assert_eq!(out.code, 78);
    assert!(
        out.stderr
            .contains("server.port (from environment variable PORT)"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("pa55word-db"));
}

#[test]
fn serve_refuses_an_invalid_config() {
    let out = run_cli(
        &["check-config", "--config", SHIPPED],
        &[("GOATEDVIPS_SERVER__NOPE", "1")],
    );
    assert_eq!(out.code, 78);
    let out = run_cli(
        &["serve", "--config", SHIPPED],
        &[("GOATEDVIPS_SERVER__NOPE", "1")],
    );
    assert_eq!(out.code, 78, "{}", out.stderr);
    assert!(out.stderr.contains("server.nope (from environment variable GOATEDVIPS_SERVER__NOPE): no such configuration key"), "{}", out.stderr);
}

#[test]
fn version_and_help() {
    let out = run_cli(&["--version"], &[]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout.trim(),
        format!("goatedvips {}", env!("CARGO_PKG_VERSION"))
    );
    let out = run_cli(&["--help"], &[]);
    assert!(out.stdout.contains("check-config") && out.stdout.contains("serve"));
    let out = run_cli(&["frobnicate"], &[]);
    assert_eq!(out.code, 2);
}
