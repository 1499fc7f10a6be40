//! Markdown to the HTML of a site page (pulldown-cmark), made safe to put in a page as it is:
//! raw HTML (blocks and inline) comes out as escaped text, a link keeps its text but loses its
//! anchor unless it is relative or `http`, `https`, `mailto` or `tg` (so `javascript:`,
//! `data:`, `vbscript:` and anything unknown link nowhere), every link carries
//! `rel="nofollow noopener"`, images show their alt text (the site's policy loads no image
//! from elsewhere), and table alignment is dropped (it would be an inline style, which the
//! policy refuses). The first heading's text is the page's title, the first paragraph's its
//! summary.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html};

/// The schemes a link may have; a link without a scheme (relative) is kept too.
const LINK_SCHEMES: [&str; 4] = ["http", "https", "mailto", "tg"];

/// The longest summary, in characters (a share preview shows about this much).
const SUMMARY_CHARS: usize = 200;

/// A rendered page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The text of the first heading, if there is one.
    pub title: Option<String>,
    /// The text of the first paragraph, shortened to about 200 characters.
    pub summary: Option<String>,
    /// The page's HTML, safe to insert unescaped.
    pub html: String,
}

/// Renders `markdown` (see the module doc for what is kept).
pub fn render(markdown: &str) -> Rendered {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut title: Option<String> = None;
    let mut summary: Option<String> = None;
    // Where the text of the first heading and the first paragraph is being collected.
    let mut collecting: Option<Collecting> = None;
    // A link whose anchor was dropped: its end is dropped too.
    let mut dropped_link = false;
    // Inside an image: its alt text is kept as text.
    let mut in_image = false;
    let mut events = Vec::new();
    for event in Parser::new_ext(markdown, options) {
        match &event {
            Event::Start(Tag::Heading { .. }) if title.is_none() => {
                collecting = Some(Collecting::Title(String::new()));
            }
            Event::Start(Tag::Paragraph) if summary.is_none() && collecting.is_none() => {
                collecting = Some(Collecting::Summary(String::new()));
            }
            Event::End(TagEnd::Heading(_) | TagEnd::Paragraph) => match collecting.take() {
                Some(Collecting::Title(t)) => title = Some(t.trim().to_string()),
                Some(Collecting::Summary(s)) => summary = Some(shorten(s.trim())),
                None => {}
            },
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = &mut collecting {
                    c.text().push_str(t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(c) = &mut collecting {
                    c.text().push(' ');
                }
            }
            _ => {}
        }
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => match safe_href(link_type, &dest_url) {
                Some(href) => events.push(Event::InlineHtml(anchor(&href, &title).into())),
                None => dropped_link = true,
            },
            Event::End(TagEnd::Link) => {
                if !std::mem::take(&mut dropped_link) {
                    events.push(Event::InlineHtml("</a>".into()));
                }
            }
            Event::Start(Tag::Image { .. }) => in_image = true,
            Event::End(TagEnd::Image) => in_image = false,
            Event::Start(Tag::Table(columns)) => {
                let plain = vec![pulldown_cmark::Alignment::None; columns.len()];
                events.push(Event::Start(Tag::Table(plain)));
            }
            // An image's alt text is plain text in its place; nothing else of it is kept.
            other if in_image => {
                if let Event::Text(t) | Event::Code(t) = other {
                    events.push(Event::Text(t));
                }
            }
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Rendered {
        title: title.filter(|t| !t.is_empty()),
        summary: summary.filter(|s| !s.is_empty()),
        html,
    }
}

/// The text of the first heading or paragraph, as it is read.
enum Collecting {
    Title(String),
    Summary(String),
}

impl Collecting {
    fn text(&mut self) -> &mut String {
        match self {
            Self::Title(t) | Self::Summary(t) => t,
        }
    }
}

/// `<a href="…" rel="nofollow noopener" title="…">`, escaped.
fn anchor(href: &str, title: &str) -> String {
    let mut a = String::from("<a href=\"");
    // Writing to a String cannot fail.
    let _ = escape_href(&mut a, href);
    a.push('"');
    if !title.is_empty() {
        a.push_str(" title=\"");
        let _ = escape_html(&mut a, title);
        a.push('"');
    }
    a.push_str(" rel=\"nofollow noopener\">");
    a
}

/// The link's address if it may be followed: relative, or of one of [`LINK_SCHEMES`]. An
/// email autolink (`<a@b.example>`) becomes `mailto:`. Browsers ignore tabs and newlines in a
/// URL and spaces and control characters around it, so the scheme is read as they read it.
fn safe_href(link_type: LinkType, dest: &str) -> Option<String> {
    let cleaned: String = dest
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c <= ' ');
    if link_type == LinkType::Email {
        return Some(format!("mailto:{cleaned}"));
    }
    match scheme(cleaned) {
        None => Some(cleaned.to_string()),
        Some(s) if LINK_SCHEMES.iter().any(|ok| s.eq_ignore_ascii_case(ok)) => {
            Some(cleaned.to_string())
        }
        Some(_) => None,
    }
}

/// A URL's scheme as a browser finds it: a letter, then letters, digits, `+`, `-` or `.`, up
/// to the first `:` (before any `/`, `?` or `#`). `None` for a relative URL.
fn scheme(url: &str) -> Option<&str> {
    let end = url.find([':', '/', '?', '#'])?;
    let candidate = &url[..end];
    let valid = url[end..].starts_with(':')
        && candidate.starts_with(|c: char| c.is_ascii_alphabetic())
        && candidate
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(candidate)
}

/// `text` cut to at most [`SUMMARY_CHARS`] characters, at a word, with `…` when cut.
fn shorten(text: &str) -> String {
    if text.chars().count() <= SUMMARY_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(SUMMARY_CHARS).collect();
    let at_word = cut.rfind(' ').map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_escaped_never_passed_through() {
        let r = render(
            "# Hi\n\n<script>alert(1)</script>\n\nText <img src=x onerror=alert(2)> here.\n",
        );
        for raw in ["<script", "<img"] {
            assert!(!r.html.contains(raw), "{raw}: {}", r.html);
        }
        for escaped in [
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&lt;img src=x onerror=alert(2)&gt;",
        ] {
            assert!(r.html.contains(escaped), "{escaped}: {}", r.html);
        }
    }

    #[test]
    fn dangerous_links_lose_their_anchor_and_keep_their_text() {
        for dest in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "javascript&colon;alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
        ] {
            let r = render(&format!("[click me]({dest})"));
            assert!(!r.html.contains("<a"), "{dest}: {}", r.html);
            assert!(r.html.contains("click me"), "{dest}: {}", r.html);
        }
        let r = render("<javascript:alert(1)>");
        assert!(!r.html.contains("<a"), "{}", r.html);
    }

    #[test]
    fn every_kept_link_is_nofollow_noopener() {
        let r = render(
            "[site](https://goated.com/r/X \"Goated\"), [faq](/p/faq), [bot](tg://resolve?domain=x), \
             <https://t.me/bot>, <help@example.com>, [ref][r]\n\n[r]: http://example.com/?a=1&b=\"2\"\n",
        );
        assert_eq!(r.html.matches("<a ").count(), 6, "{}", r.html);
        assert_eq!(
            r.html.matches(" rel=\"nofollow noopener\">").count(),
            6,
            "{}",
            r.html
        );
        assert!(r
            .html
            .contains("<a href=\"https://goated.com/r/X\" title=\"Goated\" rel="));
        assert!(r.html.contains("<a href=\"/p/faq\" rel="));
        assert!(r.html.contains("<a href=\"mailto:help@example.com\" rel="));
        assert!(
            r.html
                .contains("href=\"http://example.com/?a=1&amp;b=%222%22\""),
            "{}",
            r.html
        );
    }

    #[test]
    fn images_show_their_alt_text() {
        let r = render("![a goat](data:image/png;base64,AAAA) and ![*b*](https://x.example/i.png)");
        assert_eq!(r.html, "<p>a goat and b</p>\n");
    }

    #[test]
    fn title_and_summary_from_the_first_heading_and_paragraph() {
        let r = render("Intro first.\n\n## How `races` work\n\n# Later\n\nMore.\n");
        assert_eq!(r.title.as_deref(), Some("How races work"));
        assert_eq!(r.summary.as_deref(), Some("Intro first."));
        let r = render("Just text\non two lines.");
        assert_eq!(r.title, None);
        assert_eq!(r.summary.as_deref(), Some("Just text on two lines."));
        let long = "word ".repeat(100);
        let s = render(&long).summary.unwrap();
        assert!(
            s.ends_with('…') && s.chars().count() <= SUMMARY_CHARS + 1,
            "{s}"
        );
    }

    #[test]
    fn tables_have_no_inline_style() {
        let r = render("| a | b |\n|:--|--:|\n| 1 | 2 |\n");
        assert!(r.html.contains("<table>"), "{}", r.html);
        assert!(!r.html.contains("style="), "{}", r.html);
    }

    #[test]
    fn schemes_are_read_as_browsers_read_them() {
        assert_eq!(scheme("https://x"), Some("https"));
        assert_eq!(scheme("/a:b"), None);
        assert_eq!(scheme("a/b:c"), None);
        assert_eq!(scheme("?q=a:b"), None);
        assert_eq!(scheme("1abc:x"), None);
        assert_eq!(scheme("web+x:y"), Some("web+x"));
        assert_eq!(scheme("faq"), None);
    }
}
