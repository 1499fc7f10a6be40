//! The TLS parameters of a connection string, `sslmode` and `sslrootcert`, taken out of
//! `database.url` before the driver parses the rest. The driver (tokio-postgres) knows only
//! `disable`, `prefer` and `require` and refuses `sslrootcert`, while operators copy URLs that
//! carry `sslmode=verify-full&sslrootcert=…` from their provider; so the daemon reads these two
//! itself, in both forms libpq accepts: a URL's query (`postgres://h/db?sslmode=require`) and
//! key=value words (`host=h sslmode='require'`).

use super::values::SslMode;

/// A connection string with its TLS parameters taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SplitConninfo {
    /// The string without `sslmode` and `sslrootcert`, for the driver to parse.
    pub rest: String,
    /// The URL's own `sslmode`, if it has one.
    pub ssl_mode: Option<SslMode>,
    /// The URL's own `sslrootcert`, if it has one.
    pub ssl_root_cert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of `raw`. An `sslmode` the daemon does not offer
/// (`allow`, `verify-ca`, a typo) is an error saying what is.
pub(super) fn split_tls_params(raw: &str) -> Result<SplitConninfo, String> {
    let is_url = raw.starts_with("postgres://") || raw.starts_with("postgresql://");
    let (rest, params) = if is_url {
        split_url_query(raw)
    } else {
        split_keyword_values(raw)
    };
    let mut split = SplitConninfo {
        rest,
        ssl_mode: None,
        ssl_root_cert: None,
    };
    for (key, value) in params {
        if key == "sslmode" {
            split.ssl_mode = Some(SslMode::parse(&value).ok_or_else(|| {
                format!(
                    "sslmode={value} in the connection string is not offered: use {}",
                    SslMode::CHOICES
                )
            })?);
        } else {
            split.ssl_root_cert = Some(value);
        }
    }
    Ok(split)
}

fn is_tls_param(key: &str) -> bool {
    key == "sslmode" || key == "sslrootcert"
}

/// URL form: the query's `sslmode`/`sslrootcert` pairs (percent-decoded) and the URL without
/// them.
fn split_url_query(raw: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = raw.split_once('?') else {
        return (raw.to_string(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key);
        if is_tls_param(&key) {
            taken.push((key, percent_decode(value)));
        } else {
            kept.push(pair);
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, taken)
}

/// `%2F` -> `/`; a malformed escape is kept as written (the driver reports it).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// key=value form (libpq's grammar: `key = value`, a value either a bare word or quoted with
/// `'…'`, `\` escaping the next character): the TLS pairs and the string without them.
fn split_keyword_values(raw: &str) -> (String, Vec<(String, String)>) {
    let chars: Vec<char> = raw.chars().collect();
    let mut kept = String::new();
    let mut taken = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let start = i;
        let mut key = String::new();
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            key.push(chars[i]);
            i += 1;
        }
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i < chars.len() && chars[i] == '=' {
            i += 1;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
        }
        let value = read_value(&chars, &mut i);
        if is_tls_param(&key) {
            taken.push((key, value));
        } else {
            if !kept.is_empty() {
                kept.push(' ');
            }
            kept.extend(&chars[start..i]);
        }
    }
    (kept, taken)
}

/// One value at `chars[*i..]`, quoted or bare, unescaped; `*i` ends past it.
fn read_value(chars: &[char], i: &mut usize) -> String {
    let mut value = String::new();
    let quoted = chars.get(*i) == Some(&'\'');
    if quoted {
        *i += 1;
    }
    while *i < chars.len() {
        let c = chars[*i];
        if (quoted && c == '\'') || (!quoted && c.is_whitespace()) {
            break;
        }
        if c == '\\' && *i + 1 < chars.len() {
            *i += 1;
        }
        value.push(chars[*i]);
        *i += 1;
    }
    if quoted && *i < chars.len() {
        *i += 1;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urls_tls_parameters_are_taken_out_and_the_rest_kept() {
        let split = split_tls_params(
            "postgres://u:p@db.example/g?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(split.rest, "postgres://u:p@db.example/g?application_name=x");
        assert_eq!(split.ssl_mode, Some(SslMode::VerifyFull));
        assert_eq!(split.ssl_root_cert.as_deref(), Some("/etc/ca.pem"));

        let split = split_tls_params("postgresql://h/g?sslmode=require").unwrap();
        assert_eq!(split.rest, "postgresql://h/g");
        assert_eq!(split.ssl_mode, Some(SslMode::Require));
        assert_eq!(
            split_tls_params("postgres://h/g").unwrap().rest,
            "postgres://h/g"
        );
    }

    #[test]
    fn key_value_strings_keep_their_quoting() {
        let split = split_tls_params(
            "host=db password='a b\\'c' sslmode = disable sslrootcert='/x y.pem' dbname=g",
        )
        .unwrap();
        assert_eq!(split.rest, "host=db password='a b\\'c' dbname=g");
        assert_eq!(split.ssl_mode, Some(SslMode::Disable));
        assert_eq!(split.ssl_root_cert.as_deref(), Some("/x y.pem"));
    }

    #[test]
    fn a_mode_not_offered_is_refused_naming_the_choices() {
        let e = split_tls_params("postgres://h/g?sslmode=verify-ca").unwrap_err();
        assert!(
            e.contains("sslmode=verify-ca") && e.contains("verify-full"),
            "{e}"
        );
        assert!(split_tls_params("host=h sslmode=allow").is_err());
    }
}
