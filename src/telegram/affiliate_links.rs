//! Rewriting the goated.com links of a forwarded channel post to the affiliate link
//! (`telegram.affiliate_url`), which is how the affiliate earns from the announcements.
//!
//! A goated.com link is an http(s) URL (or one written without its scheme, as Telegram shows
//! `goated.com/promo`) whose host is `goated.com` or a subdomain of it: `goated.com.evil.com`
//! and `evilgoated.com` are not (`domain::goated`, the rule challenges' bet links use too). Three places hold links:
//! - a `text_link` entity's `url` (the text shown is kept, only the target changes);
//! - a `url` entity: the link is the text itself, which is replaced;
//! - a bare link in the text that no `url` entity covers.
//!
//! A link that already carries the affiliate code is kept. The code is read from
//! `affiliate_url`: the segment after `/r/` in its path (`https://goated.com/r/VIPS` has the
//! code `VIPS`), else the value of its `ref`, `r`, `code` or `referral` query parameter. A
//! goated.com link carries it when its path is `/r/<code>` or one of those parameters has the
//! code as value (letter case ignored); with no code in `affiliate_url`, only the affiliate
//! link itself is kept.
//!
//! Offsets and lengths of Telegram entities count UTF-16 code units; when a link's text
//! changes length, the entities after it move and those around it (a bold span holding the
//! link) grow or shrink by the difference.

use super::update::MessageEntity;
use crate::domain::goated::is_goated_url;

/// The query parameters that may carry an affiliate code.
const CODE_PARAMS: [&str; 4] = ["ref", "r", "code", "referral"];

/// A text and its entities, with the goated.com links rewritten.
#[derive(Debug, Clone, PartialEq)]
pub struct Rewritten {
    pub text: String,
    pub entities: Vec<MessageEntity>,
    /// How many links were rewritten.
    pub links: usize,
}

/// The host of `link` when it is an http(s) URL, or a host-first link without a scheme.
fn parse_link(link: &str) -> Option<url::Url> {
    let with_scheme = if link.contains("://") {
        link.to_string()
    } else {
        format!("https://{link}")
    };
    url::Url::parse(&with_scheme)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// The affiliate code of `affiliate_url` (see the module doc).
fn affiliate_code(affiliate: &url::Url) -> Option<String> {
    let mut segments = affiliate.path_segments()?.filter(|s| !s.is_empty());
    if let (Some(r), Some(code)) = (segments.next(), segments.next()) {
        if r.eq_ignore_ascii_case("r") {
            return Some(code.to_string());
        }
    }
    affiliate
        .query_pairs()
        .find(|(k, v)| CODE_PARAMS.contains(&k.to_ascii_lowercase().as_str()) && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}

/// What rewrites links for one affiliate URL.
pub struct LinkRewriter {
    affiliate_url: String,
    code: Option<String>,
}

impl LinkRewriter {
    /// A rewriter to `affiliate_url`; `None` when it is empty (nothing is rewritten then).
    pub fn new(affiliate_url: &str) -> Option<Self> {
        let affiliate = parse_link(affiliate_url.trim())?;
        Some(Self {
            affiliate_url: affiliate_url.trim().to_string(),
            code: affiliate_code(&affiliate),
        })
    }

    /// Whether `link` is a goated.com link without the affiliate code: one to rewrite.
    pub fn needs_rewrite(&self, link: &str) -> bool {
        let Some(url) = parse_link(link) else {
            return false;
        };
        if !is_goated_url(&url) {
            return false;
        }
        if link.trim_end_matches('/') == self.affiliate_url.trim_end_matches('/') {
            return false;
        }
        let Some(code) = &self.code else {
            return true;
        };
        let mut segments = url.path_segments().into_iter().flatten();
        let in_path = matches!(
            (segments.next(), segments.next(), segments.next()),
            (Some(r), Some(c), None | Some("")) if r.eq_ignore_ascii_case("r") && c.eq_ignore_ascii_case(code)
        );
        let in_query = url.query_pairs().any(|(k, v)| {
            CODE_PARAMS.contains(&k.to_ascii_lowercase().as_str()) && v.eq_ignore_ascii_case(code)
        });
        !(in_path || in_query)
    }

    /// `text` and its `entities` with every goated.com link rewritten (see the module doc).
    pub fn rewrite(&self, text: &str, entities: &[MessageEntity]) -> Rewritten {
        let units: Vec<u16> = text.encode_utf16().collect();
        let in_text = |e: &MessageEntity| e.offset + e.length <= units.len();
        let mut entities = entities.to_vec();
        let mut links = 0;
        for e in entities.iter_mut().filter(|e| e.kind == "text_link") {
            if e.url.as_deref().is_some_and(|u| self.needs_rewrite(u)) {
                e.url = Some(self.affiliate_url.clone());
                links += 1;
            }
        }
        // The spans of the text to replace, in UTF-16 units: `url` entities, then bare links.
        let url_spans: Vec<(usize, usize)> = entities
            .iter()
            .filter(|e| e.kind == "url" && in_text(e))
            .map(|e| (e.offset, e.offset + e.length))
            .collect();
        let mut spans: Vec<(usize, usize)> = url_spans
            .iter()
            .copied()
            .filter(|&(s, e)| self.needs_rewrite(&String::from_utf16_lossy(&units[s..e])))
            .collect();
        for (s, e) in bare_links(text) {
            let covered = url_spans.iter().any(|&(us, ue)| s < ue && us < e);
            if !covered && self.needs_rewrite(&String::from_utf16_lossy(&units[s..e])) {
                spans.push((s, e));
            }
        }
        spans.sort_unstable();
        // Entities from Telegram never overlap; should two `url` ones, the first is kept.
        let mut end = 0;
        spans.retain(|&(s, e)| {
            let apart = s >= end;
            if apart {
                end = e;
            }
            apart
        });
        if spans.is_empty() {
            return Rewritten {
                text: text.to_string(),
                entities,
                links,
            };
        }
        links += spans.len();
        let new_len = self.affiliate_url.encode_utf16().count();
        let mut out: Vec<u16> = Vec::with_capacity(units.len() + spans.len() * new_len);
        let mut at = 0;
        for &(s, e) in &spans {
            out.extend_from_slice(&units[at..s]);
            out.extend(self.affiliate_url.encode_utf16());
            at = e;
        }
        out.extend_from_slice(&units[at..]);
        for e in entities.iter_mut().filter(|e| in_text(e)) {
            let start = moved(e.offset, &spans, new_len, Edge::Start);
            let end = moved(e.offset + e.length, &spans, new_len, Edge::End);
            e.offset = start;
            e.length = end.saturating_sub(start);
        }
        Rewritten {
            text: String::from_utf16_lossy(&out),
            entities,
            links,
        }
    }
}

/// Which edge of an entity a position is: an edge inside a replaced link goes to the start of
/// its replacement when it opens the entity, to its end when it closes it.
#[derive(Clone, Copy, PartialEq)]
enum Edge {
    Start,
    End,
}

/// Where position `pos` (UTF-16 units) of the old text is in the new one, the spans
/// `(start, end)` (sorted, apart) each replaced by `new_len` units.
fn moved(pos: usize, spans: &[(usize, usize)], new_len: usize, edge: Edge) -> usize {
    let mut shift: isize = 0;
    for &(s, e) in spans {
        if pos <= s {
            break;
        }
        if pos < e {
            let inside = if edge == Edge::Start { 0 } else { new_len };
            return (s as isize + shift) as usize + inside;
        }
        shift += new_len as isize - (e - s) as isize;
    }
    (pos as isize + shift) as usize
}

/// The bare links of `text` as UTF-16 spans: each word that begins with `http://` or
/// `https://`, or with a goated.com host, without the brackets and quotes around it and the
/// punctuation that ends a sentence.
fn bare_links(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut units = 0;
    let mut word_start: Option<(usize, usize)> = None;
    let mut push = |byte_start: usize, byte_end: usize, unit_start: usize| {
        let word = &text[byte_start..byte_end];
        let opened = word.trim_start_matches(['(', '[', '{', '<', '\'', '"']);
        let unit_start = unit_start + (word.len() - opened.len());
        let trimmed =
            opened.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '>', '\'', '"']);
        let lower = trimmed.to_ascii_lowercase();
        let looks_like_link = lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("goated.com")
            || (lower.contains(".goated.com") && !lower.contains("://"));
        if looks_like_link {
            out.push((unit_start, unit_start + trimmed.encode_utf16().count()));
        }
    };
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some((b, u)) = word_start.take() {
                push(b, i, u);
            }
        } else if word_start.is_none() {
            word_start = Some((i, units));
        }
        units += c.len_utf16();
    }
    if let Some((b, u)) = word_start {
        push(b, text.len(), u);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const AFF: &str = "https://goated.com/r/VIPS";

    fn entity(kind: &str, offset: usize, length: usize) -> MessageEntity {
        MessageEntity {
            kind: kind.into(),
            offset,
            length,
            url: None,
            rest: Default::default(),
        }
    }

    fn text_link(offset: usize, length: usize, url: &str) -> MessageEntity {
        MessageEntity {
            url: Some(url.into()),
            ..entity("text_link", offset, length)
        }
    }

    /// The UTF-16 span of `needle` in `text`.
    fn span(text: &str, needle: &str) -> (usize, usize) {
        let byte = text.find(needle).unwrap();
        let offset = text[..byte].encode_utf16().count();
        (offset, needle.encode_utf16().count())
    }

    /// The text an entity covers.
    fn covered(text: &str, e: &MessageEntity) -> String {
        let units: Vec<u16> = text.encode_utf16().collect();
        String::from_utf16(&units[e.offset..e.offset + e.length]).unwrap()
    }

    fn rewriter() -> LinkRewriter {
        LinkRewriter::new(AFF).unwrap()
    }

    #[test]
    fn goated_links_are_recognised_by_their_host() {
        let r = rewriter();
        for link in [
            "https://goated.com",
            "http://goated.com/promo?x=1",
            "https://www.goated.com/casino/slots",
            "goated.com/promo",
            "https://GOATED.com/r/other",
            "https://goated.com/?ref=OTHER",
        ] {
            assert!(r.needs_rewrite(link), "{link}");
        }
        for link in [
            "https://goated.com.evil.com/promo",
            "https://evilgoated.com",
            "https://goated.com@evil.com/x",
            "ftp://goated.com/file",
            "https://example.com/?u=goated.com",
            "not a link",
            // Already the affiliate's.
            AFF,
            "https://goated.com/r/vips/",
            "https://www.goated.com/casino?ref=VIPS",
            "https://goated.com/promo?code=vips&x=1",
        ] {
            assert!(!r.needs_rewrite(link), "{link}");
        }
    }

    #[test]
    fn the_code_comes_from_the_path_or_the_query_of_the_affiliate_url() {
        let by_query = LinkRewriter::new("https://goated.com/?ref=LLAMA").unwrap();
        assert!(!by_query.needs_rewrite("https://goated.com/r/LLAMA"));
        assert!(!by_query.needs_rewrite("https://goated.com/slots?ref=llama"));
        assert!(by_query.needs_rewrite("https://goated.com/slots?ref=OTHER"));
        // Without a code, only the affiliate link itself is kept.
        let no_code = LinkRewriter::new("https://partners.example/goated").unwrap();
        assert!(no_code.needs_rewrite("https://goated.com/r/VIPS"));
        assert!(LinkRewriter::new("").is_none());
        assert!(LinkRewriter::new("   ").is_none());
    }

    #[test]
    fn a_url_entity_after_an_emoji_is_replaced_and_later_entities_move() {
        let text = "🐐 New promo: https://goated.com/promo today! #goated";
        let (lo, ll) = span(text, "https://goated.com/promo");
        let (ho, hl) = span(text, "#goated");
        assert_eq!(lo, 14, "the goat is two UTF-16 units");
        let out = rewriter().rewrite(text, &[entity("url", lo, ll), entity("hashtag", ho, hl)]);
        assert_eq!(out.text, format!("🐐 New promo: {AFF} today! #goated"));
        assert_eq!(out.links, 1);
        assert_eq!(covered(&out.text, &out.entities[0]), AFF);
        assert_eq!(covered(&out.text, &out.entities[1]), "#goated");
    }

    #[test]
    fn several_links_of_each_kind_are_rewritten_and_others_kept() {
        let text = "A https://goated.com/a B https://example.com C goated.com/c D https://goated.com/r/VIPS E";
        let spans = [
            "https://goated.com/a",
            "https://example.com",
            "goated.com/c",
            "https://goated.com/r/VIPS",
        ]
        .map(|l| span(text, l));
        let mut entities: Vec<_> = spans.iter().map(|&(o, l)| entity("url", o, l)).collect();
        let (eo, el) = span(text, "E");
        entities.push(text_link(eo, el, "https://goated.com/e"));
        entities.push(text_link(0, 1, "https://example.com/a"));
        let out = rewriter().rewrite(text, &entities);
        assert_eq!(
            out.text,
            format!("A {AFF} B https://example.com C {AFF} D {AFF} E")
        );
        assert_eq!(out.links, 3, "two url entities and one text link");
        let shown: Vec<String> = out.entities.iter().map(|e| covered(&out.text, e)).collect();
        assert_eq!(shown, [AFF, "https://example.com", AFF, AFF, "E", "A"]);
        assert_eq!(out.entities[4].url.as_deref(), Some(AFF));
        assert_eq!(
            out.entities[5].url.as_deref(),
            Some("https://example.com/a")
        );
    }

    #[test]
    fn bold_around_a_link_grows_with_it() {
        let text = "Big: https://goated.com/x now";
        let (lo, ll) = span(text, "https://goated.com/x");
        let (bo, bl) = span(text, "Big: https://goated.com/x now");
        let (io, il) = span(text, "now");
        let out = rewriter().rewrite(
            text,
            &[
                entity("bold", bo, bl),
                entity("url", lo, ll),
                entity("italic", io, il),
            ],
        );
        let shown: Vec<String> = out.entities.iter().map(|e| covered(&out.text, e)).collect();
        assert_eq!(
            shown,
            [format!("Big: {AFF} now"), AFF.to_string(), "now".into()]
        );
        // A bold covering half the link covers the whole replacement's part it began in.
        let half = entity("bold", lo + 8, 5);
        let out = rewriter().rewrite(text, &[entity("url", lo, ll), half]);
        assert_eq!(covered(&out.text, &out.entities[1]), AFF);
    }

    #[test]
    fn bare_links_without_an_entity_are_rewritten_too() {
        let text =
            "Join (https://goated.com/join). Or https://goated.com.evil.com/x, or evilgoated.com.";
        let out = rewriter().rewrite(text, &[]);
        assert_eq!(
            out.text,
            format!("Join ({AFF}). Or https://goated.com.evil.com/x, or evilgoated.com.")
        );
        assert_eq!(out.links, 1);
    }

    #[test]
    fn nothing_to_rewrite_leaves_the_post_as_it_is() {
        let text = "Nothing here 🎰 https://example.com";
        let entities = [entity("url", 16, 19), entity("bold", 0, 7)];
        let out = rewriter().rewrite(text, &entities);
        assert_eq!((out.text.as_str(), out.links), (text, 0));
        assert_eq!(out.entities, entities);
        // An entity past the end of the text (not Telegram's) is kept and does not panic.
        let odd = [entity("url", 5, 100)];
        assert_eq!(
            rewriter()
                .rewrite("short https://goated.com", &odd)
                .entities,
            odd
        );
    }
}
