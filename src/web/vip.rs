//! `/vip`: the VIP program. The tiers of `[leaderboard] tiers` with their thresholds and what
//! each gives (its `benefits` text), and, for a logged-in player with a linked Goated
//! account, where they stand: their tier, all-time wager and progress to the next. Also the
//! tier progress shown on a player's page.

use maud::{html, Markup};
use poem::{handler, Request};

use super::layout::{money, tier_label, Nav, Page};
use super::{current_user, visitor, visitor_of, State};
use crate::accounts::CurrentUser;
use crate::domain::tiers::Tier;
use crate::domain::Amount;
use crate::views::{self, TierView};

/// `GET /vip`.
#[handler]
pub async fn vip(req: &Request, state: State<'_>) -> Page {
    // Only a session cookie costs a query (whose is it, and their linked player).
    let me = current_user(req, &state).await;
    let cfg = state.config();
    let snap = state.board.snapshot();
    let player = me
        .as_ref()
        .and_then(|m| m.user.goated_uid.as_deref())
        .and_then(|uid| views::player(&snap, &cfg, state.clock.now(), uid));
    let tiers = &cfg.leaderboard.tiers;
    let mine = player.as_ref().map(|p| p.tier.name.as_str());
    let any_benefits = tiers.iter().any(|t| benefits(t).is_some());
    let how_it_works = state.site_pages.get("how-it-works").is_some();
    let v = match &me {
        Some(m) => visitor_of(Some(m)),
        None => visitor(req),
    };
    Page::new(
        "VIP program",
        Nav::Vip,
        v,
        html! {
            h1 { "VIP program" }
            p.lead { "Every player of the GoatedVIPs code on Goated.com has a VIP tier here, from "
                "their all-time wager under the code, as Goated reports it at each update." }
            section.card #standing aria-labelledby="standing-h" {
                h2 #standing-h { "Where you stand" }
                (standing(me.as_ref(), player.as_ref()))
            }
            section.card aria-labelledby="tiers-h" {
                h2 #tiers-h { "The tiers" }
                // With benefits, three columns: on a phone each tier becomes a block of lines.
                div.table-wrap { table.stack[any_benefits] {
                    caption.sr-only { "VIP tiers, their all-time wager thresholds" @if any_benefits { " and benefits" } }
                    thead { tr {
                        th scope="col" { "Tier" }
                        th scope="col" .num { "From (all-time wager)" }
                        @if any_benefits { th scope="col" { "Benefits" } }
                    } }
                    tbody {
                        @for tier in tiers {
                            tr.mine-row[mine == Some(tier.name.as_str())] {
                                td data-label="Tier" {
                                    (tier_label(&tier.name))
                                    @if mine == Some(tier.name.as_str()) { " " strong { "Your tier" } }
                                }
                                td.num data-label="From" { (money(tier.min)) }
                                @if any_benefits {
                                    td data-label="Benefits" { (benefits(tier).unwrap_or("—")) }
                                }
                            }
                        }
                    }
                } }
                @if how_it_works {
                    p { "How wagers are counted and races paid: " a href="/p/how-it-works" { "how it works" } "." }
                }
            }
        },
    )
    .describe(format!(
        "The GoatedVIPs VIP tiers by all-time wager, from {} to {}, and what each gives.",
        tiers.first().map_or("", |t| t.name.as_str()),
        tiers.last().map_or("", |t| t.name.as_str()),
    ))
}

/// A tier's benefits text, unless it is blank.
fn benefits(tier: &Tier) -> Option<&str> {
    tier.benefits
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
}

/// The visitor's own place: their tier and progress, or what to do to see it.
fn standing(me: Option<&CurrentUser>, player: Option<&views::PlayerView>) -> Markup {
    html! {
        @match (me, player) {
            (None, _) => {
                p { "Log in and link your Goated account to see your tier and how far the next one is." }
                p { a.button href="/login" { "Log in" } " " a.button.secondary href="/register" { "Create an account" } }
            }
            (Some(m), None) if m.user.goated_uid.is_none() => {
                p { "Link your Goated account to see your tier here. An admin checks each request." }
                p { a.button href="/account#goated" { "Link it on your account page" } }
            }
            (Some(_), None) => {
                p { "Your linked Goated player is not on the leaderboard right now, so it has no tier to show." }
            }
            (Some(_), Some(p)) => {
                p { a href={ "/players/" (p.uid) } { strong { (p.name) } } " · " (tier_label(&p.tier.name))
                    " · " (money(p.wagered.all_time.0)) " wagered all time" }
                (tier_progress(&p.tier, p.wagered.all_time))
            }
        }
    }
}

/// Progress to the next tier: a labelled bar and what is left, or the top tier's message.
pub(super) fn tier_progress(tier: &TierView, all_time: Amount) -> Markup {
    let pct = tier.progress_percent.0.round_dp(0);
    html! {
        @if let (Some(next), Some(min)) = (&tier.next, &tier.next_min) {
            label for="tier-progress" { (pct) "% of the way to " (next) " (" (money(min.0)) ")" }
            progress #tier-progress max="100" value=(pct) { (pct) "%" }
            p { (money(min.0 - all_time.0)) " to go." }
        } @else {
            p { "The top tier. Nothing left to reach!" }
        }
    }
}
