//! The audit log: every admin action (API or command line) with who, what, target, when and
//! from which IP.

use chrono::{DateTime, Utc};

use super::{AccountError, Accounts, User};
use crate::db::accounts as q;

/// Who does an administrative action.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// A username, or `cli:<uid>` for the command line.
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    /// An admin acting through the API from `ip`.
    pub fn user(user: &User, ip: Option<String>) -> Self {
        Self {
            user_id: Some(user.id),
            name: user.username.clone(),
            ip,
        }
    }

    /// The command line, run by the Unix user `uid`.
    pub fn cli() -> Self {
        Self {
            user_id: None,
            name: format!("cli:{}", nix::unistd::getuid()),
            ip: None,
        }
    }
}

/// One audit entry.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
}

impl Accounts {
    /// Records an admin action.
    pub async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<(), AccountError> {
        let conn = self.conn().await?;
        self.audit_in(&*conn, actor, action, target, detail).await
    }

    /// [`Accounts::audit`] on the caller's client (recorded only if its transaction commits).
    pub async fn audit_in<C: tokio_postgres::GenericClient>(
        &self,
        c: &C,
        actor: &Actor,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<(), AccountError> {
        q::insert_audit(
            c,
            self.now(),
            actor.user_id,
            &actor.name,
            action,
            target,
            &detail,
            actor.ip.as_deref(),
        )
        .await?;
        slog::info!(self.log, "audit"; "actor" => &actor.name, "action" => action, "target" => target, "ip" => actor.ip.as_deref());
        Ok(())
    }

    /// A page of the audit log, newest first, and the total.
    pub async fn audit_log(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<AuditEntry>, i64), AccountError> {
        let conn = self.conn().await?;
        let (rows, total) = q::list_audit(&*conn, i64::from(limit), i64::from(offset)).await?;
        Ok((
            rows.into_iter()
                .map(|r| AuditEntry {
                    id: r.id,
                    at: r.at,
                    actor_id: r.actor_id,
                    actor: r.actor,
                    action: r.action,
                    target: r.target,
                    detail: r.detail,
                    ip: r.ip,
                })
                .collect(),
            total,
        ))
    }
}
