//! The `telegram` tag: the webhook Telegram posts updates to (authenticated by the
//! `X-Telegram-Bot-Api-Secret-Token` header, stored before it is acknowledged) and the bot's
//! status (queues, last activity, what is configured; never a secret).

use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON};
use poem_openapi::{ApiResponse, Object, OpenApi};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use super::ApiTags;
use crate::http::error::{ApiError, WebhookError};
use crate::state::AppState;
use crate::telegram::status::TelegramStatus;
use crate::telegram::update::Update;
use crate::telegram::Received;

#[derive(Debug, Clone, Object)]
pub struct WebhookAck {
    /// Always true: the update is stored (or was before) and will be handled.
    pub ok: bool,
    /// True when this `update_id` had been received before (a redelivery): not stored again.
    pub duplicate: bool,
}

#[derive(ApiResponse)]
pub enum WebhookResponse {
    /// The update is stored; Telegram may forget it.
    #[oai(status = 200)]
    Ok(Json<WebhookAck>),
}

#[derive(ApiResponse)]
pub enum StatusResponse {
    /// The bot's figures.
    #[oai(status = 200)]
    Ok(Json<TelegramStatus>),
}

/// A Telegram `Update`: a JSON object with an integer `update_id`, read once into the bot's
/// typed [`Update`]; every field is kept as sent for storage (kinds the bot does not know are
/// stored and acknowledged too).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateBody(pub Update);

crate::openapi_type::scalar_type!(
    UpdateBody,
    name = "TelegramUpdate",
    schema = {
        let mut schema = MetaSchema::new("object");
        schema.description = Some(
            "A Telegram Update object (https://core.telegram.org/bots/api#update): an integer \
                 update_id and at most one of message, edited_message, callback_query, …",
        );
        schema.required = vec!["update_id"];
        schema.properties = vec![(
            "update_id",
            MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("integer", "int64"))),
        )];
        schema
    },
);

impl ParseFromJSON for UpdateBody {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match Update::from_value(value.unwrap_or_default()) {
            Ok(update) => Ok(Self(update)),
            Err(e) => Err(ParseError::custom(e.to_string())),
        }
    }
}

impl ToJSON for UpdateBody {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(self.0.raw.clone())
    }
}

/// Compares digests, so that the time taken says nothing about the secret.
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

pub struct TelegramApi;

#[OpenApi(tag = "ApiTags::Telegram")]
impl TelegramApi {
    /// Receive an update from Telegram (the bot's webhook).
    ///
    /// Telegram calls this with each update and the secret given to `setWebhook`. The update
    /// is stored under its `update_id` before the answer, so that a redelivery is acknowledged
    /// without being handled twice; updates are then handled in order per chat. Kinds the bot
    /// does not handle are acknowledged too. Not rate limited (the secret authenticates it).
    #[oai(
        path = "/telegram/webhook",
        method = "post",
        operation_id = "telegramWebhook"
    )]
    async fn webhook(
        &self,
        state: Data<&Arc<AppState>>,
        /// The `secret_token` given to `setWebhook` (`telegram.webhook_secret`).
        #[oai(name = "X-Telegram-Bot-Api-Secret-Token")]
        secret: Header<Option<String>>,
        /// A Telegram `Update` object: any JSON object with an integer `update_id`.
        update: Json<UpdateBody>,
    ) -> Result<WebhookResponse, WebhookError> {
        let expected = state.config().config.telegram.webhook_secret.clone();
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        if !expected.is_set() {
            return Err(unauthorized(
                "the webhook is not configured (telegram.webhook_secret is empty)",
            )
            .into());
        }
        match secret.0.as_deref() {
            Some(given) if same_secret(given, expected.expose()) => {}
            _ => {
                return Err(
                    unauthorized("missing or wrong X-Telegram-Bot-Api-Secret-Token header").into(),
                )
            }
        }
        match state.telegram.receive(&update.0 .0).await {
            Ok(received) => Ok(WebhookResponse::Ok(Json(WebhookAck {
                ok: true,
                duplicate: received == Received::Duplicate,
            }))),
            Err(e) => Err(ApiError::from(e).into()),
        }
    }

    /// The bot's status: configuration present, queues, last activity.
    ///
    /// Read at most once a second whatever the request rate. Anyone sees the state and the
    /// counts; the webhook's URL and the error texts only an admin's session (and
    /// `goatedvips ctl telegram status`) sees.
    #[oai(
        path = "/telegram/status",
        method = "get",
        operation_id = "telegramStatus"
    )]
    async fn status(
        &self,
        req: &poem::Request,
        state: Data<&Arc<AppState>>,
    ) -> Result<StatusResponse, ApiError> {
        let status = state.telegram.status().await?;
        let admin = crate::web::current_user(req, &state)
            .await
            .is_some_and(|u| u.is_admin());
        Ok(StatusResponse::Ok(Json(if admin {
            status
        } else {
            status.public()
        })))
    }
}
