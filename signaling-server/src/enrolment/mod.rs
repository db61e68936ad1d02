//! Enrolment: how a machine joins an organisation's support desk.
//!
//! An administrator creates an enrolment token ([`create_token`]) with an expiry and,
//! optionally, a number of uses; the secret is shown once and only its SHA-256 is kept. The
//! novice's agent presents it once ([`enroll`], `POST /api/enroll`) and receives its own agent
//! credential; the machine then belongs to the organisation, shows on its dashboard
//! ([`Store::machines_in_org`]) and may be offered help by its operators. Administrators list
//! ([`list_tokens`]) and revoke ([`revoke_token`]) the tokens of their own organisation only.

use crate::accounts::User;
use crate::audit::{Actor, AuditKind};
use crate::error::{ApiError, Refused, ServerError};
use crate::names::clean_name;
use crate::secrets::{random_token, sha256_hex};
use crate::store::{AgentRecord, AuditEvent, EnrolmentTokenRecord, Store};
use protocol::ids::{AgentId, EnrolmentTokenId, OrgId};

/// Longest lifetime of an enrolment token: a year.
pub const MAX_LIFETIME_SECS: i64 = 365 * 86_400;

/// A token just created. `token` is the secret to hand out; it is never shown again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEnrolmentToken {
    pub id: EnrolmentTokenId,
    pub token: String,
    pub expires_at: i64,
    /// `None`: any number of machines until it expires.
    pub uses_left: Option<u32>,
}

/// A token as the dashboard lists it: everything but the secret, which is not kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentTokenSummary {
    pub id: EnrolmentTokenId,
    /// Login of the administrator who created it.
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// `None`: unlimited until it expires.
    pub uses_left: Option<u32>,
    pub revoked_at: Option<i64>,
}

impl EnrolmentTokenSummary {
    /// Whether a machine could enrol with it at `now`.
    pub fn is_usable(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now && self.uses_left != Some(0)
    }
}

/// A machine that just enrolled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolled {
    pub agent_id: AgentId,
    /// The agent's bearer credential, `<agent id>.<secret>`, as from registration.
    pub agent_token: String,
    pub org: OrgId,
    /// The organisation's name.
    pub organisation: String,
}

/// Why an enrolment was refused. The texts are for the novice at the agent.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("This enrolment token is not known to the server; check that it was copied whole, or ask your administrator for a new one.")]
    UnknownToken,
    #[error("This enrolment token has expired; ask your administrator for a new one.")]
    Expired,
    #[error("This enrolment token was revoked by your administrator; ask them for a new one.")]
    Revoked,
    #[error("This enrolment token has been used as often as it may be; ask your administrator for a new one.")]
    UsedUp,
    /// The machine's name is unusable; the text says why.
    #[error("{0}")]
    BadName(String),
    #[error(transparent)]
    Server(#[from] ServerError),
}

/// Creates an enrolment token for `by`'s organisation, valid until `expires_at` for `uses`
/// machines (`None`: any number). Administrators only.
pub async fn create_token(
    store: &Store,
    by: &User,
    expires_at: i64,
    uses: Option<u32>,
    now: i64,
) -> Result<NewEnrolmentToken, ApiError> {
    if !by.is_admin() {
        return Err(
            Refused::bad_request("Only an administrator can create enrolment tokens.").into(),
        );
    }
    if expires_at <= now {
        return Err(Refused::bad_request("An enrolment token must expire in the future.").into());
    }
    if expires_at - now > MAX_LIFETIME_SECS {
        return Err(
            Refused::bad_request("An enrolment token can be valid for at most a year.").into(),
        );
    }
    if uses == Some(0) {
        return Err(
            Refused::bad_request("An enrolment token must allow at least one machine.").into(),
        );
    }
    let token = random_token();
    let record = EnrolmentTokenRecord {
        id: EnrolmentTokenId::new_random(),
        org: by.org,
        token_hash: sha256_hex(&token),
        created_by: by.id,
        expires_at,
        uses_left: uses,
    };
    let detail = match uses {
        Some(n) => format!("{} for {n} machine(s)", record.id),
        None => format!("{} for any number of machines", record.id),
    };
    let mut writes = store.begin().await?;
    writes.insert_enrolment_token(&record, now).await?;
    writes
        .append_audit(
            AuditEvent {
                org: Some(by.org),
                user: Some(by.id),
                detail: &detail,
                ..AuditEvent::new(AuditKind::EnrolmentTokenCreated, Actor::Person(&by.login))
            },
            now,
        )
        .await?;
    writes.commit().await?;
    Ok(NewEnrolmentToken {
        id: record.id,
        token,
        expires_at,
        uses_left: uses,
    })
}

/// The enrolment tokens of `org`, newest first, without their secrets.
pub async fn list_tokens(
    store: &Store,
    org: OrgId,
) -> Result<Vec<EnrolmentTokenSummary>, ServerError> {
    Ok(store
        .enrolment_tokens(org)
        .await?
        .into_iter()
        .map(|t| EnrolmentTokenSummary {
            id: t.id,
            created_by: t.created_by,
            created_at: t.created_at,
            expires_at: t.expires_at,
            uses_left: t.uses_left,
            revoked_at: t.revoked_at,
        })
        .collect())
}

/// Revokes one of the tokens of `by`'s organisation: no machine can enrol with it any more
/// (machines already enrolled stay). Administrators only; revoking twice is harmless.
pub async fn revoke_token(
    store: &Store,
    by: &User,
    id: EnrolmentTokenId,
    now: i64,
) -> Result<(), ApiError> {
    if !by.is_admin() {
        return Err(
            Refused::bad_request("Only an administrator can revoke enrolment tokens.").into(),
        );
    }
    let mut writes = store.begin().await?;
    if !writes.revoke_enrolment_token(by.org, id, now).await? {
        drop(writes);
        return match store.enrolment_token(by.org, id).await? {
            Some(_) => Ok(()),
            None => Err(Refused::bad_request(
                "There is no such enrolment token in your organisation.",
            )
            .into()),
        };
    }
    writes
        .append_audit(
            AuditEvent {
                org: Some(by.org),
                user: Some(by.id),
                detail: &id.to_string(),
                ..AuditEvent::new(AuditKind::EnrolmentTokenRevoked, Actor::Person(&by.login))
            },
            now,
        )
        .await?;
    Ok(writes.commit().await?)
}

/// Enrols the machine called `name` with the enrolment token `token`: spends one use, creates
/// the agent in the token's organisation and returns its credential.
pub async fn enroll(
    store: &Store,
    token: &str,
    name: &str,
    now: i64,
) -> Result<Enrolled, EnrolError> {
    let name =
        clean_name(name, "The machine's name").map_err(|r| EnrolError::BadName(r.message))?;
    let token_hash = sha256_hex(token.trim());
    let mut writes = store.begin().await?;
    let Some((token_id, org, organisation)) =
        writes.spend_enrolment_token(&token_hash, now).await?
    else {
        drop(writes);
        return Err(refusal(store, &token_hash, now).await?);
    };
    let agent_id = AgentId::new_random();
    let secret = random_token();
    let record = AgentRecord {
        id: agent_id,
        name,
        token_hash: sha256_hex(&secret),
        org: Some(org),
    };
    writes.insert_agent(&record, now).await?;
    writes
        .append_audit(
            AuditEvent {
                agent: Some(agent_id),
                org: Some(org),
                detail: &format!("enrolment token {token_id}"),
                ..AuditEvent::new(AuditKind::MachineEnrolled, Actor::Machine(&record.name))
            },
            now,
        )
        .await?;
    writes.commit().await?;
    tracing::info!(agent = %agent_id, %org, "machine enrolled");
    Ok(Enrolled {
        agent_id,
        agent_token: format!("{agent_id}.{secret}"),
        org,
        organisation,
    })
}

/// Why the token with this digest could not be spent at `now`.
async fn refusal(store: &Store, token_hash: &str, now: i64) -> Result<EnrolError, ServerError> {
    let Some(token) = store.enrolment_token_by_hash(token_hash).await? else {
        return Ok(EnrolError::UnknownToken);
    };
    Ok(if token.revoked_at.is_some() {
        EnrolError::Revoked
    } else if token.expires_at <= now {
        EnrolError::Expired
    } else {
        // Usable a moment ago, so others spent the last use meanwhile.
        EnrolError::UsedUp
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usability_of_a_summary() {
        let t = EnrolmentTokenSummary {
            id: EnrolmentTokenId::new_random(),
            created_by: "admin".into(),
            created_at: 0,
            expires_at: 100,
            uses_left: Some(1),
            revoked_at: None,
        };
        assert!(t.is_usable(99));
        assert!(!t.is_usable(100));
        assert!(!EnrolmentTokenSummary {
            uses_left: Some(0),
            ..t.clone()
        }
        .is_usable(0));
        assert!(!EnrolmentTokenSummary {
            revoked_at: Some(5),
            ..t.clone()
        }
        .is_usable(0));
        assert!(EnrolmentTokenSummary {
            uses_left: None,
            ..t
        }
        .is_usable(0));
    }
}
