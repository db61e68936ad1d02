//! The audit log: append-only, hash-chained, searchable and verifiable.
//!
//! Every event takes the next position `seq` (1, 2, 3, …) of a single chain and stores
//! `prev_hash`, the hash of the event before it (64 zeros for the first), and `hash`, the
//! SHA-256 (lower-case hex) of [`chain_input`]: the JSON array
//! `[seq, prev_hash, id, at, kind, actor, agent_id, invitation_id, session_id, org_id, user_id,
//! detail]`, absent values as `null`. JSON gives every field an unambiguous boundary, so no two
//! different events share an input. The one-row table `audit_head` holds the last position and
//! its hash, so that removing events from the end is noticed too.
//!
//! Appending: [`Writes::append_audit`] keeps the events of a transaction aside, and
//! [`Writes::commit`] chains them just before committing. It first moves the head
//! (`UPDATE audit_head SET seq = seq + n … RETURNING seq, hash`); on PostgreSQL that row lock
//! makes a second appender wait until the first commits, after which its UPDATE re-reads the
//! committed row (READ COMMITTED re-evaluates an updated row), and on SQLite the write lock does
//! the same. Taking the head last keeps the lock short and means a transaction holding it never
//! waits for another row, so it cannot take part in a deadlock. A unique index on `seq` backs
//! this up: two events can never share a position.
//!
//! The database refuses updates and deletes of chained events with triggers
//! (`migrations/sqlite`, `migrations/postgres`); [`Store::verify_audit`] recomputes the whole
//! chain, so changes made by someone who drops those triggers are still found. The chain has no
//! secret key: it shows that the log was changed behind the server's back, unless whoever
//! changed it also recomputed every later hash and the head.
//!
//! Events stored before the chain existed are chained once, in `(at, id)` order, when the server
//! opens the database ([`Store::connect`] calls `seal_unchained_events`); the triggers allow
//! exactly that update of events that have no position yet.

use super::{Store, Writes};
use crate::audit::{Actor, AuditKind};
use crate::error::ServerError;
use protocol::ids::{AgentId, InvitationId, OrgId, SessionId, UserId};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

/// `prev_hash` of the first event of the chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Rows read at a time while verifying.
const VERIFY_PAGE: i64 = 1000;

/// One audit event to append, as the row stores it. The server makes them with
/// [`AuditEvent::new`] from an [`AuditKind`] and an [`Actor`]; the fields hold their stored
/// text, so that a test of the chain can append rows of any kind.
#[derive(Clone, Debug, Default)]
pub struct AuditEvent<'a> {
    /// What happened: [`AuditKind::as_str`].
    pub kind: &'a str,
    /// Who did it: [`Actor::as_str`].
    pub actor: &'a str,
    pub agent: Option<AgentId>,
    pub invitation: Option<InvitationId>,
    pub session: Option<SessionId>,
    /// The organisation it concerns, for events without a machine (sign-in).
    pub org: Option<OrgId>,
    /// The account that acted, when a signed-in person did.
    pub user: Option<UserId>,
    /// Free text: a reason, a name.
    pub detail: &'a str,
}

/// An audit event as stored. Ids are kept as the stored text so that a damaged row can still
/// be read, shown and verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The event's own id (a UUID).
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    pub kind: String,
    pub actor: String,
    pub agent: Option<String>,
    pub invitation: Option<String>,
    pub session: Option<String>,
    pub org: Option<String>,
    pub user: Option<String>,
    pub detail: String,
    /// Hash of the event at `seq - 1`, or [`GENESIS_HASH`].
    pub prev_hash: String,
    /// SHA-256 hex of [`chain_input`] of this event.
    pub hash: String,
}

impl AuditRecord {
    /// The hash this event should have, computed from its content.
    pub fn computed_hash(&self) -> String {
        hex::encode(Sha256::digest(chain_input(self)))
    }
}

/// The bytes hashed for an event: a JSON array of its position, its predecessor's hash and its
/// content. Its `hash` field is not part of it.
pub fn chain_input(record: &AuditRecord) -> Vec<u8> {
    let fields = (
        record.seq,
        &record.prev_hash,
        &record.id,
        record.at,
        &record.kind,
        &record.actor,
        &record.agent,
        &record.invitation,
        &record.session,
        &record.org,
        &record.user,
        &record.detail,
    );
    // Serialising integers, strings and nulls into a Vec cannot fail.
    serde_json::to_vec(&fields).unwrap_or_default()
}

/// Which events [`Store::audit`] returns. Every condition given must hold.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Events of this organisation: those recorded for it (sign-in, accounts) and those about
    /// its enrolled machines.
    pub org: Option<OrgId>,
    /// Events about this machine.
    pub agent: Option<AgentId>,
    /// Case-insensitive substring of the actor's name or of the login of the account that
    /// acted. `%` and `_` match themselves.
    pub actor: Option<String>,
    /// Exactly this kind, e.g. `session_ended`.
    pub kind: Option<String>,
    /// Events at or after these Unix seconds.
    pub since: Option<i64>,
    /// Events before these Unix seconds.
    pub until: Option<i64>,
    /// Events before this position, to page backwards from the last one seen.
    pub before_seq: Option<i64>,
    /// At most this many events; 0 means all.
    pub limit: u32,
}

/// The outcome of [`Store::verify_audit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every event is where it was appended, unchanged, and the chain ends at the head.
    Intact {
        /// Events checked.
        events: u64,
        /// Hash of the last event ([`GENESIS_HASH`] when there are none).
        head_hash: String,
    },
    /// The first place where the log differs from what was appended.
    Broken {
        /// Events found in order before the breach.
        checked: u64,
        breach: AuditBreach,
    },
}

/// How the stored chain differs from the appended one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuditBreach {
    /// The event's content no longer matches its hash: it was changed after it was written.
    #[error("event {seq} was altered: its content no longer matches its hash")]
    Altered { seq: i64 },
    /// The chain skips positions: events were deleted.
    #[error("event {seq} is missing (the chain jumps to event {found}): events were deleted")]
    Missing { seq: i64, found: i64 },
    /// An event repeats a position already taken, or has none a chain can give: it was
    /// inserted.
    #[error("event {seq} appears twice or out of order (row {id}): an event was inserted")]
    Duplicate { seq: i64, id: String },
    /// The event does not name its predecessor's hash: the predecessor was replaced, or this
    /// event was put in.
    #[error(
        "event {seq} does not follow event {}: one of them was replaced or inserted",
        seq - 1
    )]
    Unlinked { seq: i64 },
    /// The chain ends before the head: the last events were deleted.
    #[error("event {seq} is missing: the chain ends at {} but its head is at {head}; the last events were deleted", seq - 1)]
    Truncated { seq: i64, head: i64 },
    /// Events beyond the head, which appending never leaves: they were inserted.
    #[error("event {seq} lies beyond the chain head at {head}: events were inserted")]
    BeyondHead { seq: i64, head: i64 },
    /// The head names a different last hash than the last event has.
    #[error("event {seq} is not the event the chain head records: the last event was replaced")]
    HeadMismatch { seq: i64 },
    /// The head row is gone.
    #[error("the audit chain head is missing")]
    HeadMissing,
    /// Events without a position: they were inserted past the triggers.
    #[error("{count} event(s) are outside the chain, e.g. row {id}: they were inserted")]
    Unchained { count: i64, id: String },
}

impl AuditBreach {
    /// Position of the first broken event, when there is one.
    pub fn seq(&self) -> Option<i64> {
        match self {
            Self::Altered { seq }
            | Self::Missing { seq, .. }
            | Self::Duplicate { seq, .. }
            | Self::Unlinked { seq }
            | Self::Truncated { seq, .. }
            | Self::BeyondHead { seq, .. }
            | Self::HeadMismatch { seq } => Some(*seq),
            Self::HeadMissing | Self::Unchained { .. } => None,
        }
    }
}

const RECORD_COLUMNS: &str = "e.seq, e.id, e.at, e.kind, e.actor, e.agent_id, e.invitation_id, \
     e.session_id, e.org_id, e.user_id, e.detail, e.prev_hash, e.hash";

fn record_from_row(r: &AnyRow) -> Result<AuditRecord, ServerError> {
    let seq: Option<i64> = r.try_get("seq")?;
    let prev_hash: Option<String> = r.try_get("prev_hash")?;
    let hash: Option<String> = r.try_get("hash")?;
    Ok(AuditRecord {
        seq: seq.unwrap_or_default(),
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        kind: r.try_get("kind")?,
        actor: r.try_get("actor")?,
        agent: r.try_get("agent_id")?,
        invitation: r.try_get("invitation_id")?,
        session: r.try_get("session_id")?,
        org: r.try_get("org_id")?,
        user: r.try_get("user_id")?,
        detail: r.try_get("detail")?,
        prev_hash: prev_hash.unwrap_or_default(),
        hash: hash.unwrap_or_default(),
    })
}

/// `text` as a LIKE pattern matching it anywhere, with `\` escaping.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A value bound to a filter's placeholder.
enum Bound {
    Text(String),
    Int(i64),
}

impl Store {
    /// Audit events concerning `agent`, oldest first.
    pub async fn audit_for_agent(&self, agent: AgentId) -> Result<Vec<AuditRecord>, ServerError> {
        let mut events = self
            .audit(&AuditFilter {
                agent: Some(agent),
                ..AuditFilter::default()
            })
            .await?;
        events.reverse();
        Ok(events)
    }

    /// Events matching `filter`, newest (highest position) first.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, ServerError> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        let mut bind = |value: Bound| {
            binds.push(value);
            format!("${}", binds.len())
        };
        if let Some(org) = filter.org {
            let p = bind(Bound::Text(org.to_string()));
            conditions.push(format!(
                "(e.org_id = {p} OR e.agent_id IN (SELECT a.id FROM agents a WHERE a.org_id = {p}))"
            ));
        }
        if let Some(agent) = filter.agent {
            conditions.push(format!(
                "e.agent_id = {}",
                bind(Bound::Text(agent.to_string()))
            ));
        }
        if let Some(actor) = &filter.actor {
            let p = bind(Bound::Text(contains_pattern(actor)));
            conditions.push(format!(
                "(LOWER(e.actor) LIKE LOWER({p}) ESCAPE '\\' OR e.user_id IN \
                 (SELECT u.id FROM users u WHERE LOWER(u.login) LIKE LOWER({p}) ESCAPE '\\'))"
            ));
        }
        if let Some(kind) = &filter.kind {
            conditions.push(format!("e.kind = {}", bind(Bound::Text(kind.clone()))));
        }
        if let Some(since) = filter.since {
            conditions.push(format!("e.at >= {}", bind(Bound::Int(since))));
        }
        if let Some(until) = filter.until {
            conditions.push(format!("e.at < {}", bind(Bound::Int(until))));
        }
        if let Some(before) = filter.before_seq {
            conditions.push(format!("e.seq < {}", bind(Bound::Int(before))));
        }
        let mut sql = format!("SELECT {RECORD_COLUMNS} FROM audit_events e");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY e.seq DESC");
        if filter.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", filter.limit));
        }
        let mut query = sqlx::query(&sql);
        for value in binds {
            query = match value {
                Bound::Text(text) => query.bind(text),
                Bound::Int(n) => query.bind(n),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Walks the whole chain in order, recomputing every hash, and reports the first place
    /// where it differs from what was appended. Reads one consistent snapshot, a page at a
    /// time, so it may run while the server appends.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, ServerError> {
        let mut tx = self.pool.begin().await?;
        if tx.backend_name() == "PostgreSQL" {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?;
        let Some(head) = head else {
            return Ok(AuditVerdict::Broken {
                checked: 0,
                breach: AuditBreach::HeadMissing,
            });
        };
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;

        let broken = |checked, breach| Ok(AuditVerdict::Broken { checked, breach });
        let mut checked: u64 = 0;
        let mut prev_hash = GENESIS_HASH.to_owned();
        let mut last = (0_i64, String::new()); // position and id of the last row read
        loop {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM audit_events e \
                 WHERE e.seq > $1 OR (e.seq = $1 AND e.id > $2) \
                 ORDER BY e.seq, e.id LIMIT {VERIFY_PAGE}"
            );
            let rows = sqlx::query(&sql)
                .bind(last.0)
                .bind(&last.1)
                .fetch_all(&mut *tx)
                .await?;
            let page_len = rows.len();
            for row in &rows {
                let record = record_from_row(row)?;
                let expected = last.0 + 1;
                if record.seq < expected {
                    return broken(
                        checked,
                        AuditBreach::Duplicate {
                            seq: record.seq,
                            id: record.id,
                        },
                    );
                }
                if record.seq > expected {
                    return broken(
                        checked,
                        AuditBreach::Missing {
                            seq: expected,
                            found: record.seq,
                        },
                    );
                }
                if record.seq > head_seq {
                    return broken(
                        checked,
                        AuditBreach::BeyondHead {
                            seq: record.seq,
                            head: head_seq,
                        },
                    );
                }
                if record.prev_hash != prev_hash {
                    return broken(checked, AuditBreach::Unlinked { seq: record.seq });
                }
                if record.computed_hash() != record.hash {
                    return broken(checked, AuditBreach::Altered { seq: record.seq });
                }
                checked += 1;
                prev_hash = record.hash;
                last = (record.seq, record.id);
            }
            if page_len < VERIFY_PAGE as usize {
                break;
            }
        }
        if last.0 < head_seq {
            return broken(
                checked,
                AuditBreach::Truncated {
                    seq: last.0 + 1,
                    head: head_seq,
                },
            );
        }
        if prev_hash != head_hash {
            return broken(checked, AuditBreach::HeadMismatch { seq: last.0 });
        }
        let unchained = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(id) AS first FROM audit_events WHERE seq IS NULL",
        )
        .fetch_one(&mut *tx)
        .await?;
        let count: i64 = unchained.try_get("n")?;
        if count > 0 {
            let id: Option<String> = unchained.try_get("first")?;
            return broken(
                checked,
                AuditBreach::Unchained {
                    count,
                    id: id.unwrap_or_default(),
                },
            );
        }
        tx.commit().await?;
        Ok(AuditVerdict::Intact {
            events: checked,
            head_hash,
        })
    }

    /// Gives events stored before the chain existed their positions, oldest first. Does
    /// nothing (one cheap read) once they have them.
    pub(super) async fn seal_unchained_events(&self) -> Result<u64, ServerError> {
        let waiting: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_events WHERE seq IS NULL")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        if waiting == 0 {
            return Ok(0);
        }
        let mut writes = self.begin().await?;
        // Write first: the head's lock keeps appenders and other nodes out meanwhile.
        let head = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            .fetch_optional(&mut *writes.tx)
            .await?
            .ok_or_else(|| ServerError::Corrupt("the audit chain has no head".into()))?;
        let mut seq: i64 = head.try_get("seq")?;
        let mut prev_hash: String = head.try_get("hash")?;
        let rows = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM audit_events e WHERE e.seq IS NULL ORDER BY e.at, e.id"
        ))
        .fetch_all(&mut *writes.tx)
        .await?;
        for row in &rows {
            let mut record = record_from_row(row)?;
            seq += 1;
            record.seq = seq;
            record.prev_hash = prev_hash;
            record.hash = record.computed_hash();
            sqlx::query(
                "UPDATE audit_events SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4",
            )
            .bind(record.seq)
            .bind(&record.prev_hash)
            .bind(&record.hash)
            .bind(&record.id)
            .execute(&mut *writes.tx)
            .await?;
            prev_hash = record.hash;
        }
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(&prev_hash)
            .execute(&mut *writes.tx)
            .await?;
        writes.commit().await?;
        Ok(rows.len() as u64)
    }
}

impl<'a> AuditEvent<'a> {
    /// `kind` done by `actor`; set what it concerns with struct update syntax,
    /// `AuditEvent { agent: Some(id), ..AuditEvent::new(kind, actor) }`.
    pub fn new(kind: AuditKind, actor: Actor<'a>) -> Self {
        Self {
            kind: kind.as_str(),
            actor: actor.as_str(),
            ..Self::default()
        }
    }
}

impl Writes {
    /// Adds an event to this transaction's writes. Events are chained and stored at
    /// [`Writes::commit`], in the order they were added, all with the same fate as the rest.
    pub async fn append_audit(
        &mut self,
        event: AuditEvent<'_>,
        now: i64,
    ) -> Result<(), ServerError> {
        self.audit.push(AuditRecord {
            seq: 0,
            id: uuid::Uuid::new_v4().to_string(),
            at: now,
            kind: event.kind.to_owned(),
            actor: event.actor.to_owned(),
            agent: event.agent.map(|a| a.to_string()),
            invitation: event.invitation.map(|i| i.to_string()),
            session: event.session.map(|s| s.to_string()),
            org: event.org.map(|o| o.to_string()),
            user: event.user.map(|u| u.to_string()),
            detail: event.detail.to_owned(),
            prev_hash: String::new(),
            hash: String::new(),
        });
        Ok(())
    }

    /// Chains and inserts the events added by [`Writes::append_audit`]; see the module's
    /// description for why this comes last.
    pub(super) async fn chain_pending_audit(&mut self) -> Result<(), ServerError> {
        if self.audit.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.audit);
        let count = i64::try_from(events.len()).map_err(|_| {
            ServerError::Invariant("too many audit events in one transaction".into())
        })?;
        let head =
            sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
                .bind(count)
                .fetch_optional(&mut *self.tx)
                .await?
                .ok_or_else(|| ServerError::Corrupt("the audit chain has no head".into()))?;
        let last: i64 = head.try_get("seq")?;
        let mut prev_hash: String = head.try_get("hash")?;
        for (seq, mut record) in (last - count + 1..).zip(events) {
            record.seq = seq;
            record.prev_hash = prev_hash;
            record.hash = record.computed_hash();
            sqlx::query(
                "INSERT INTO audit_events (seq, id, at, kind, actor, agent_id, invitation_id, \
                 session_id, org_id, user_id, detail, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(record.seq)
            .bind(&record.id)
            .bind(record.at)
            .bind(&record.kind)
            .bind(&record.actor)
            .bind(&record.agent)
            .bind(&record.invitation)
            .bind(&record.session)
            .bind(&record.org)
            .bind(&record.user)
            .bind(&record.detail)
            .bind(&record.prev_hash)
            .bind(&record.hash)
            .execute(&mut *self.tx)
            .await?;
            prev_hash = record.hash;
        }
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&prev_hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> AuditRecord {
        AuditRecord {
            seq: 1,
            id: "7d4f0c1e-0000-4000-8000-000000000001".into(),
            at: 1_764_072_000,
            kind: "signed_in".into(),
            actor: "alice".into(),
            agent: None,
            invitation: None,
            session: None,
            org: Some("7d4f0c1e-0000-4000-8000-0000000000aa".into()),
            user: None,
            detail: String::new(),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn the_hash_input_is_a_json_array_of_every_field() {
        let input = String::from_utf8(chain_input(&record())).expect("utf-8");
        assert_eq!(
            input,
            format!(
                "[1,\"{GENESIS_HASH}\",\"7d4f0c1e-0000-4000-8000-000000000001\",1764072000,\
                 \"signed_in\",\"alice\",null,null,null,\
                 \"7d4f0c1e-0000-4000-8000-0000000000aa\",null,\"\"]"
            )
        );
        assert_eq!(record().computed_hash().len(), 64);
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        let a = AuditRecord {
            actor: "al".into(),
            detail: "ice".into(),
            ..record()
        };
        let b = AuditRecord {
            actor: "alice".into(),
            detail: String::new(),
            ..record()
        };
        let c = AuditRecord {
            agent: Some(String::new()),
            ..record()
        };
        assert_ne!(a.computed_hash(), b.computed_hash());
        assert_ne!(record().computed_hash(), c.computed_hash());
    }

    #[test]
    fn actor_patterns_match_wildcards_literally() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn breaches_name_the_event() {
        let breach = AuditBreach::Altered { seq: 7 };
        assert_eq!(breach.seq(), Some(7));
        assert!(breach.to_string().contains("event 7"));
        assert_eq!(
            AuditBreach::Truncated { seq: 5, head: 6 }.to_string(),
            "event 5 is missing: the chain ends at 4 but its head is at 6; the last events were deleted"
        );
    }
}
