//! What the support desk reads and writes: its organisation's machines and open invitations,
//! and the invitations its operators make by offering help.

use super::{invitation_from_row, parse_id, Store, Writes, INVITATION_COLUMNS};
use crate::error::ServerError;
use crate::invitation::Invitation;
use protocol::ids::{AgentId, InvitationId, OrgId, SessionId, UserId};
use sqlx::Row;

/// An enrolled machine as the dashboard lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    pub id: AgentId,
    pub name: String,
    pub enrolled_at: i64,
    /// When its last connection ended; `None` if it never connected or is connected now.
    pub last_seen_at: Option<i64>,
}

/// An invitation of one of the organisation's machines.
#[derive(Clone, Debug)]
pub struct OrgInvitation {
    pub invitation: Invitation,
    pub machine: String,
    /// The operator who offered help, for invitations the desk made.
    pub offered_by: Option<String>,
}

impl Store {
    /// The machines enrolled into `org`, by name.
    pub async fn machines_in_org(&self, org: OrgId) -> Result<Vec<Machine>, ServerError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_seen_at FROM agents WHERE org_id = $1 \
             ORDER BY name, id",
        )
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Machine {
                    id: parse_id(r, "id")?,
                    name: r.try_get("name")?,
                    enrolled_at: r.try_get("created_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                })
            })
            .collect()
    }

    /// The organisation a machine is enrolled into, if any.
    pub async fn machine_org(&self, agent: AgentId) -> Result<Option<OrgId>, ServerError> {
        let row = sqlx::query("SELECT org_id FROM agents WHERE id = $1")
            .bind(agent.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => {
                let org: Option<String> = r.try_get("org_id")?;
                org.map(|o| {
                    o.parse()
                        .map_err(|_| ServerError::Corrupt(format!("org_id is not a UUID: {o:?}")))
                })
                .transpose()
            }
            None => Ok(None),
        }
    }

    /// Invitations of the organisation's machines that have not expired or been revoked,
    /// newest first.
    pub async fn open_invitations_in_org(
        &self,
        org: OrgId,
        now: i64,
    ) -> Result<Vec<OrgInvitation>, ServerError> {
        self.org_invitations(
            "a.org_id = $1 AND i.revoked_at IS NULL \
             AND (i.expires_at > $2 OR i.active_session IS NOT NULL) \
             ORDER BY i.created_at DESC, i.id LIMIT 200",
            org.to_string(),
            now,
        )
        .await
    }

    /// Invitations with their machine's name and who offered them, those that meet `filter`
    /// (a WHERE condition with its ORDER BY and LIMIT) with `key` as $1 and `now` as $2.
    async fn org_invitations(
        &self,
        filter: &str,
        key: String,
        now: i64,
    ) -> Result<Vec<OrgInvitation>, ServerError> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS}, a.name AS machine, u.display_name AS offered_by \
             FROM invitations i JOIN agents a ON a.id = i.agent_id \
             LEFT JOIN users u ON u.id = i.offered_by \
             WHERE {filter}"
        );
        let rows = sqlx::query(&sql)
            .bind(key)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(OrgInvitation {
                    invitation: invitation_from_row(r)?,
                    machine: r.try_get("machine")?,
                    offered_by: r.try_get("offered_by")?,
                })
            })
            .collect()
    }

    /// Direct invitations waiting for `expert`'s answer at `now`, oldest first.
    pub async fn direct_invitations_for(
        &self,
        expert: UserId,
        now: i64,
    ) -> Result<Vec<OrgInvitation>, ServerError> {
        self.org_invitations(
            "i.direct_to = $1 AND i.revoked_at IS NULL AND i.accepted_at IS NULL \
             AND i.declined_at IS NULL AND i.expires_at > $2 \
             ORDER BY i.created_at, i.id LIMIT 50",
            expert.to_string(),
            now,
        )
        .await
    }
}

impl Writes {
    /// Marks an invitation as made by an operator offering help.
    pub async fn mark_offered(
        &mut self,
        invitation: InvitationId,
        by: UserId,
    ) -> Result<(), ServerError> {
        sqlx::query("UPDATE invitations SET offered_by = $1 WHERE id = $2")
            .bind(by.to_string())
            .bind(invitation.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Records which of the desk's people is the expert of a session.
    pub async fn set_session_expert(
        &mut self,
        session: SessionId,
        expert: UserId,
    ) -> Result<(), ServerError> {
        sqlx::query("UPDATE sessions SET expert_user_id = $1 WHERE id = $2")
            .bind(expert.to_string())
            .bind(session.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
