//! A Telegram update, read once into typed values ([`Update`]): its `update_id`, the chat whose
//! updates are handled in order, and what it is: a message, a button press, or another kind
//! kept raw. Tolerant by design: any JSON object with an integer `update_id` is an update
//! (kinds this bot does not handle, and messages it cannot read, are stored and acknowledged,
//! then ignored). The webhook reads the body into an [`Update`] and stores its raw form; the
//! handler reads the stored form back with [`Update::from_value`].

use serde::Deserialize;
use serde_json::Value;

/// An update as the bot sees it, with the JSON it came as (what is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub update_id: i64,
    /// The chat whose updates must be handled in order; `None` for kinds without one.
    pub chat_id: Option<i64>,
    pub kind: UpdateKind,
    /// The update as sent, NUL characters removed ([`strip_nul`]).
    pub raw: Value,
}

/// What an update is, as far as the bot acts on it.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateKind {
    /// A new message (`message`); edited messages are not run twice, so they are [`Other`].
    ///
    /// [`Other`]: UpdateKind::Other
    Message(Message),
    /// A press of an inline button (`callback_query`).
    Callback(CallbackQuery),
    /// A new post in a channel the bot is an administrator of (`channel_post`); an edited post
    /// (`edited_channel_post`) is [`Other`], so it is never re-posted twice.
    ///
    /// [`Other`]: UpdateKind::Other
    ChannelPost(ChannelPost),
    /// `@bot text` typed in any chat (`inline_query`).
    InlineQuery(InlineQuery),
    /// Every other kind, and a message or button press without the fields the bot needs.
    Other,
}

/// The fields of a Telegram `Message` the bot reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub message_id: i64,
    pub chat: Chat,
    pub from: Option<Sender>,
    /// The chat the message was sent on behalf of: a channel, or the group itself when one of
    /// its admins writes anonymously (`from` is then the `GroupAnonymousBot` bot).
    pub sender_chat: Option<Chat>,
    pub text: Option<String>,
}

impl Message {
    /// Sent by one of the group's admins writing anonymously, as the group: Telegram lets only
    /// a group's admins send on behalf of the group itself.
    pub fn from_anonymous_group_admin(&self) -> bool {
        !self.chat.is_private() && self.sender_chat.as_ref().map(|c| c.id) == Some(self.chat.id)
    }
}

/// The fields of a Telegram `Chat` the bot reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Chat {
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The public `@name` of a channel or group, without `@`.
    pub username: Option<String>,
}

/// A link or other formatting in a text or caption (a Telegram `MessageEntity`); offsets and
/// lengths count UTF-16 code units.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct MessageEntity {
    #[serde(rename = "type")]
    pub kind: String,
    pub offset: usize,
    pub length: usize,
    /// The target of a `text_link`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Every other field of the entity (`user`, `language`, `custom_emoji_id`), kept as sent.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

/// The fields of a channel post the bot reads: a text with its entities, or media with a
/// caption and its entities.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChannelPost {
    pub message_id: i64,
    pub chat: Chat,
    pub text: Option<String>,
    #[serde(default)]
    pub entities: Vec<MessageEntity>,
    pub caption: Option<String>,
    #[serde(default)]
    pub caption_entities: Vec<MessageEntity>,
}

/// The fields of a Telegram `InlineQuery` the bot reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InlineQuery {
    pub id: String,
    pub from: Sender,
    #[serde(default)]
    pub query: String,
}

impl Chat {
    pub fn is_private(&self) -> bool {
        self.kind == "private"
    }
}

/// The fields of a Telegram `User` (the sender) the bot reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Sender {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    pub username: Option<String>,
}

/// The fields of a Telegram `CallbackQuery` the bot reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: Sender,
    /// The message the button was on (absent when too old).
    pub message: Option<ButtonMessage>,
    #[serde(default)]
    pub data: String,
}

/// The message a pressed button was on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ButtonMessage {
    pub message_id: Option<i64>,
    pub chat: Option<Chat>,
}

/// Why a body is not an update.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UpdateError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("an update is a JSON object with an integer update_id")]
    NoUpdateId,
}

impl Update {
    /// Reads the body of a webhook call.
    pub fn parse(body: &[u8]) -> Result<Self, UpdateError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| UpdateError::NotJson(e.to_string()))?;
        Self::from_value(value)
    }

    /// Reads an update already read as JSON (the webhook's body, or a stored update).
    pub fn from_value(mut raw: Value) -> Result<Self, UpdateError> {
        let update_id = raw
            .get("update_id")
            .and_then(Value::as_i64)
            .ok_or(UpdateError::NoUpdateId)?;
        strip_nul(&mut raw);
        let kind = if let Some(m) = raw.get("message") {
            Message::deserialize(m).map_or(UpdateKind::Other, UpdateKind::Message)
        } else if let Some(q) = raw.get("callback_query") {
            CallbackQuery::deserialize(q).map_or(UpdateKind::Other, UpdateKind::Callback)
        } else if let Some(p) = raw.get("channel_post") {
            ChannelPost::deserialize(p).map_or(UpdateKind::Other, UpdateKind::ChannelPost)
        } else if let Some(q) = raw.get("inline_query") {
            InlineQuery::deserialize(q).map_or(UpdateKind::Other, UpdateKind::InlineQuery)
        } else {
            UpdateKind::Other
        };
        Ok(Self {
            update_id,
            chat_id: chat_of(&raw),
            kind,
            raw,
        })
    }
}

/// Removes NUL characters from every string and key: PostgreSQL's `jsonb` cannot hold
/// `\u0000`, and no Telegram field needs one.
pub fn strip_nul(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => s.retain(|c| c != '\0'),
        Value::Array(items) => items.iter_mut().for_each(strip_nul),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                let old = std::mem::take(map);
                for (k, v) in old {
                    map.insert(k.replace('\0', ""), v);
                }
            }
            map.values_mut().for_each(strip_nul);
        }
        _ => {}
    }
}

/// The chat of an update: the one of its message, of the message a button was on, of a
/// membership change, else the sender's private chat.
fn chat_of(update: &Value) -> Option<i64> {
    let obj = update.as_object()?;
    obj.iter()
        .filter(|(k, _)| k.as_str() != "update_id")
        .find_map(|(_, v)| {
            v.pointer("/chat/id")
                .or_else(|| v.pointer("/message/chat/id"))
                .or_else(|| v.pointer("/from/id"))
                .or_else(|| v.pointer("/user/id"))
                .and_then(Value::as_i64)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_update_id_and_chat_of_each_kind() {
        let cases = [
            (
                r#"{"update_id":1,"message":{"chat":{"id":5},"from":{"id":6}}}"#,
                Some(5),
            ),
            (
                r#"{"update_id":2,"callback_query":{"id":"q","from":{"id":7},"message":{"chat":{"id":8}}}}"#,
                Some(8),
            ),
            (
                r#"{"update_id":3,"callback_query":{"from":{"id":7}}}"#,
                Some(7),
            ),
            (r#"{"update_id":4,"poll":{"id":"x"}}"#, None),
            (r#"{"update_id":5}"#, None),
        ];
        for (body, chat) in cases {
            let update = Update::parse(body.as_bytes()).unwrap();
            assert_eq!(update.chat_id, chat, "{body}");
        }
    }

    #[test]
    fn reads_messages_and_button_presses_into_types() {
        let u = Update::parse(
            br#"{"update_id":1,"message":{"message_id":9,"chat":{"id":5,"type":"private"},
                "from":{"id":6,"username":"ann"},"text":"/stats"}}"#,
        )
        .unwrap();
        let UpdateKind::Message(m) = u.kind else {
            panic!("not a message: {:?}", u.kind)
        };
        assert!(m.chat.is_private());
        assert_eq!(m.from.as_ref().map(|f| f.id), Some(6));
        assert_eq!(m.text.as_deref(), Some("/stats"));

        let u = Update::parse(
            br#"{"update_id":2,"callback_query":{"id":"q1","from":{"id":7},"data":"lb:race",
                "message":{"message_id":3,"chat":{"id":8,"type":"group"}}}}"#,
        )
        .unwrap();
        let UpdateKind::Callback(q) = u.kind else {
            panic!("not a button press: {:?}", u.kind)
        };
        assert_eq!(
            (q.id.as_str(), q.from.id, q.data.as_str()),
            ("q1", 7, "lb:race")
        );
        assert_eq!(q.message.and_then(|m| m.message_id), Some(3));
    }

    #[test]
    fn reads_channel_posts_and_inline_queries() {
        let u = Update::parse(
            br#"{"update_id":1,"channel_post":{"message_id":40,"chat":{"id":-1001,"type":"channel",
                "username":"goatedcom"},"text":"Go https://goated.com","entities":[{"type":"url",
                "offset":3,"length":18}]}}"#,
        )
        .unwrap();
        let UpdateKind::ChannelPost(p) = u.kind else {
            panic!("not a channel post: {:?}", u.kind)
        };
        assert_eq!((p.message_id, p.chat.id), (40, -1001));
        assert_eq!(p.chat.username.as_deref(), Some("goatedcom"));
        assert_eq!((p.entities[0].offset, p.entities[0].length), (3, 18));
        assert_eq!(u.chat_id, Some(-1001));

        let u = Update::parse(
            br#"{"update_id":2,"inline_query":{"id":"iq","from":{"id":7},"query":"llama","offset":""}}"#,
        )
        .unwrap();
        let UpdateKind::InlineQuery(q) = u.kind else {
            panic!("not an inline query: {:?}", u.kind)
        };
        assert_eq!(
            (q.id.as_str(), q.from.id, q.query.as_str()),
            ("iq", 7, "llama")
        );
    }

    #[test]
    fn odd_messages_and_other_kinds_are_kept_raw() {
        for body in [
            r#"{"update_id":1,"message":{"text":"no chat"}}"#,
            r#"{"update_id":2,"message":"not an object"}"#,
            r#"{"update_id":3,"edited_message":{"chat":{"id":5},"text":"/stats"}}"#,
            r#"{"update_id":4,"callback_query":{"from":{"id":7}}}"#,
            r#"{"update_id":5,"edited_channel_post":{"message_id":1,"chat":{"id":-1001},"text":"x"}}"#,
            r#"{"update_id":6,"channel_post":{"chat":{"id":-1001}}}"#,
        ] {
            let u = Update::parse(body.as_bytes()).unwrap();
            assert_eq!(u.kind, UpdateKind::Other, "{body}");
            assert_eq!(
                u.raw,
                serde_json::from_str::<Value>(body).unwrap(),
                "{body}"
            );
        }
    }

    #[test]
    fn nul_characters_are_removed_everywhere() {
        let mut v: Value =
            serde_json::from_str(r#"{"a\u0000b":["x\u0000y",{"k":"\u0000"}],"n":1}"#).unwrap();
        strip_nul(&mut v);
        assert_eq!(v, serde_json::json!({"ab": ["xy", {"k": ""}], "n": 1}));
        let u = Update::parse(br#"{"update_id":1,"message":{"chat":{"id":5},"text":"a\u0000b"}}"#)
            .unwrap();
        let UpdateKind::Message(m) = u.kind else {
            panic!("not a message")
        };
        assert_eq!(m.text.as_deref(), Some("ab"));
    }

    #[test]
    fn rejects_what_is_not_an_update() {
        assert!(matches!(
            Update::parse(b"{nope"),
            Err(UpdateError::NotJson(_))
        ));
        for body in [
            r#"[]"#,
            r#"{"update_id":"1"}"#,
            r#"{"update_id":1.5}"#,
            "null",
            "{}",
        ] {
            assert_eq!(
                Update::parse(body.as_bytes()).unwrap_err(),
                UpdateError::NoUpdateId,
                "{body}"
            );
        }
    }
}
