//! The Bot API calls the commands produce ([`Outgoing`]), a list cut to fit one message
//! ([`fill_message`]) and the escaping of every value put in
//! a message, for Telegram's HTML parse mode ([`escape`]).

use serde_json::{json, Value};

/// A Bot API call to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub chat_id: i64,
    pub method: &'static str,
    pub params: Value,
}

impl Outgoing {
    /// A plain-text message: every character renders literally (escaped for HTML parse mode).
    pub fn message(chat_id: i64, text: impl AsRef<str>) -> Self {
        Self::html(chat_id, escape(text.as_ref()))
    }

    /// A message already written in Telegram's HTML (every inserted value passed through
    /// [`escape`]).
    pub fn html(chat_id: i64, html: String) -> Self {
        Self {
            chat_id,
            method: "sendMessage",
            params: json!({
                "chat_id": chat_id, "text": html, "parse_mode": "HTML",
                "disable_web_page_preview": true,
            }),
        }
    }

    /// Adds an inline keyboard (rows of buttons).
    pub fn with_keyboard(mut self, rows: Value) -> Self {
        self.params["reply_markup"] = json!({ "inline_keyboard": rows });
        self
    }

    /// The same call for each group of `telegram.allowed_groups`, in their order: what a
    /// bonus drop, a challenge, a forwarded post or a scheduled post becomes. The outbox paces
    /// them per group (`telegram.group_messages_per_minute`).
    pub fn to_allowed_groups(
        config: &crate::config::Config,
        make: impl Fn(i64) -> Self,
    ) -> Vec<Self> {
        config
            .telegram
            .allowed_groups
            .iter()
            .map(|&g| make(g))
            .collect()
    }
}

/// What a list may fill of a message, leaving room for its last line (Telegram takes 4096
/// characters at most).
pub(super) const MESSAGE_ROOM: usize = 3600;

/// `text` followed by as many of `lines` as fit under [`MESSAGE_ROOM`] (Telegram takes 4096
/// characters at most), then `more(n)` when `n` of the `total` were left out (cut here, or
/// never read).
pub(super) fn fill_message(
    mut text: String,
    lines: &[String],
    total: usize,
    more: impl FnOnce(usize) -> String,
) -> String {
    let mut shown = 0;
    for line in lines {
        if text.chars().count() + line.chars().count() > MESSAGE_ROOM {
            break;
        }
        text.push_str(line);
        shown += 1;
    }
    if shown < total {
        text.push_str(&more(total - shown));
    }
    text
}

/// Escapes text for Telegram's HTML parse mode (also inside attribute values). Only `<`, `>`,
/// `&` and `"` mean anything there; Markdown's `_*[]()~>#+-=|{}.!` are plain characters.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_keeps_hostile_names_literal() {
        assert_eq!(escape("<b>x</b>"), "&lt;b&gt;x&lt;/b&gt;");
        assert_eq!(escape("a & \"b\""), "a &amp; &quot;b&quot;");
        let markdown = "_ * [ ] ( ) ~ > # + - = | { } . !";
        assert_eq!(escape(markdown), markdown.replace('>', "&gt;"));
        let out = Outgoing::message(7, "<b>x</b>");
        assert_eq!(out.params["parse_mode"], "HTML");
        assert_eq!(out.params["text"], "&lt;b&gt;x&lt;/b&gt;");
    }
}
