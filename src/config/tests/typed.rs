//! The typed values the checks produce, and the choice of upstream source.

use super::super::*;
use super::in_development;

fn from_text(text: &str) -> Config {
    let text = in_development(text);
    build(
        Some(Path::new("/etc/test.toml")),
        Some(&text),
        &[],
        &mut Vec::new(),
    )
    .unwrap()
}

#[test]
fn validation_produces_typed_values() {
    let c = from_text(
        "[server]\nhost = \"127.0.0.1\"\nenvironment = \"test\"\n\
         [log]\nlevel = \"warn\"\n\
         [upstream]\nsource = \"demo\"\ntimezone = \"America/New_York\"\n\
         [race]\ntimezone = \"Europe/Berlin\"\n\
         [database]\nurl = \"postgres://app:hunter2@db.example:6543/g\"\n",
    );
    assert_eq!(
        c.server.host,
        std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST)
    );
    assert_eq!(c.server.environment, Environment::Test);
    assert!(!c.is_production());
    assert_eq!(c.log_level(), slog::Level::Warning);
    assert_eq!(c.upstream.source, UpstreamSource::Demo);
    assert_eq!(c.upstream.effective_source(), SourceKind::Demo);
    assert_eq!(c.upstream.tz(), chrono_tz::America::New_York);
    assert_eq!(c.race.tz(), chrono_tz::Europe::Berlin);
    let pg = c.database.url.pg();
    assert_eq!(pg.get_user(), Some("app"));
    assert_eq!(pg.get_password(), Some(&b"hunter2"[..]));
    assert_eq!(pg.get_ports(), [6543]);
    assert_eq!(
        c.database.url.expose(),
        "postgres://app:hunter2@db.example:6543/g"
    );

    let c = from_text("[server]\nhost = \"::\"\nenvironment = \"production\"\n[security]\nsession_secret = \"0123456789abcdef0123456789abcdef\"\n");
    assert!(c.server.host.is_ipv6() && c.server.host.is_unspecified());
    assert_eq!(c.server.environment, Environment::Production);
    assert!(c.secure_cookies());
    assert_eq!(
        c.security.session_secret.expose(),
        "0123456789abcdef0123456789abcdef"
    );
}

#[test]
fn the_source_is_chosen_without_a_fallback() {
    let c = from_text("");
    assert_eq!(c.upstream.source, UpstreamSource::Auto);
    assert!(!c.upstream.token.is_set());
    assert_eq!(c.upstream.effective_source(), SourceKind::Demo);
    let c = from_text("[upstream]\ntoken = \"t0k\"\n");
    assert_eq!(c.upstream.effective_source(), SourceKind::Goated);
    let c = from_text("[upstream]\nsource = \"demo\"\ntoken = \"t0k\"\n");
    assert_eq!(c.upstream.effective_source(), SourceKind::Demo);
    let errs = build(
        Some(Path::new("/etc/test.toml")),
        Some(&in_development("[upstream]\nsource = \"nope\"\n")),
        &[],
        &mut Vec::new(),
    )
    .unwrap_err();
    assert_eq!(
        errs.to_string(),
        "upstream.source (from /etc/test.toml): must be goated, demo or auto"
    );
}

#[test]
fn secrets_never_show_in_debug_or_display() {
    let s = Secret::new("hunter2");
    assert!(s.is_set());
    assert_eq!(s.expose(), "hunter2");
    assert_eq!(format!("{s}"), "***");
    assert_eq!(format!("{s:?}"), "Secret(***)");
    assert_eq!(format!("{:#?}", s), "Secret(***)");
    let unset = Secret::default();
    assert!(!unset.is_set());
    assert_eq!(format!("{unset} {unset:?}"), "(unset) Secret((unset))");

    let c = from_text(
        "[database]\nurl = \"postgres://app:hunter2@db/g\"\n\
         [upstream]\ntoken = \"tok-sEcReT\"\n\
         [telegram]\nbot_token = \"123:BoTsEcReT\"\nwebhook_secret = \"hOoKsEcReT\"\n\
         [security]\nsession_secret = \"sEsSiOnSeCrEt\"\n",
    );
    let debug = format!("{c:?} {c:#?}");
    for secret in [
        "hunter2",
        "tok-sEcReT",
        "BoTsEcReT",
        "hOoKsEcReT",
        "sEsSiOnSeCrEt",
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    assert!(debug.contains("postgres://app:***@db/g"), "{debug}");
    assert_eq!(c.database.url.to_string(), "postgres://app:***@db/g");
}

/// `check-config` prints what it printed when the configuration was kept as strings: the
/// merged values, each secret that is set as `***`, the database password masked.
#[test]
fn masked_toml_is_the_raw_values_masked() {
    let text = "[server]\nhost = \"::1\"\nenvironment = \"test\"\n\
         [log]\nlevel = \"warn\"\nfile = \"\"\n\
         [database]\nurl = \"host=/run/pg user=u password='a b' dbname=g\"\n\
         [upstream]\nurl = \"https://x.example/lb\"\ntoken = \"t0k\"\ntimezone = \"US/Eastern\"\n\
         [race]\ntimezone = \"Asia/Kolkata\"\nprize_pool = \"1000.10\"\n\
         [telegram]\nbot_token = \"123:ABC\"\n\
         [security]\nallowed_origins = [\"https://a.example\"]\n";
    let typed = from_text(text);
    let raw: RawConfig = toml::from_str(text).unwrap();
    let mut expected = toml::Value::try_from(&raw).unwrap();
    for key in SECRET_KEYS {
        let (section, field) = key.split_once('.').unwrap();
        let v = expected.get_mut(section).unwrap().get_mut(field).unwrap();
        if v.as_str().is_some_and(|s| !s.is_empty()) {
            *v = toml::Value::String("***".into());
        }
    }
    *expected
        .get_mut("database")
        .unwrap()
        .get_mut("url")
        .unwrap() = toml::Value::String(mask_database_url(&raw.database.url));
    let expected = toml::to_string_pretty(&expected).unwrap();
    assert_eq!(typed.to_masked_toml(), expected);
    assert!(expected.contains("password=***"), "{expected}");
    assert!(expected.contains("bot_token = \"***\""), "{expected}");
    assert!(expected.contains("webhook_secret = \"\""), "{expected}");
    assert!(expected.contains("level = \"warn\""), "{expected}");
    assert_eq!(
        Config::default().to_masked_toml(),
        toml::to_string_pretty(&toml::Value::try_from(RawConfig::default()).unwrap()).unwrap()
    );
}
