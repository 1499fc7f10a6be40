//! Bonus drops (admins):
//! - `/createbonus CODE | reward | wager requirement | max claims | days valid | description`
//!   creates a code through the accounts service (the rules and the audit of
//!   `POST /api/admin/bonus-codes`, so the site lists it); `/createbonus` alone asks the same
//!   fields step by step in private ([`CREATE_BONUS`], a wizard). Each field is read by one
//!   function here, which the wizard's step uses too, and checked with the service's rule.
//! - `/deploybonus CODE [N per group]` announces an active code to every group of
//!   `telegram.allowed_groups` through the outbox (paced per group): the code in a spoiler, the
//!   reward, the wager requirement, "the first N in this group" (N, else the code's max claims)
//!   and the affiliate link as a button; audited as `bonus_code.deploy`.

use chrono::Duration;
use rust_decimal::Decimal;
use serde_json::json;

use super::admin::admin_actor;
use super::outgoing::{escape, Outgoing};
use super::parse::Command;
use super::wizard::{Step, Wizard};
use super::{capitalise, refusal, Ctx, HandleError};
use crate::accounts::bonus_codes::{
    check_amount, check_description, check_max_claims, BonusCode, NewBonusCode,
};
use crate::accounts::{Actor, User};
use crate::domain::accounts::validate_bonus_code;

const CREATE_USAGE: &str = "Usage: /createbonus CODE | reward | wager requirement | max claims \
| days valid | description (or /createbonus alone in a private chat, step by step)";

const DEPLOY_USAGE: &str = "Usage: /deploybonus CODE [N per group]";

/// The most days a code made by the bot stays valid.
const MAX_DAYS: u32 = 3650;

/// `/createbonus` step by step: one step per field of the one-line form.
pub(super) const CREATE_BONUS: Wizard = Wizard {
    command: "createbonus",
    admins_only: true,
    steps: &[
        Step {
            prompt: "the code, 4 to 16 letters or digits (e.g. GOAT50).",
            check: |a| read_code(a).map(drop),
        },
        Step {
            prompt: "the reward (e.g. 25 or 12.50).",
            check: |a| read_amount("reward", a).map(drop),
        },
        Step {
            prompt: "the wager requirement (e.g. 1000).",
            check: |a| read_amount("wager requirement", a).map(drop),
        },
        Step {
            prompt: "how many times it can be claimed (e.g. 100).",
            check: |a| read_max_claims(a).map(drop),
        },
        Step {
            prompt: "how many days it is valid (e.g. 7).",
            check: |a| read_days(a).map(drop),
        },
        Step {
            prompt: "the description players see (e.g. Weekend reload).",
            check: check_description,
        },
    ],
};

/// The code, upper-cased, by the accounts rule.
fn read_code(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    validate_bonus_code(&code)?;
    Ok(code)
}

/// An amount (`25`, `12.50`, `$25`), positive by the accounts rule.
fn read_amount(field: &str, text: &str) -> Result<Decimal, String> {
    let text = text.trim();
    let amount = Decimal::from_str_exact(text.strip_prefix('$').unwrap_or(text))
        .map_err(|_| format!("{field} must be an amount such as 25 or 12.50"))?;
    check_amount(field, amount)?;
    Ok(amount)
}

fn read_max_claims(text: &str) -> Result<u32, String> {
    let n: i64 = text
        .trim()
        .parse()
        .map_err(|_| "max claims must be a whole number such as 100".to_string())?;
    check_max_claims(n)?;
    u32::try_from(n).map_err(|_| "max_claims is too large".to_string())
}

fn read_days(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(days) if (1..=MAX_DAYS).contains(&days) => Ok(days),
        _ => Err(format!(
            "days valid must be a whole number of days from 1 to {MAX_DAYS}"
        )),
    }
}

/// The six fields of the one-line form, every problem at once.
fn read_new_code(args: &str, now: chrono::DateTime<chrono::Utc>) -> Result<NewBonusCode, String> {
    let fields: Vec<&str> = args.split('|').map(str::trim).collect();
    let [code, reward, wager, claims, days, description] = fields[..] else {
        return Err(format!(
            "6 fields separated by | are needed, {} given",
            fields.len()
        ));
    };
    let code = read_code(code);
    let reward = read_amount("reward", reward);
    let wager = read_amount("wager requirement", wager);
    let claims = read_max_claims(claims);
    let days = read_days(days);
    let described = check_description(description);
    match (code, reward, wager, claims, days, described) {
        (Ok(code), Ok(reward), Ok(wager_requirement), Ok(max_claims), Ok(days), Ok(())) => {
            Ok(NewBonusCode {
                code,
                description: description.to_string(),
                reward,
                wager_requirement,
                max_claims,
                expires_at: now + Duration::days(days.into()),
            })
        }
        (code, reward, wager, claims, days, described) => Err([
            code.err(),
            reward.err(),
            wager.err(),
            claims.err(),
            days.err(),
            described.err(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ")),
    }
}

/// `/createbonus …` and `/deploybonus …`, for admins (the wizard of `/createbonus` alone is
/// opened before the dispatch gets here).
pub(super) async fn bonus_drop_command(
    ctx: &mut Ctx<'_, '_>,
    chat_id: i64,
    from_id: i64,
    user: Option<&User>,
    cmd: &Command<'_>,
) -> Result<Vec<Outgoing>, HandleError> {
    let Some(admin) = admin_actor(ctx, from_id, user) else {
        return Ok(vec![Outgoing::message(chat_id, "Only admins may do that.")]);
    };
    if cmd.name == "deploybonus" {
        return deploy(ctx, chat_id, &admin, cmd.args).await;
    }
    let text = create(ctx, &admin, cmd.args).await?;
    Ok(vec![Outgoing::message(chat_id, text)])
}

async fn create(ctx: &mut Ctx<'_, '_>, admin: &Actor, args: &str) -> Result<String, HandleError> {
    let new = match read_new_code(args, ctx.now) {
        Ok(new) => new,
        Err(why) => return Ok(format!("{}.\n{CREATE_USAGE}", capitalise(&why))),
    };
    let code = match ctx
        .accounts
        .create_bonus_code_in(&*ctx.tx, admin, new)
        .await
    {
        Ok(code) => code,
        Err(e) => return Ok(format!("{}.\n{CREATE_USAGE}", refusal(e)?)),
    };
    Ok(format!(
        "Bonus code {0} created: reward {1}, wager requirement {2}, {3} claim(s), expires {4}. \
         The site lists it; announce it to the groups with /deploybonus {0} [N per group].",
        code.code,
        code.reward,
        code.wager_requirement,
        code.max_claims,
        code.expires_at.format("%Y-%m-%d %H:%M UTC")
    ))
}

/// `/deploybonus CODE [N]`: the admin's answer first, then one announcement per group.
async fn deploy(
    ctx: &mut Ctx<'_, '_>,
    chat_id: i64,
    admin: &Actor,
    args: &str,
) -> Result<Vec<Outgoing>, HandleError> {
    let refuse = |why: &str| Ok(vec![Outgoing::message(chat_id, why)]);
    let words: Vec<&str> = args.split_whitespace().collect();
    let (code, per_group) = match words[..] {
        [code] => (code.to_ascii_uppercase(), None),
        [code, n] => match n.parse::<i32>() {
            Ok(n) if n >= 1 => (code.to_ascii_uppercase(), Some(n)),
            _ => {
                return refuse(&format!(
                    "N must be a whole number of at least 1, not {n}.\n{DEPLOY_USAGE}"
                ))
            }
        },
        [] => return refuse(&format!("Which code?\n{DEPLOY_USAGE}")),
        _ => return refuse(&format!("Too many arguments.\n{DEPLOY_USAGE}")),
    };
    let groups = &ctx.config.telegram.allowed_groups;
    if groups.is_empty() {
        return refuse(
            "No groups to announce to: telegram.allowed_groups lists none. Nothing was sent.",
        );
    }
    let active = match ctx.accounts.active_bonus_codes_in(&*ctx.tx).await {
        Ok(codes) => codes,
        Err(e) => return refuse(&refusal(e)?),
    };
    let Some(bonus) = active.into_iter().find(|c| c.code == code) else {
        return refuse(&format!(
            "No active bonus code {code}: it is unknown, expired or fully claimed. /bonus lists \
             the active codes."
        ));
    };
    let per_group = per_group.unwrap_or(bonus.max_claims);
    if per_group > bonus.max_claims {
        return refuse(&format!(
            "N is more than the code's {} claim(s).\n{DEPLOY_USAGE}",
            bonus.max_claims
        ));
    }
    ctx.accounts
        .audit_in(
            &*ctx.tx,
            admin,
            "bonus_code.deploy",
            &format!("bonus_code:{code}"),
            json!({"groups": groups, "per_group": per_group}),
        )
        .await?;
    let affiliate = ctx.config.telegram.affiliate_url.as_str();
    let mut answer = format!(
        "Bonus code {code} announced to {} group(s), the first {per_group} in each.",
        groups.len()
    );
    if affiliate.is_empty() {
        answer.push_str(" Without a link to play: telegram.affiliate_url is not set.");
    }
    let mut out = vec![Outgoing::message(chat_id, answer)];
    out.extend(Outgoing::to_allowed_groups(ctx.config, |group| {
        announcement(group, &bonus, per_group, affiliate)
    }));
    Ok(out)
}

/// A group's announcement of `bonus`: the code in a spoiler, and a button to play.
fn announcement(group: i64, bonus: &BonusCode, per_group: i32, affiliate: &str) -> Outgoing {
    let html = format!(
        "<b>Bonus drop!</b> {}\n\nCode: <tg-spoiler>{}</tg-spoiler>\nReward: {}\n\
         Wager requirement: {}\nThe first {per_group} in this group only. Expires {}.",
        escape(&bonus.description),
        escape(&bonus.code),
        bonus.reward,
        bonus.wager_requirement,
        bonus.expires_at.format("%Y-%m-%d %H:%M UTC"),
    );
    let out = Outgoing::html(group, html);
    if affiliate.is_empty() {
        return out;
    }
    out.with_keyboard(json!([[{"text": "Play on Goated", "url": affiliate}]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step_check(index: usize, answer: &str) -> Result<(), String> {
        (CREATE_BONUS.steps[index].check)(answer)
    }

    #[test]
    fn each_step_checks_its_field_with_the_service_rules() {
        assert_eq!(step_check(0, "goat50"), Ok(()));
        assert!(step_check(0, "GO").unwrap_err().contains("4 to 16"));
        assert!(step_check(0, "GOAT-50").is_err());
        assert_eq!(step_check(1, "12.50"), Ok(()));
        assert_eq!(step_check(1, "$25"), Ok(()));
        assert_eq!(
            step_check(1, "0"),
            Err("reward must be a positive amount".into())
        );
        assert!(step_check(1, "lots").unwrap_err().contains("an amount"));
        assert_eq!(
            step_check(2, "-5"),
            Err("wager requirement must be a positive amount".into())
        );
        assert_eq!(step_check(3, "100"), Ok(()));
        assert!(step_check(3, "0").unwrap_err().contains("at least 1"));
        assert!(step_check(3, "3000000000")
            .unwrap_err()
            .contains("too large"));
        assert!(step_check(3, "1.5").unwrap_err().contains("whole number"));
        assert_eq!(step_check(4, "7"), Ok(()));
        for days in ["0", "3651", "a week"] {
            assert!(
                step_check(4, days).unwrap_err().contains("1 to 3650"),
                "{days}"
            );
        }
        assert_eq!(step_check(5, "Weekend reload"), Ok(()));
        assert!(step_check(5, &"x".repeat(501)).is_err());
    }

    #[test]
    fn the_one_line_form_reads_every_field_or_says_every_problem() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T20:00:00Z")
            .unwrap()
            .to_utc();
        let new = read_new_code("goat50 | 50 | 1000 | 100 | 7 | Weekend reload", now).unwrap();
        assert_eq!(new.code, "GOAT50");
        assert_eq!(new.reward, Decimal::from(50));
        assert_eq!(new.wager_requirement, Decimal::from(1000));
        assert_eq!(new.max_claims, 100);
        assert_eq!(new.expires_at, now + Duration::days(7));
        assert_eq!(new.description, "Weekend reload");
        assert_eq!(
            read_new_code("GOAT50 | 50 | 1000", now).unwrap_err(),
            "6 fields separated by | are needed, 3 given"
        );
        let why = read_new_code("G | 0 | 1000 | 100 | 0 | x", now).unwrap_err();
        assert!(
            why.contains("code must be") && why.contains("reward must") && why.contains("days"),
            "{why}"
        );
    }

    #[test]
    fn the_announcement_hides_the_code_in_a_spoiler_and_escapes_the_description() {
        let now = chrono::Utc::now();
        let bonus = BonusCode {
            id: 1,
            code: "GOAT50".into(),
            description: "<b>Weekend</b> & more".into(),
            reward: Decimal::from(50),
            wager_requirement: Decimal::from(1000),
            max_claims: 100,
            claims: 0,
            expires_at: now,
            created_at: now,
            updated_at: now,
        };
        let out = announcement(-100, &bonus, 5, "https://goated.com/r/VIP");
        let text = out.params["text"].as_str().unwrap();
        assert!(text.contains("<tg-spoiler>GOAT50</tg-spoiler>"), "{text}");
        assert!(
            text.contains("&lt;b&gt;Weekend&lt;/b&gt; &amp; more"),
            "{text}"
        );
        assert!(text.contains("The first 5 in this group only"), "{text}");
        assert_eq!(
            out.params["reply_markup"]["inline_keyboard"][0][0]["url"],
            "https://goated.com/r/VIP"
        );
        assert!(announcement(-100, &bonus, 5, "")
            .params
            .get("reply_markup")
            .is_none());
    }
}
