//! Channel forwarding: a new post of a channel in `telegram.forward_channels` is re-posted to
//! every group of `telegram.allowed_groups`, its goated.com links rewritten to the affiliate
//! link (`affiliate_links`). A text post becomes a `sendMessage` with the text and its
//! entities (no parse mode: the entities carry the formatting); any other post (photo, video,
//! document …) a `copyMessage` with its caption and caption entities rewritten. Telegram sends
//! a channel's posts only to its administrators: the bot must be one (with no rights).
//!
//! Once: the update is handled once (by its `update_id`), and the post itself is recorded by
//! channel and message id in the update's transaction, so the same post delivered again is not
//! re-posted. An edited post arrives as `edited_channel_post`, which is not a `ChannelPost`
//! and so never comes here.

use serde_json::json;

use super::outgoing::Outgoing;
use super::{Ctx, HandleError, Handled};
use crate::db::telegram as q;
use crate::telegram::affiliate_links::{LinkRewriter, Rewritten};
use crate::telegram::update::{ChannelPost, MessageEntity};

/// Re-posts `post` to every allowed group when its channel is listed and it was not re-posted
/// before; nothing otherwise.
pub(super) async fn on_channel_post(
    ctx: &mut Ctx<'_, '_>,
    post: &ChannelPost,
) -> Result<Handled, HandleError> {
    let tg = &ctx.config.telegram;
    let listed = tg
        .forward_channels
        .iter()
        .any(|c| c.is(post.chat.id, post.chat.username.as_deref()));
    if !listed {
        return Ok(Handled::default());
    }
    let first_time = q::record_forward(
        &*ctx.tx,
        post.chat.id,
        post.message_id,
        ctx.update_id,
        ctx.now,
    )
    .await?;
    if !first_time {
        return Ok(Handled::default());
    }
    let rewriter = LinkRewriter::new(&tg.affiliate_url);
    let rewrite = |text: &str, entities: &[MessageEntity]| match &rewriter {
        Some(r) => r.rewrite(text, entities),
        None => Rewritten {
            text: text.to_string(),
            entities: entities.to_vec(),
            links: 0,
        },
    };
    let replies = match &post.text {
        Some(text) => {
            let out = rewrite(text, &post.entities);
            Outgoing::to_allowed_groups(ctx.config, |group| Outgoing {
                chat_id: group,
                method: "sendMessage",
                params: json!({"chat_id": group, "text": out.text, "entities": out.entities}),
            })
        }
        None => {
            let caption = post
                .caption
                .as_deref()
                .map(|c| rewrite(c, &post.caption_entities));
            Outgoing::to_allowed_groups(ctx.config, |group| {
                let mut params = json!({
                    "chat_id": group, "from_chat_id": post.chat.id, "message_id": post.message_id,
                });
                if let Some(c) = &caption {
                    params["caption"] = json!(c.text);
                    params["caption_entities"] = json!(c.entities);
                }
                Outgoing {
                    chat_id: group,
                    method: "copyMessage",
                    params,
                }
            })
        }
    };
    Ok(replies.into())
}
