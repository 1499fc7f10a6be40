//! What counts as Goated's site: `goated.com` or one of its subdomains. The one rule that a
//! challenge's bet link (`challenge::bet_link`) and the channel forwarding's link rewriting
//! (`telegram::affiliate_links`) apply, so the two never disagree.

/// Whether `url`'s host is `goated.com` or a subdomain of it, in any case and with or without
/// the final dot; never a look-alike (`goated.com.evil.com`, `evilgoated.com`) nor an IP
/// address.
pub fn is_goated_url(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(host)) => {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            host == "goated.com" || host.ends_with(".goated.com")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_goated(host: &str) -> bool {
        is_goated_url(&url::Url::parse(&format!("https://{host}/bet/1")).unwrap())
    }

    #[test]
    fn goated_and_its_subdomains_only() {
        for host in [
            "goated.com",
            "www.goated.com",
            "GOATED.COM.",
            "a.b.Goated.com",
        ] {
            assert!(on_goated(host), "{host}");
        }
        for host in [
            "goated.com.evil.com",
            "evilgoated.com",
            "goated.co",
            "com",
            "1.2.3.4",
            "[::1]",
            "[2001:db8::1]",
        ] {
            assert!(!on_goated(host), "{host}");
        }
    }

    #[test]
    fn a_url_without_a_host_is_not_goated() {
        assert!(!is_goated_url(
            &url::Url::parse("mailto:a@goated.com").unwrap()
        ));
        assert!(!is_goated_url(
            &url::Url::parse("data:text/plain,goated.com").unwrap()
        ));
    }
}
