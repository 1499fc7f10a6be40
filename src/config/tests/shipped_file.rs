//! The shipped `etc/goatedvips/goatedvips.toml`: the defaults, and every key listed.

use super::super::*;

const SHIPPED: &str = include_str!("../../../etc/goatedvips/goatedvips.toml");

#[test]
fn shipped_file_is_the_defaults() {
    // Production, as shipped: the package's secrets.env provides the session secret.
    let secrets = EnvLayer {
        vars: [(
            "SESSION_SECRET".to_string(),
            "0123456789abcdef0123456789abcdef".to_string(),
        )]
        .into(),
        file: None,
    };
    let c = build(
        Some(Path::new("goatedvips.toml")),
        Some(SHIPPED),
        &[secrets],
        &mut Vec::new(),
    )
    .unwrap();
    let mut expected = Config::default();
    expected.security.session_secret = c.security.session_secret.clone();
    assert_eq!(c, expected);
}

#[test]
fn shipped_file_lists_every_key() {
    let shipped: toml::Table = SHIPPED.parse().unwrap();
    let defaults = toml::Value::try_from(RawConfig::default()).unwrap();
    for (section, fields) in defaults.as_table().unwrap() {
        for field in fields.as_table().unwrap().keys() {
            assert!(
                shipped.get(section).and_then(|s| s.get(field)).is_some(),
                "{section}.{field} is missing from etc/goatedvips/goatedvips.toml"
            );
        }
    }
}
