//! Organisations, accounts and signed-in browsers.

use super::{parse_id, Store, Writes};
use crate::accounts::{Role, User};
use crate::error::ServerError;
use protocol::ids::{OrgId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

/// An account to insert.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: UserId,
    pub org: OrgId,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
}

const USER_COLUMNS: &str =
    "u.id, u.org_id, o.name AS org_name, u.login, u.display_name, u.role, u.password_hash \
     FROM users u JOIN organisations o ON o.id = u.org_id";

fn user_from_row(r: &AnyRow) -> Result<User, ServerError> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: parse_id(r, "id")?,
        org: parse_id(r, "org_id")?,
        org_name: r.try_get("org_name")?,
        login: r.try_get("login")?,
        display_name: r.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| ServerError::Corrupt(format!("role {role:?}")))?,
    })
}

impl Store {
    pub async fn org_by_name(&self, name: &str) -> Result<Option<OrgId>, ServerError> {
        sqlx::query("SELECT id FROM organisations WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| parse_id(&r, "id"))
            .transpose()
    }

    /// The account with this login and its password hash.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<(User, String)>, ServerError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} WHERE u.login = $1"))
            .bind(login)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?)))
            .transpose()
    }

    pub async fn user(&self, id: UserId) -> Result<Option<User>, ServerError> {
        sqlx::query(&format!("SELECT {USER_COLUMNS} WHERE u.id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| user_from_row(&r))
            .transpose()
    }

    /// Everyone in an organisation, by name.
    pub async fn users_in_org(&self, org: OrgId) -> Result<Vec<User>, ServerError> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} WHERE u.org_id = $1 ORDER BY u.display_name"
        ))
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    /// The account signed in with this cookie digest and its CSRF token, unless expired.
    pub async fn web_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(User, String)>, ServerError> {
        let row = sqlx::query(&format!(
            "SELECT s.csrf_token, {USER_COLUMNS} JOIN web_sessions s ON s.user_id = u.id \
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("csrf_token")?)))
            .transpose()
    }
}

impl Writes {
    pub async fn insert_org(&mut self, id: OrgId, name: &str, now: i64) -> Result<(), ServerError> {
        sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(name)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn insert_user(&mut self, user: &UserRecord, now: i64) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO users (id, org_id, login, display_name, role, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id.to_string())
        .bind(user.org.to_string())
        .bind(&user.login)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn insert_web_session(
        &mut self,
        token_hash: &str,
        user: UserId,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user.to_string())
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *self.tx)
        .await?;
        // Sign-ins that ran out are of no further use.
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn delete_web_session(&mut self, token_hash: &str) -> Result<(), ServerError> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
