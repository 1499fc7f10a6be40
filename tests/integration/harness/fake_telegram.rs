//! A fake Telegram Bot API on 127.0.0.1: `POST /bot{token}/{method}` records each call and
//! answers `{"ok":true,...}`, or the scripted answers the test queued (429 with `retry_after`,
//! 403, 5xx …), or the standing answer of a chat (a user who blocked the bot), and
//! `getChatMember` from the statuses the test set; and the helpers
//! that post webhook updates with the secret.

use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::env::TestEnv;
use super::wait::wait_for;

pub const BOT_TOKEN: &str = "7000000001:TEST-bot-token-SeCrEt";
pub const WEBHOOK_SECRET: &str = "webhook-secret-for-tests";
pub const BOT_USERNAME: &str = "GoatedVIPsBot";

/// One call the daemon made.
#[derive(Debug, Clone)]
pub struct BotCall {
    pub token: String,
    pub method: String,
    pub params: Value,
    pub at: Instant,
    /// The status the fake answered with.
    pub status: u16,
}

#[derive(Default)]
struct Shared {
    calls: Mutex<Vec<BotCall>>,
    script: Mutex<VecDeque<(u16, Value)>>,
    /// Answers for every call to a chat, before the script (see [`FakeBotApi::answer_chat`]).
    by_chat: Mutex<HashMap<i64, (u16, Value)>>,
    /// `getWebhookInfo` is polled by the status: answered from here (not the script) and
    /// counted apart from the other calls.
    webhook_info: Mutex<Option<Value>>,
    webhook_info_calls: Mutex<u32>,
    /// How long each call takes to answer once recorded (see [`FakeBotApi::set_delay`]).
    delay: Mutex<Duration>,
    /// `getChatMember`'s status per (chat, user); `member` when not set.
    members: Mutex<HashMap<(i64, i64), String>>,
}

/// The fake Bot API.
pub struct FakeBotApi {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _server: tokio::task::JoinHandle<()>,
}

impl BotCall {
    /// The `text` as Telegram shows it: with `parse_mode` HTML, tags are dropped and the four
    /// entities decoded (a stray `<` or `&` is an error there, so the raw text must have none).
    pub fn rendered(&self) -> String {
        let text = self.params["text"].as_str().unwrap_or("");
        if self.params["parse_mode"] != "HTML" {
            return text.to_string();
        }
        let mut out = String::new();
        let mut in_tag = false;
        for c in text.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        assert!(!in_tag, "unclosed tag in {text:?}");
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    }
}

impl FakeBotApi {
    pub async fn start() -> Self {
        use poem::{handler, web::Data, web::Json, web::Path as PPath, EndpointExt};
        #[handler]
        async fn call(
            PPath((bot, method)): PPath<(String, String)>,
            Data(shared): Data<&Arc<Shared>>,
            body: Json<Value>,
        ) -> poem::Response {
            if method == "getWebhookInfo" {
                *shared.webhook_info_calls.lock().unwrap() += 1;
                let info = shared.webhook_info.lock().unwrap().clone().unwrap_or_else(
                    || json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}),
                );
                return poem::Response::builder()
                    .content_type("application/json")
                    .body(json!({"ok": true, "result": info}).to_string());
            }
            if method == "getChatMember" {
                let key = (
                    body.0["chat_id"].as_i64().unwrap_or_default(),
                    body.0["user_id"].as_i64().unwrap_or_default(),
                );
                let status = shared.members.lock().unwrap().get(&key).cloned();
                let status = status.unwrap_or_else(|| "member".into());
                shared.calls.lock().unwrap().push(BotCall {
                    token: bot.trim_start_matches("bot").to_string(),
                    method,
                    params: body.0,
                    at: Instant::now(),
                    status: 200,
                });
                let member = json!({"status": status, "user": {"id": key.1, "is_bot": false}});
                return poem::Response::builder()
                    .content_type("application/json")
                    .body(json!({"ok": true, "result": member}).to_string());
            }
            let standing = body.0["chat_id"]
                .as_i64()
                .and_then(|chat| shared.by_chat.lock().unwrap().get(&chat).cloned());
            let (status, answer) = standing
                .or_else(|| shared.script.lock().unwrap().pop_front())
                .unwrap_or((200, json!({"ok": true, "result": {"message_id": 1}})));
            shared.calls.lock().unwrap().push(BotCall {
                token: bot.trim_start_matches("bot").to_string(),
                method,
                params: body.0,
                at: Instant::now(),
                status,
            });
            // Recorded before the wait: Telegram has the message even if its caller stops
            // waiting for the answer.
            let delay = *shared.delay.lock().unwrap();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            poem::Response::builder()
                .status(poem::http::StatusCode::from_u16(status).unwrap())
                .content_type("application/json")
                .body(answer.to_string())
        }
        let shared = Arc::new(Shared::default());
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let acceptor = poem::listener::TcpAcceptor::from_std(std_listener).unwrap();
        let app = poem::Route::new()
            .at("/:bot/:method", poem::post(call))
            .data(shared.clone());
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Self {
            addr,
            shared,
            _server: server,
        }
    }

    /// Points the daemon's `[telegram]` at this fake, with a 100 ms per-chat interval.
    pub fn configure(&self, env: &mut TestEnv) {
        env.set("telegram.api_url", format!("http://{}", self.addr));
        env.set("telegram.bot_token", BOT_TOKEN);
        env.set("telegram.webhook_secret", WEBHOOK_SECRET);
        env.set("telegram.bot_username", BOT_USERNAME);
        env.set("telegram.chat_interval_ms", 100);
        // Tests send commands faster than people; the limits have their own test.
        env.set("telegram.command_limit", 1000);
        env.set("telegram.group_cooldown_secs", 0);
    }

    /// The next call gets this answer instead of `ok` (answers are used in order).
    pub fn answer_next(&self, status: u16, body: Value) {
        self.shared.script.lock().unwrap().push_back((status, body));
    }

    /// Every call to `chat` gets this answer from now on (e.g. 403: the user blocked the bot);
    /// the script is kept for the other chats.
    pub fn answer_chat(&self, chat: i64, status: u16, body: Value) {
        self.shared
            .by_chat
            .lock()
            .unwrap()
            .insert(chat, (status, body));
    }

    /// Every call (but `getWebhookInfo`) is answered `delay` after it arrived, from now on.
    pub fn set_delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// What `getChatMember` answers for `user` in `chat` from now on (`administrator`,
    /// `creator`, `member` …; `member` when never set).
    pub fn set_member_status(&self, chat: i64, user: i64, status: &str) {
        self.shared
            .members
            .lock()
            .unwrap()
            .insert((chat, user), status.to_string());
    }

    /// What `getWebhookInfo` answers from now on.
    pub fn set_webhook_info(&self, info: Value) {
        *self.shared.webhook_info.lock().unwrap() = Some(info);
    }

    /// How many times `getWebhookInfo` was asked.
    pub fn webhook_info_calls(&self) -> u32 {
        *self.shared.webhook_info_calls.lock().unwrap()
    }

    /// Every call but `getWebhookInfo`, in order.
    pub fn calls(&self) -> Vec<BotCall> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// The texts of the `sendMessage` calls to `chat` answered `ok`, in order, as the user
    /// sees them (HTML parse mode rendered: tags dropped, entities decoded).
    pub fn texts_to(&self, chat: i64) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "sendMessage" && c.status == 200 && c.params["chat_id"] == chat)
            .map(|c| c.rendered())
            .collect()
    }

    /// Waits (10 s) until `chat` got `n` messages; returns their texts.
    pub async fn wait_texts(&self, chat: i64, n: usize) -> Vec<String> {
        wait_for(
            &format!("{n} message(s) to chat {chat}"),
            Duration::from_secs(10),
            || async {
                let texts = self.texts_to(chat);
                (texts.len() >= n).then_some(texts)
            },
        )
        .await
    }
}

/// POSTs `update` to the webhook of the daemon at `addr` with `secret`; (status, body).
pub async fn post_update(addr: SocketAddr, update: &Value, secret: Option<&str>) -> (u16, Value) {
    let mut req = super::client::fresh_client()
        .post(super::client::url(addr, "/api/telegram/webhook"))
        .json(update);
    if let Some(s) = secret {
        req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// A Telegram fixture (tests/fixtures/telegram/NAME.json).
pub fn telegram_fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/telegram/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}
