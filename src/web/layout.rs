//! The page frame shared by every site page (head with its share-preview meta tags, header
//! navigation, footer with the site's own pages), the page answer with its
//! Content-Security-Policy, the friendly error pages, and number and date formatting. maud
//! escapes every interpolated string, so upstream and user names are safe.

use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use poem::http::{header, StatusCode};
use poem::{IntoResponse, Response};
use rust_decimal::{Decimal, RoundingStrategy};

use super::assets;
use crate::site_pages::PageLink;

tokio::task_local! {
    /// The site's own pages, for the footer of the page being answered: set around each
    /// request by [`with_footer_pages`] (the frame reads no state of its own).
    static FOOTER_PAGES: std::sync::Arc<[PageLink]>;
}

/// Runs `answer` (a request's handling) with `pages` listed in the footer of every page it
/// renders.
pub async fn with_footer_pages<F: std::future::Future>(
    pages: std::sync::Arc<[PageLink]>,
    answer: F,
) -> F::Output {
    FOOTER_PAGES.scope(pages, answer).await
}

/// The policy of site pages: nothing inline, scripts and styles only from this site, the
/// WebSocket and the API only to this site, and no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The policy of `/embed/` pages: the same, but any site may frame them.
pub const CSP_EMBED: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors *";

/// Which navigation entry is the current page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Leaderboard,
    Race,
    Races,
    Bonus,
    Challenges,
    Vip,
    Account,
    Admin,
    None,
}

/// What the header needs to know about the visitor (no database query: a cookie's presence).
#[derive(Clone, Copy, Default)]
pub struct Visitor {
    pub logged_in: bool,
    pub admin: bool,
}

/// A full site page.
pub struct Page {
    pub title: String,
    pub nav: Nav,
    pub visitor: Visitor,
    pub body: Markup,
    pub status: StatusCode,
    /// What a shared link's preview says (the description, Open Graph and Twitter card
    /// tags); none when not set.
    pub description: Option<String>,
}

impl Page {
    pub fn new(title: impl Into<String>, nav: Nav, visitor: Visitor, body: Markup) -> Self {
        Self {
            title: title.into(),
            nav,
            visitor,
            body,
            status: StatusCode::OK,
            description: None,
        }
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Gives the page a description: its `<meta name="description">` and the Open Graph and
    /// Twitter card tags (title and description) that a shared link's preview shows.
    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// The description and share-preview tags of a described page.
fn share_meta(title: &str, description: &str) -> Markup {
    html! {
        meta name="description" content=(description);
        meta property="og:type" content="website";
        meta property="og:site_name" content="GoatedVIPs";
        meta property="og:title" content=(title);
        meta property="og:description" content=(description);
        meta name="twitter:card" content="summary";
        meta name="twitter:title" content=(title);
        meta name="twitter:description" content=(description);
    }
}

/// The footer: where the data comes from, the site's own pages, the API and the overlay.
fn footer() -> Markup {
    let pages = FOOTER_PAGES.try_with(|p| p.clone()).unwrap_or_default();
    html! {
        footer.site {
            @if !pages.is_empty() {
                nav aria-label="About" {
                    ul.footer-pages {
                        @for page in pages.iter() { li { a href=(page.href) { (page.title) } } }
                    }
                }
            }
            p { "Wager data from Goated.com, for players of the GoatedVIPs affiliate code. "
                a href="/docs" { "API" } " · " a href="/overlay/race" { "Stream overlay" } }
        }
    }
}

fn nav_link(href: &str, label: &str, here: bool) -> Markup {
    html! {
        @if here { a href=(href) aria-current="page" { (label) } }
        @else { a href=(href) { (label) } }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let n = self.nav;
        let full_title = format!("{} · GoatedVIPs", self.title);
        let doc = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (full_title) }
                    @if let Some(description) = &self.description { (share_meta(&full_title, description)) }
                    // No icon request (a 404 in every page's log).
                    link rel="icon" href="data:,";
                    link rel="stylesheet" href=(assets::url(&assets::CSS));
                    script src=(assets::url(&assets::JS)) defer {}
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    header.site {
                        a.brand href="/" { "GoatedVIPs" }
                        nav aria-label="Main" {
                            (nav_link("/leaderboard", "Leaderboard", n == Nav::Leaderboard))
                            (nav_link("/race", "Wager race", n == Nav::Race))
                            (nav_link("/races", "Races", n == Nav::Races))
                            (nav_link("/bonus-codes", "Bonus codes", n == Nav::Bonus))
                            (nav_link("/challenges", "Challenges", n == Nav::Challenges))
                            (nav_link("/vip", "VIP", n == Nav::Vip))
                            @if self.visitor.admin { (nav_link("/admin", "Admin", n == Nav::Admin)) }
                            @if self.visitor.logged_in { (nav_link("/account", "Account", n == Nav::Account)) }
                            @else { (nav_link("/login", "Log in", n == Nav::Account)) }
                        }
                    }
                    main #main { (self.body) }
                    (footer())
                }
            }
        };
        page_response(doc, self.status, CSP)
    }
}

/// An HTML answer with its policy; pages are never cached by the browser without asking.
pub fn page_response(doc: Markup, status: StatusCode, csp: &'static str) -> Response {
    poem::web::Html(doc.into_string())
        .with_status(status)
        .with_header(header::CONTENT_SECURITY_POLICY, csp)
        .with_header(header::CACHE_CONTROL, "no-cache")
        .into_response()
}

/// A friendly error page.
pub fn error_page(status: StatusCode, title: &str, message: &str, visitor: Visitor) -> Page {
    Page::new(
        title,
        Nav::None,
        visitor,
        html! {
            section.card.error {
                h1 { (title) }
                p { (message) }
                p { a.button href="/" { "Back to the home page" } " " a.button.secondary href="/leaderboard" { "Leaderboard" } }
            }
        },
    )
    .status(status)
}

/// The 404 page.
pub fn not_found_page(visitor: Option<Visitor>) -> Page {
    error_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. It may have moved, or the link may be mistyped.",
        visitor.unwrap_or_default(),
    )
}

/// A money amount for people: `$1,234.56` (two decimals, rounded half up; tiny non-zero
/// amounts show as `<$0.01`).
pub fn money(d: Decimal) -> String {
    if d > Decimal::ZERO && d < Decimal::new(1, 2) {
        return "<$0.01".into();
    }
    let r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let neg = r.is_sign_negative() && !r.is_zero();
    let s = format!("{:.2}", r.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}${grouped}.{frac}", if neg { "-" } else { "" })
}

/// A date and time in UTC, for people.
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// A `<time>` element.
pub fn time_el(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (when(t)) } }
}

/// The tier badge, a link to the VIP program (`/vip`).
pub fn tier_badge(tier: &str) -> Markup {
    html! { a class={ "tier tier-" (tier.to_lowercase()) } href="/vip" title="VIP tiers" { (tier) } }
}

/// The tier badge without a link (on `/vip` itself).
pub fn tier_label(tier: &str) -> Markup {
    html! { span class={ "tier tier-" (tier.to_lowercase()) } { (tier) } }
}

/// A countdown to `end`: server-rendered text that the script ticks every second.
pub fn countdown(end: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    let secs = (end - now).num_seconds().max(0);
    html! {
        span.countdown data-end=(end.to_rfc3339()) role="timer" {
            (duration_text(secs))
        }
    }
}

/// `3d 04h 12m 09s`.
pub fn duration_text(secs: i64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    format!("{d}d {h:02}h {m:02}m {s:02}s")
}

/// A visually hidden label.
pub fn sr(text: &str) -> Markup {
    html! { span.sr-only { (text) } }
}

/// Raw markup from a constant (never from data).
pub fn raw(s: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(money(d("1234567.125")), "$1,234,567.13");
        assert_eq!(money(d("0")), "$0.00");
        assert_eq!(money(d("0.0001")), "<$0.01");
        assert_eq!(money(d("999")), "$999.00");
        assert_eq!(money(d("1000")), "$1,000.00");
        assert_eq!(money(d("-5.5")), "-$5.50");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_text(90_061), "1d 01h 01m 01s");
        assert_eq!(duration_text(0), "0d 00h 00m 00s");
    }
}
