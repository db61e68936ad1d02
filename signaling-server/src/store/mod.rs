//! Persistence through sqlx's `Any` driver: SQLite by default, PostgreSQL when the URL says so.
//!
//! The schema in `migrations/` is written once in SQL both databases accept; only what has no
//! common syntax (triggers) lives in `migrations/sqlite/` and `migrations/postgres/`, numbered
//! among the shared files. Every query uses `$n` placeholders, which both drivers bind by
//! position. Ids are UUID text, times are BIGINT Unix seconds. Invitations are written back with
//! an optimistic `version` guard so that two concurrent redemptions of one invitation cannot
//! both succeed. The audit log is an append-only hash chain: see [`AuditRecord`] and
//! [`Store::verify_audit`].

use crate::error::ServerError;
use crate::invitation::codes::CodeDigests;
use crate::invitation::Invitation;
use futures_util::future::BoxFuture;
use protocol::ids::{AgentId, InvitationId, OrgId, SessionId};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, Migrator};
use sqlx::{AnyPool, Row};
use std::path::Path;
use std::str::FromStr;

mod accounts;
mod audit;
mod desk;
mod enrolment;
mod private;

pub use accounts::UserRecord;
pub use audit::{
    chain_input, AuditBreach, AuditEvent, AuditFilter, AuditRecord, AuditVerdict, GENESIS_HASH,
};
pub use desk::{Machine, OrgInvitation};
pub use enrolment::{EnrolmentTokenRecord, StoredEnrolmentToken};

/// Migrations both databases run.
static SHARED_MIGRATIONS: Migrator = sqlx::migrate!("../migrations");
/// Migrations in SQLite's own dialect (triggers), numbered among the shared ones.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
/// Migrations in PostgreSQL's own dialect (triggers), numbered among the shared ones.
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// The shared migrations and one backend's own, in version order.
#[derive(Debug)]
struct BackendMigrations(Vec<Migration>);

impl<'s> MigrationSource<'s> for BackendMigrations {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { Ok(self.0) })
    }
}

async fn migrate(pool: &AnyPool, sqlite: bool) -> Result<(), ServerError> {
    let own = if sqlite {
        &SQLITE_MIGRATIONS
    } else {
        &POSTGRES_MIGRATIONS
    };
    let mut all: Vec<Migration> = SHARED_MIGRATIONS
        .iter()
        .chain(own.iter())
        .cloned()
        .collect();
    all.sort_by_key(|m| m.version);
    Migrator::new(BackendMigrations(all))
        .await?
        .run(pool)
        .await?;
    Ok(())
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
}

/// A registered agent as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRecord {
    pub id: AgentId,
    pub name: String,
    pub token_hash: String,
    /// The organisation the machine is enrolled into; `None` for a machine that registered on
    /// its own.
    pub org: Option<OrgId>,
}

/// An invitation found by its code, with what redemption needs beside the lifecycle state.
#[derive(Clone, Debug)]
pub struct FoundInvitation {
    pub invitation: Invitation,
    pub novice_name: String,
}

pub(crate) const INVITATION_COLUMNS: &str =
    "i.id, i.agent_id, i.created_at, i.expires_at, i.revoked_at, \
     i.has_password, i.failed_attempts, i.locked_at, i.active_session, i.direct_to, i.accepted_at, \
     i.declined_at, i.version";

impl Store {
    /// Connects to `url` and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, ServerError> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let max = if sqlite { 4 } else { 16 };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // Write-ahead logging: readers never wait for a writer, and a commit
                        // costs one sync instead of several. Still synchronous=FULL: a
                        // committed change survives a power cut.
                        sqlx::query("PRAGMA journal_mode=WAL").execute(conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        migrate(&pool, sqlite).await?;
        let store = Self { pool };
        let sealed = store.seal_unchained_events().await?;
        if sealed > 0 {
            tracing::info!(
                sealed,
                "chained audit events stored before the chain existed"
            );
        }
        Ok(store)
    }

    /// The embedded default: SQLite in `dir/assist.db`, created on first start.
    ///
    /// The database holds the ticket-signing key and the TURN secret, so the directory is
    /// made 0700 and the database 0600, for its owner alone; existing ones open to others are
    /// tightened at start-up, with a warning. SQLite gives its journal files the database's
    /// own mode.
    pub async fn open_sqlite_dir(dir: &Path) -> Result<Self, ServerError> {
        private::ensure_dir(dir).map_err(|source| ServerError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
        let file = dir.join("assist.db");
        private::ensure_file(&file).map_err(|source| ServerError::DataDir {
            path: file.display().to_string(),
            source,
        })?;
        Self::connect(&format!("sqlite://{}?mode=rwc", file.display())).await
    }

    /// Starts writes that are stored together or not at all: one transaction, and one sync
    /// of the database at [`Writes::commit`]. Dropping them uncommitted undoes them.
    pub async fn begin(&self) -> Result<Writes, ServerError> {
        Ok(Writes {
            tx: self.pool.begin().await?,
            audit: Vec::new(),
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Cheap liveness check for `/health`.
    pub async fn ping(&self) -> Result<(), ServerError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Returns the named key, creating it with `make` the first time (shared by every node).
    pub async fn key(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, ServerError> {
        if let Some(row) = sqlx::query("SELECT value FROM server_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
        {
            return Ok(row.try_get("value")?);
        }
        // Another node may insert first; the conflict is harmless and we read the winner.
        let _ = sqlx::query("INSERT INTO server_keys (name, value) VALUES ($1, $2)")
            .bind(name)
            .bind(make())
            .execute(&self.pool)
            .await;
        let row = sqlx::query("SELECT value FROM server_keys WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }

    pub async fn agent(&self, id: AgentId) -> Result<Option<AgentRecord>, ServerError> {
        let row = sqlx::query("SELECT id, name, token_hash, org_id FROM agents WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(AgentRecord {
                id: parse_id(&r, "id")?,
                name: r.try_get("name")?,
                token_hash: r.try_get("token_hash")?,
                org: r
                    .try_get::<Option<String>, _>("org_id")?
                    .map(|org| {
                        org.parse()
                            .map_err(|_| ServerError::Corrupt(format!("org_id {org:?}")))
                    })
                    .transpose()?,
            })
        })
        .transpose()
    }

    /// Finds an invitation by the digest of its link code or of its short code.
    pub async fn find_invitation_by_code(
        &self,
        code_hash: &str,
        short_code_hash: Option<&str>,
    ) -> Result<Option<FoundInvitation>, ServerError> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS}, a.name AS novice_name FROM invitations i \
             JOIN agents a ON a.id = i.agent_id \
             WHERE i.code_hash = $1 OR i.short_code_hash = $2"
        );
        let row = sqlx::query(&sql)
            .bind(code_hash)
            .bind(short_code_hash.unwrap_or("-").to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(FoundInvitation {
                invitation: invitation_from_row(&r)?,
                novice_name: r.try_get("novice_name")?,
            })
        })
        .transpose()
    }

    /// One invitation of `agent` (none if it belongs to somebody else).
    pub async fn invitation(
        &self,
        agent: AgentId,
        id: InvitationId,
    ) -> Result<Option<Invitation>, ServerError> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.id = $1 AND i.agent_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .bind(agent.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| invitation_from_row(&r)).transpose()
    }

    /// At most `limit` invitations of `agent`, newest first (ties by id, descending), starting
    /// after `after` when given: keyset pagination, stable while invitations are added.
    pub async fn invitations(
        &self,
        agent: AgentId,
        after: Option<&Invitation>,
        limit: u32,
    ) -> Result<Vec<Invitation>, ServerError> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.agent_id = $1 \
             AND ($2 = 0 OR i.created_at < $3 OR (i.created_at = $3 AND i.id < $4)) \
             ORDER BY i.created_at DESC, i.id DESC LIMIT $5"
        );
        let rows = sqlx::query(&sql)
            .bind(agent.to_string())
            .bind(i64::from(after.is_some()))
            .bind(after.map_or(0, |a| a.created_at))
            .bind(after.map_or_else(String::new, |a| a.id.to_string()))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(invitation_from_row).collect()
    }

    /// At start-up of a single node, no WebSocket survives: sessions left open by the previous
    /// run are over, and their invitations are free again.
    pub async fn release_stale_sessions(&self, now: i64) -> Result<u64, ServerError> {
        sqlx::query("UPDATE sessions SET ended_at = $1, end_reason = 'server_restart' WHERE ended_at IS NULL")
            .bind(now)
            .execute(&self.pool)
            .await?;
        let freed = sqlx::query(
            "UPDATE invitations SET active_session = NULL, version = version + 1 \
             WHERE active_session IS NOT NULL",
        )
        .execute(&self.pool)
        .await?;
        Ok(freed.rows_affected())
    }
}

/// Changes made in one transaction; see [`Store::begin`].
///
/// On SQLite a transaction that reads before it writes may find, when it comes to write, that
/// another connection wrote meanwhile, and fail at once. Callers therefore write first and read
/// afterwards: the first write takes the database's write lock (waiting for it if need be), so
/// the reads after it see the latest state. Audit events added with [`Writes::append_audit`] are
/// written at [`Writes::commit`], so they do not count as that first write.
#[derive(Debug)]
pub struct Writes {
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Any>,
    /// Audit events to chain at commit.
    audit: Vec<AuditRecord>,
}

impl Writes {
    /// Appends the audit events added meanwhile to the chain, then commits everything.
    pub async fn commit(mut self) -> Result<(), ServerError> {
        self.chain_pending_audit().await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Invitation by id regardless of owner, as this transaction sees it.
    pub async fn invitation_by_id(
        &mut self,
        id: InvitationId,
    ) -> Result<Option<Invitation>, ServerError> {
        let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| invitation_from_row(&r)).transpose()
    }

    /// The name of agent `id`, as this transaction sees it.
    pub async fn agent_name(&mut self, id: AgentId) -> Result<Option<String>, ServerError> {
        let row = sqlx::query("SELECT name FROM agents WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.map(|r| r.try_get("name")).transpose()?)
    }

    /// Takes invitation `id` for the rest of this transaction, then reads it: concurrent
    /// writers of the row wait until commit, so [`Writes::save_invitation`] of what was read
    /// cannot meet a conflict.
    pub async fn lock_invitation(
        &mut self,
        id: InvitationId,
    ) -> Result<Option<Invitation>, ServerError> {
        // A write first: PostgreSQL locks the row, SQLite takes the database's write lock.
        sqlx::query("UPDATE invitations SET version = version WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await?;
        self.invitation_by_id(id).await
    }

    /// Invitations of `agent` that can still be opened or are in use at `now` (locked ones
    /// excluded), counted after taking the agent's row so that concurrent creations for one
    /// agent are counted one after the other.
    pub async fn open_invitations(&mut self, agent: AgentId, now: i64) -> Result<u64, ServerError> {
        // A write first: PostgreSQL locks the agent's row, SQLite takes the write lock.
        sqlx::query("UPDATE agents SET name = name WHERE id = $1")
            .bind(agent.to_string())
            .execute(&mut *self.tx)
            .await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS open FROM invitations WHERE agent_id = $1 \
             AND revoked_at IS NULL AND declined_at IS NULL \
             AND locked_at IS NULL \
             AND (active_session IS NOT NULL OR (expires_at > $2 AND accepted_at IS NULL))",
        )
        .bind(agent.to_string())
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await?;
        let open: i64 = row.try_get("open")?;
        Ok(u64::try_from(open).unwrap_or(0))
    }

    pub async fn insert_agent(&mut self, agent: &AgentRecord, now: i64) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO agents (id, name, token_hash, created_at, org_id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(agent.id.to_string())
        .bind(&agent.name)
        .bind(&agent.token_hash)
        .bind(now)
        .bind(agent.org.map(|org| org.to_string()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn insert_invitation(
        &mut self,
        inv: &Invitation,
        codes: &CodeDigests,
    ) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO invitations (id, agent_id, code_hash, short_code_hash, has_password, \
             created_at, expires_at, direct_to, failed_attempts, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0)",
        )
        .bind(inv.id.to_string())
        .bind(inv.agent_id.to_string())
        .bind(codes.code.as_str())
        .bind(codes.short_code.as_str())
        .bind(i64::from(inv.has_password))
        .bind(inv.created_at)
        .bind(inv.expires_at)
        .bind(inv.direct_to.map(|u| u.to_string()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Writes the lifecycle fields back if nobody changed the row since it was read.
    /// Returns false on a conflict (the caller reloads and tries again).
    pub async fn save_invitation(&mut self, inv: &mut Invitation) -> Result<bool, ServerError> {
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = $1, failed_attempts = $2, active_session = $3, \
             accepted_at = $4, declined_at = $5, locked_at = $8, version = version + 1 \
             WHERE id = $6 AND version = $7",
        )
        .bind(inv.revoked_at)
        .bind(i64::from(inv.failed_attempts))
        .bind(inv.active_session.map(|s| s.to_string()))
        .bind(inv.accepted_at)
        .bind(inv.declined_at)
        .bind(inv.id.to_string())
        .bind(inv.version)
        .bind(inv.locked_at)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 1 {
            inv.version += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    pub async fn insert_session(
        &mut self,
        id: SessionId,
        invitation: InvitationId,
        agent: AgentId,
        expert_name: &str,
        now: i64,
    ) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO sessions (id, invitation_id, agent_id, expert_name, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(invitation.to_string())
        .bind(agent.to_string())
        .bind(expert_name)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn mark_session_accepted(
        &mut self,
        id: SessionId,
        now: i64,
    ) -> Result<(), ServerError> {
        sqlx::query("UPDATE sessions SET accepted_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn end_session(
        &mut self,
        id: SessionId,
        reason: &str,
        now: i64,
    ) -> Result<(), ServerError> {
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(id.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

pub(crate) fn parse_id<T: FromStr>(row: &AnyRow, column: &str) -> Result<T, ServerError> {
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|_| ServerError::Corrupt(format!("{column} is not a UUID: {text:?}")))
}

pub(crate) fn invitation_from_row(r: &AnyRow) -> Result<Invitation, ServerError> {
    let has_password: i64 = r.try_get("has_password")?;
    let active: Option<String> = r.try_get("active_session")?;
    let direct_to: Option<String> = r.try_get("direct_to")?;
    let failed: i64 = r.try_get("failed_attempts")?;
    Ok(Invitation {
        id: parse_id(r, "id")?,
        agent_id: parse_id(r, "agent_id")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        has_password: has_password != 0,
        failed_attempts: u32::try_from(failed).unwrap_or(u32::MAX),
        locked_at: r.try_get("locked_at")?,
        active_session: active
            .map(|s| {
                s.parse()
                    .map_err(|_| ServerError::Corrupt(format!("active_session {s:?}")))
            })
            .transpose()?,
        direct_to: direct_to
            .map(|u| {
                u.parse()
                    .map_err(|_| ServerError::Corrupt(format!("direct_to {u:?}")))
            })
            .transpose()?,
        accepted_at: r.try_get("accepted_at")?,
        declined_at: r.try_get("declined_at")?,
        version: r.try_get("version")?,
    })
}
