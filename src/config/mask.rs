//! Masking: secrets never leave the daemon. Which keys are secrets, and the database URL with
//! its password as `***` (for `check-config`, logs and [`DatabaseUrl`](super::DatabaseUrl)'s
//! `Debug`).

use std::fmt;

/// Keys whose values are secrets ([`Secret`](super::Secret)s): never logged, never shown
/// (`***`).
pub const SECRET_KEYS: &[&str] = &[
    "security.session_secret",
    "telegram.bot_token",
    "telegram.webhook_secret",
    "upstream.token",
    "upstream.token_key",
];

/// Replaces the password of a database URL (or `password=` of a key=value string) with `***`.
/// `url` is its text, or a [`DatabaseUrl`](super::DatabaseUrl), which displays itself masked
/// already (masking a masked URL changes nothing).
pub fn mask_database_url(url: impl fmt::Display) -> String {
    let raw = &url.to_string();
    if let Ok(mut url) = url::Url::parse(raw) {
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        // Passwords can also hide in the query string.
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        if pairs.iter().any(|(k, _)| k == "password") {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        return url.to_string();
    }
    // A URL the url crate refuses (an unencoded `#` or `/` in the password) that libpq-style
    // parsing may still accept: mask everything between the user's `:` and the last `@`.
    if let Some(scheme_end) = raw.find("://") {
        let authority_start = scheme_end + 3;
        let rest = &raw[authority_start..];
        if let Some(at) = rest.rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                return format!(
                    "{}{}:***{}",
                    &raw[..authority_start],
                    &rest[..colon],
                    &rest[at..]
                );
            }
        }
    }
    mask_keyword_password(raw)
}

/// Masks `password=…` in a libpq key=value string, where the value may be quoted
/// (`password='a b\'c'`).
fn mask_keyword_password(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find("password") {
        let (before, after) = rest.split_at(pos);
        out.push_str(before);
        let at_word_start = out.is_empty() || out.ends_with(char::is_whitespace);
        let value = after["password".len()..].trim_start();
        if !at_word_start || !value.starts_with('=') {
            out.push_str("password");
            rest = &after["password".len()..];
            continue;
        }
        out.push_str("password=***");
        let value = value[1..].trim_start();
        rest = if let Some(quoted) = value.strip_prefix('\'') {
            let mut end = quoted.len();
            let mut escaped = false;
            for (i, c) in quoted.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '\'' if !escaped => {
                        end = i + 1;
                        break;
                    }
                    _ => escaped = false,
                }
            }
            &quoted[end.min(quoted.len())..]
        } else {
            value.find(char::is_whitespace).map_or("", |i| &value[i..])
        };
    }
    out.push_str(rest);
    out
}
