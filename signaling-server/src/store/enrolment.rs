//! Enrolment tokens and the machines enrolled with them.
//!
//! A token's uses are spent with one conditional `UPDATE` whose affected-row count says whether
//! a use was left: on PostgreSQL a second writer waits for the first and re-checks the
//! condition against the committed row, and on SQLite the write lock serialises them, so a
//! token with `n` uses enrols at most `n` machines however many try at once.

use super::{parse_id, Store, Writes};
use crate::error::ServerError;
use protocol::ids::{AgentId, EnrolmentTokenId, OrgId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

/// An enrolment token to insert; only the SHA-256 of its secret is kept.
#[derive(Clone, Debug)]
pub struct EnrolmentTokenRecord {
    pub id: EnrolmentTokenId,
    pub org: OrgId,
    pub token_hash: String,
    pub created_by: UserId,
    pub expires_at: i64,
    /// `None`: any number of machines until it expires.
    pub uses_left: Option<u32>,
}

/// An enrolment token as stored, with the login of the administrator who made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEnrolmentToken {
    pub id: EnrolmentTokenId,
    pub org: OrgId,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub uses_left: Option<u32>,
    pub revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "t.id, t.org_id, u.login AS created_by, t.created_at, t.expires_at, \
     t.uses_left, t.revoked_at FROM enrolment_tokens t JOIN users u ON u.id = t.created_by";

fn token_from_row(r: &AnyRow) -> Result<StoredEnrolmentToken, ServerError> {
    let uses_left: Option<i64> = r.try_get("uses_left")?;
    Ok(StoredEnrolmentToken {
        id: parse_id(r, "id")?,
        org: parse_id(r, "org_id")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        // A negative count cannot be written by this code; read it as used up.
        uses_left: uses_left.map(|n| u32::try_from(n).unwrap_or(0)),
        revoked_at: r.try_get("revoked_at")?,
    })
}

impl Store {
    /// The enrolment tokens of `org`, newest first.
    pub async fn enrolment_tokens(
        &self,
        org: OrgId,
    ) -> Result<Vec<StoredEnrolmentToken>, ServerError> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} WHERE t.org_id = $1 ORDER BY t.created_at DESC, t.id"
        ))
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    /// The enrolment token whose secret has this digest.
    pub async fn enrolment_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<StoredEnrolmentToken>, ServerError> {
        sqlx::query(&format!("SELECT {TOKEN_COLUMNS} WHERE t.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| token_from_row(&r))
            .transpose()
    }

    /// One enrolment token of `org` (none if it belongs to another organisation).
    pub async fn enrolment_token(
        &self,
        org: OrgId,
        id: EnrolmentTokenId,
    ) -> Result<Option<StoredEnrolmentToken>, ServerError> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} WHERE t.id = $1 AND t.org_id = $2"
        ))
        .bind(id.to_string())
        .bind(org.to_string())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| token_from_row(&r))
        .transpose()
    }
}

impl Writes {
    pub async fn insert_enrolment_token(
        &mut self,
        token: &EnrolmentTokenRecord,
        now: i64,
    ) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO enrolment_tokens (id, org_id, token_hash, created_by, created_at, \
             expires_at, uses_left) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.id.to_string())
        .bind(token.org.to_string())
        .bind(&token.token_hash)
        .bind(token.created_by.to_string())
        .bind(now)
        .bind(token.expires_at)
        .bind(token.uses_left.map(i64::from))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Revokes a token of `org` that is not revoked yet; false when there is none such.
    pub async fn revoke_enrolment_token(
        &mut self,
        org: OrgId,
        id: EnrolmentTokenId,
        now: i64,
    ) -> Result<bool, ServerError> {
        let done = sqlx::query(
            "UPDATE enrolment_tokens SET revoked_at = $1 \
             WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(org.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Spends one use of the token with this digest if it is usable at `now` (not revoked,
    /// not expired, a use left or unlimited). Returns the token's id and organisation with the
    /// organisation's name, or `None` when nothing was spent.
    pub async fn spend_enrolment_token(
        &mut self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(EnrolmentTokenId, OrgId, String)>, ServerError> {
        // Written before anything is read: see `Writes`. NULL - 1 stays NULL (unlimited).
        let spent = sqlx::query(
            "UPDATE enrolment_tokens SET uses_left = uses_left - 1 \
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 \
             AND (uses_left IS NULL OR uses_left > 0)",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        if spent.rows_affected() != 1 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT t.id, t.org_id, o.name AS org_name FROM enrolment_tokens t \
             JOIN organisations o ON o.id = t.org_id WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(Some((
            parse_id(&row, "id")?,
            parse_id(&row, "org_id")?,
            row.try_get("org_name")?,
        )))
    }

    /// Records when an enrolled machine's connection ended.
    pub async fn set_agent_last_seen(
        &mut self,
        agent: AgentId,
        now: i64,
    ) -> Result<(), ServerError> {
        sqlx::query("UPDATE agents SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(agent.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
