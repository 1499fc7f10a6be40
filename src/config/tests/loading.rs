//! Loading as a whole: merging file and environment, every error listed with its origin,
//! masking, the environment file, notes.

use super::super::*;
use super::in_development;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn from_text(text: &str, env_pairs: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    let layer = EnvLayer {
        vars: env(env_pairs),
        file: None,
    };
    let text = in_development(text);
    build(
        Some(Path::new("/etc/test.toml")),
        Some(&text),
        &[layer],
        &mut Vec::new(),
    )
}

#[test]
fn defaults_are_production_and_valid_with_a_session_secret() {
    let secret = "0123456789abcdef0123456789abcdef";
    let layer = |pairs: &[(&str, &str)]| EnvLayer {
        vars: env(pairs),
        file: None,
    };
    let defaults = |pairs: &[(&str, &str)]| build(None, None, &[layer(pairs)], &mut Vec::new());
    let c = defaults(&[("SESSION_SECRET", secret)]).unwrap();
    assert_eq!(c.server.environment, Environment::Production);
    assert!(c.secure_cookies());
    let mut expected = Config::default();
    expected.security.session_secret = c.security.session_secret.clone();
    assert_eq!(c, expected);
    // Without one, production says what is missing instead of making a key.
    let text = defaults(&[]).unwrap_err().to_string();
    assert!(text.contains("security.session_secret"), "{text}");
    let dev = from_text("[server]\nenvironment = \"development\"\n", &[]).unwrap();
    assert!(!dev.secure_cookies());
}

#[test]
fn every_error_is_listed_with_key_and_file() {
    let errs = from_text(
        "[server]\nport = \"x\"\nprot = 1\n[nope]\na = 1\n[log]\nlevel = \"loud\"\n",
        &[],
    )
    .unwrap_err();
    let text = errs.to_string();
    assert!(
        text.contains("server.port (from /etc/test.toml): expected an integer, found a string"),
        "{text}"
    );
    assert!(
        text.contains("server.prot (from /etc/test.toml): unknown key"),
        "{text}"
    );
    assert!(text.contains("unknown section [nope]"), "{text}");
    // The range check of log.level runs too, in the same pass.
    assert!(
        text.contains("log.level (from /etc/test.toml): must be one of"),
        "{text}"
    );
    assert_eq!(errs.0.len(), 4, "{text}");
}

#[test]
fn validation_collects_all_range_errors() {
    let errs = from_text("[log]\nlevel = \"loud\"\n[database]\npool_size = 0\n", &[]).unwrap_err();
    let keys: Vec<&str> = errs.0.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, vec!["database.pool_size", "log.level"]);
}

#[test]
fn out_of_range_values_are_all_listed() {
    let errs = from_text(
        "[server]\nport = 70000\nhost = \"not an ip\"\n[log]\nlevel = \"loud\"\n[database]\npool_size = -1\n",
        &[],
    )
    .unwrap_err();
    let mut keys: Vec<&str> = errs.0.iter().map(|e| e.key.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "database.pool_size",
            "log.level",
            "server.host",
            "server.port"
        ],
        "{errs}"
    );
    assert!(
        !errs.to_string().contains('\n'),
        "one line per error: {errs}"
    );
}

#[test]
fn metrics_listen_is_an_address_or_off() {
    assert_eq!(
        Config::default().metrics.listen,
        Some("127.0.0.1:9464".parse().unwrap())
    );
    let off = from_text("[metrics]\nlisten = \"\"\n", &[]).unwrap();
    assert_eq!(off.metrics.listen, None);
    let env = from_text("", &[("GOATEDVIPS_METRICS__LISTEN", "[::1]:9500")]).unwrap();
    assert_eq!(env.metrics.listen, Some("[::1]:9500".parse().unwrap()));
    let text = from_text("[metrics]\nlisten = \"localhost\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("metrics.listen (from /etc/test.toml): must be an IP address and port"),
        "{text}"
    );
    let masked = off.to_masked_toml();
    assert!(masked.contains("[metrics]\nlisten = \"\""), "{masked}");
}

#[test]
fn legacy_and_generic_env_overrides() {
    let c = from_text(
        "[server]\nport = 1\n",
        &[
            ("PORT", "4000"),
            ("ALLOWED_ORIGINS", "https://a.example, https://b.example"),
            ("NODE_ENV", "production"),
            ("SESSION_SECRET", "0123456789abcdef0123456789abcdef"),
            ("GOATEDVIPS_LOG__FILE", ""),
        ],
    )
    .unwrap();
    assert_eq!(c.server.port, 4000);
    assert!(c.secure_cookies());
    assert_eq!(c.security.allowed_origins.len(), 2);
    assert_eq!(c.log.file, "");
    // The generic name wins over the legacy one.
    let c = from_text("", &[("PORT", "4000"), ("GOATEDVIPS_SERVER__PORT", "5000")]).unwrap();
    assert_eq!(c.server.port, 5000);
}

#[test]
fn the_old_telegram_id_lists_set_the_telegram_keys() {
    let c = from_text(
        "",
        &[
            ("ADMIN_TELEGRAM_IDS", "1001, 1002"),
            ("ALLOWED_GROUP_IDS", "-1001234567890"),
        ],
    )
    .unwrap();
    assert_eq!(c.telegram.admin_ids, vec![1001, 1002]);
    assert_eq!(c.telegram.allowed_groups, vec![-1001234567890]);
    // The generic names take lists of integers too.
    let c = from_text("", &[("GOATEDVIPS_TELEGRAM__ADMIN_IDS", "7")]).unwrap();
    assert_eq!(c.telegram.admin_ids, vec![7]);
    let text = from_text("", &[("ADMIN_TELEGRAM_IDS", "1, boss")])
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("telegram.admin_ids (from environment variable ADMIN_TELEGRAM_IDS)"),
        "{text}"
    );
}

#[test]
fn bad_env_values_name_the_variable() {
    let errs = from_text("", &[("PORT", "abc"), ("GOATEDVIPS_SERVER__NOPE", "1")]).unwrap_err();
    let text = errs.to_string();
    assert!(
        text.contains("server.port (from environment variable PORT): expected an integer"),
        "{text}"
    );
    assert!(text.contains("server.nope (from environment variable GOATEDVIPS_SERVER__NOPE): no such configuration key"), "{text}");
}

#[test]
fn secrets_are_masked() {
    let c = from_text(
        "[database]\nurl = \"postgres://app:hunter2@db:5432/g\"\n[telegram]\nbot_token = \"123:ABC\"\n",
        &[],
    )
    .unwrap();
    let shown = c.to_masked_toml();
    assert!(
        !shown.contains("hunter2") && !shown.contains("123:ABC"),
        "{shown}"
    );
    assert!(shown.contains("postgres://app:***@db:5432/g"), "{shown}");
    assert_eq!(
        mask_database_url("host=x password=pw user=u"),
        "host=x password=*** user=u"
    );
}

#[test]
fn race_settings_are_checked() {
    let errs = from_text(
        "[race]\ntimezone = \"Mars/Olympus\"\nprize_percentages = [60, 40.5]\nprize_pool = -1\n",
        &[],
    )
    .unwrap_err();
    let text = errs.to_string();
    assert!(text.contains("race.timezone"), "{text}");
    assert!(
        text.contains(
            "race.prize_percentages (from /etc/test.toml): percentages add up to 100.5 %"
        ),
        "{text}"
    );
    assert!(text.contains("race.prize_pool"), "{text}");
    let c = from_text(
        "[race]\nprize_pool = \"1000.10\"\ntimezone = \"Europe/Berlin\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(c.race.prize_pool.to_string(), "1000.10");
    let errs = from_text("[race]\nprize_pool = true\n", &[]).unwrap_err();
    assert!(errs.to_string().contains("expected a number"), "{errs}");
}

#[test]
fn the_telegram_bot_needs_two_database_connections() {
    let errs = from_text(
        "[database]\npool_size = 1\n",
        &[("TELEGRAM_BOT_TOKEN", "123:abc")],
    )
    .unwrap_err();
    assert_eq!(errs.0.len(), 1);
    assert_eq!(errs.0[0].key, "database.pool_size");
    assert!(errs.0[0].to_string().contains("Telegram"), "{}", errs.0[0]);
    from_text("[database]\npool_size = 1\n", &[]).unwrap();
}

#[test]
fn goated_source_needs_a_token() {
    let errs = from_text("[upstream]\nsource = \"goated\"\n", &[]).unwrap_err();
    let keys: Vec<&str> = errs.0.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, vec!["upstream.token"]);
    let c = from_text("[upstream]\n", &[("GOATED_API_TOKEN", "t0k")]).unwrap();
    assert_eq!(c.upstream.effective_source(), SourceKind::Goated);
    assert!(!c.to_masked_toml().contains("t0k"));
}

fn with_notes(text: &str, env_pairs: &[(&str, &str)]) -> (Config, Vec<String>) {
    let layer = EnvLayer {
        vars: env(env_pairs),
        file: None,
    };
    let mut notes = Vec::new();
    let text = in_development(text);
    let c = build(
        Some(Path::new("/etc/test.toml")),
        Some(&text),
        &[layer],
        &mut notes,
    )
    .unwrap();
    (c, notes)
}

#[test]
fn the_upstream_url_defaults_to_the_live_one() {
    let (c, notes) = with_notes("", &[]);
    assert_eq!(
        c.upstream.url,
        "https://apis.goated.com/user/affiliate/referral-leaderboard/2RW440E"
    );
    assert!(notes.is_empty(), "{notes:?}");
    let errs = from_text("[upstream]\nurl = \"apis.goated.com/x\"\n", &[]).unwrap_err();
    assert_eq!(errs.0[0].key, "upstream.url");
}

#[test]
fn the_old_apps_environment_names_set_the_url_and_token() {
    let (c, notes) = with_notes(
        "",
        &[
            (
                "GOATED_API_URL",
                "https://api.goated.com/user2/affiliate/referral-leaderboard/X1",
            ),
            ("API_TOKEN", "old-token"),
        ],
    );
    assert_eq!(
        c.upstream.url,
        "https://api.goated.com/user2/affiliate/referral-leaderboard/X1"
    );
    assert_eq!(c.upstream.token, "old-token");
    assert_eq!(c.upstream.effective_source(), SourceKind::Goated);
    assert!(notes.is_empty(), "{notes:?}");
    let c = from_text(
        "",
        &[
            ("API_TOKEN", "old-token"),
            ("GOATED_API_TOKEN", "new-token"),
        ],
    )
    .unwrap();
    assert_eq!(c.upstream.token, "new-token", "the more specific name wins");
}

#[test]
fn the_deprecated_base_url_and_affiliate_id_still_give_the_url() {
    let (c, notes) = with_notes(
        "[upstream]\nbase_url = \"https://api.goated.com/\"\naffiliate_id = \"2RW440E\"\n",
        &[],
    );
    assert_eq!(
        c.upstream.url,
        "https://api.goated.com/user/affiliate/referral-leaderboard/2RW440E"
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("deprecated"), "{notes:?}");
    assert!(notes[0].contains(&c.upstream.url), "{notes:?}");

    // The affiliate id alone means the live host.
    let (c, _) = with_notes("[upstream]\naffiliate_id = \"2RW440E\"\n", &[]);
    assert_eq!(c.upstream.url, sections::LIVE_URL);

    // Both: the full URL wins, and the note says so.
    let (c, notes) = with_notes(
        "[upstream]\nurl = \"http://127.0.0.1:9/lb\"\naffiliate_id = \"gv\"\n",
        &[],
    );
    assert_eq!(c.upstream.url, "http://127.0.0.1:9/lb");
    assert!(
        notes[0].contains("ignored") && notes[0].contains("upstream.url is set and wins"),
        "{notes:?}"
    );

    let errs = from_text("[upstream]\nbase_url = \"https://x.example\"\n", &[]).unwrap_err();
    assert_eq!(errs.0[0].key, "upstream.affiliate_id");
}

#[test]
fn the_env_file_is_read_last_like_systemds_environment_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.env");
    std::fs::write(
        &file,
        "# secrets\nexport GOATED_API_TOKEN='tok en'\nPORT=4000\nDATABASE_URL=\"postgres://u@h/db\"\nGOATEDVIPS_LOG__LEVEL=loud\n",
    )
    .unwrap();
    let mut vars = env(&[
        ("PORT", "5000"),
        ("GOATEDVIPS_UPSTREAM__AFFILIATE_ID", "gv"),
    ]);
    vars.insert("GOATEDVIPS_ENV_FILE".into(), file.display().to_string());
    let errs = load_with_env(&ConfigSource::Explicit(dir.path().join("none.toml")), &vars);
    assert!(errs.is_err(), "the config file itself is missing");
    std::fs::write(
        dir.path().join("c.toml"),
        "[server]\nenvironment = \"development\"\n",
    )
    .unwrap();
    let errs =
        load_with_env(&ConfigSource::Explicit(dir.path().join("c.toml")), &vars).unwrap_err();
    assert_eq!(
        errs.to_string(),
        format!("log.level (from GOATEDVIPS_LOG__LEVEL in {}): must be one of trace, debug, info, warning, error, critical", file.display())
    );
    std::fs::write(
        &file,
        "GOATED_API_TOKEN='tok en'\nPORT=4000\nDATABASE_URL=\"postgres://u@h/db\"\n",
    )
    .unwrap();
    let c = load_with_env(&ConfigSource::Explicit(dir.path().join("c.toml")), &vars)
        .unwrap()
        .config;
    assert_eq!(c.upstream.token, "tok en");
    assert_eq!(
        c.server.port, 4000,
        "the file wins, as EnvironmentFile= over Environment="
    );
    assert_eq!(c.database.url, "postgres://u@h/db");
    vars.insert(
        "GOATEDVIPS_ENV_FILE".into(),
        dir.path().join("missing.env").display().to_string(),
    );
    let errs =
        load_with_env(&ConfigSource::Explicit(dir.path().join("c.toml")), &vars).unwrap_err();
    assert!(
        errs.to_string()
            .contains("cannot read the environment file"),
        "{errs}"
    );
}

#[test]
fn env_file_quotes_and_escapes() {
    let vars = parse_env_file("A=\"x \\\"y\\\" z\"\nB='lit\\n'\n C = plain \n#C=no\nexport D=1\n");
    let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("A"), Some("x \"y\" z"));
    assert_eq!(get("B"), Some("lit\\n"));
    assert_eq!(get("C"), Some("plain"));
    assert_eq!(get("D"), Some("1"));
}

#[test]
fn production_requires_a_session_secret() {
    let errs = from_text("[server]\nenvironment = \"production\"\n", &[]).unwrap_err();
    assert_eq!(errs.0[0].key, "security.session_secret");
}

#[test]
fn security_values_are_checked() {
    let errs = from_text(
        "[security]\nallowed_origins = [\"*\", \"https://a.example/path\"]\n\
         trusted_proxies = [\"10.0.0.0/40\"]\nsession_ttl_days = 0\n\
         rate_limit_requests = 0\npassword_hash_concurrency = 0\n",
        &[],
    )
    .unwrap_err();
    let keys: Vec<&str> = errs.0.iter().map(|e| e.key.as_str()).collect();
    for key in [
        "security.allowed_origins",
        "security.trusted_proxies",
        "security.session_ttl_days",
        "security.rate_limit_requests",
        "security.password_hash_concurrency",
    ] {
        assert!(keys.contains(&key), "{key} not in {keys:?}");
    }
    assert!(
        errs.to_string().contains("\"*\" is not an exact origin"),
        "{errs}"
    );
}

#[test]
fn security_values_are_typed() {
    let c = from_text(
        "[security]\nallowed_origins = [\"https://a.example/\"]\n\
         trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\nsecure_cookies = true\n",
        &[],
    )
    .unwrap();
    assert_eq!(c.security.allowed_origins, ["https://a.example"]);
    assert_eq!(c.security.trusted_proxies.len(), 2);
    assert!(c.security.trusted_proxies[1].contains("10.9.8.7".parse().unwrap()));
    assert!(c.secure_cookies());
    assert!(Config::default().secure_cookies(), "production by default");
    assert_eq!(Config::default().security.rate_limit_requests, 100);
    assert_eq!(Config::default().security.session_ttl_days, 30);
}

#[test]
fn forward_channels_take_ids_and_names_from_the_file_and_the_environment() {
    use crate::config::ForwardChannel;
    let c = from_text(
        "[telegram]\nforward_channels = [-1001234567890, \"@goatedcom\"]\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        c.telegram.forward_channels,
        [
            ForwardChannel::Id(-1001234567890),
            ForwardChannel::Name("@goatedcom".into())
        ]
    );
    assert!(c.telegram.forward_channels[1].is(-5, Some("GoatedCom")));
    assert!(!c.telegram.forward_channels[1].is(-5, None));
    let c = from_text(
        "",
        &[(
            "GOATEDVIPS_TELEGRAM__FORWARD_CHANNELS",
            "-100777, @goated_news",
        )],
    )
    .unwrap();
    assert_eq!(c.telegram.forward_channels.len(), 2);
    for bad in [
        "[42]",
        "[\"goatedcom\"]",
        "[\"@no\"]",
        "[\"@bad-name\"]",
        "[1.5]",
    ] {
        let text = from_text(&format!("[telegram]\nforward_channels = {bad}\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(text.contains("telegram.forward_channels"), "{bad}: {text}");
    }
}
