//! Applies what happens to live sessions to the database, in order, off the signaling path:
//! consent answers are recorded, ended sessions free their invitation, and both are audited.
//! It also records when an enrolled machine's connection ended, for the dashboard.
//!
//! What the peers are told waits for this: once a batch is committed, every acceptance and
//! change of control in it is reported back ([`Recorded`]), and only then does the hub tell
//! the expert `accepted` or acknowledge the agent's report. The queue holds at most
//! [`EFFECT_QUEUE_LIMIT`] changes not yet stored; while it is full, the signaling connections
//! stop reading their peers' frames, so a peer that sends faster than the database writes is
//! slowed down, and nothing it sent is dropped.

use crate::audit::{Actor, AuditKind};
use crate::clock::Clock;
use crate::error::ServerError;
use crate::invitation::Invitation;
use crate::signal::hub::Recorded;
use crate::store::{AuditEvent, Store, Writes};
use protocol::ids::{AgentId, InvitationId, SessionId};
use protocol::signal::{ControlEvent, EndReason};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// A change to persist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    ConsentAnswered {
        session: SessionId,
        invitation: InvitationId,
        agent: AgentId,
        accepted: bool,
    },
    ControlChanged {
        session: SessionId,
        invitation: InvitationId,
        agent: AgentId,
        event: ControlEvent,
    },
    SessionEnded {
        session: SessionId,
        invitation: InvitationId,
        agent: AgentId,
        reason: EndReason,
    },
    /// An enrolled machine's connection ended now.
    AgentLastSeen { agent: AgentId },
}

/// Changes queued and not yet stored above which the signaling connections stop reading.
pub const EFFECT_QUEUE_LIMIT: u64 = 4096;

/// The queue of changes to store, in order, and the task that stores them.
#[derive(Debug)]
pub struct EffectQueue {
    tx: mpsc::UnboundedSender<Effect>,
    sent: AtomicU64,
    progress: Arc<Progress>,
    limit: u64,
}

#[derive(Debug, Default)]
struct Progress {
    done: AtomicU64,
    changed: Notify,
}

impl EffectQueue {
    /// Starts the storing task, which reports what it stored on the returned receiver.
    /// Needs a Tokio runtime.
    pub fn start(store: Store, clock: Clock) -> (Self, mpsc::UnboundedReceiver<Recorded>) {
        Self::start_with_limit(store, clock, EFFECT_QUEUE_LIMIT)
    }

    /// [`EffectQueue::start`] with another limit of changes waiting.
    pub fn start_with_limit(
        store: Store,
        clock: Clock,
        limit: u64,
    ) -> (Self, mpsc::UnboundedReceiver<Recorded>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (recorded_tx, recorded_rx) = mpsc::unbounded_channel();
        let progress = Arc::new(Progress::default());
        tokio::spawn(run(store, clock, rx, recorded_tx, Arc::clone(&progress)));
        let queue = Self {
            tx,
            sent: AtomicU64::new(0),
            progress,
            limit,
        };
        (queue, recorded_rx)
    }

    /// Queues one change; never blocks the signaling path. The changes that come from the
    /// peers' frames are held back by [`EffectQueue::room`] before they get here.
    pub fn push(&self, effect: Effect) {
        self.sent.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(effect).is_err() {
            tracing::warn!("session effects task is gone; a session change was not stored");
            self.progress.done.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Changes queued and not yet stored.
    pub fn waiting(&self) -> u64 {
        self.sent
            .load(Ordering::SeqCst)
            .saturating_sub(self.progress.done.load(Ordering::SeqCst))
    }

    /// Whether fewer than the limit of changes are waiting.
    pub fn has_room(&self) -> bool {
        self.waiting() < self.limit
    }

    /// Waits until fewer than the limit of changes are waiting.
    pub async fn room(&self) {
        loop {
            let changed = self.progress.changed.notified();
            if self.has_room() {
                return;
            }
            changed.await;
        }
    }

    /// Waits until every change queued so far is stored (or failed), at most `limit`.
    /// Returns whether it got there: a shutdown calls this before closing the database.
    pub async fn flush(&self, limit: Duration) -> bool {
        let target = self.sent.load(Ordering::SeqCst);
        let wait = async {
            loop {
                let changed = self.progress.changed.notified();
                if self.progress.done.load(Ordering::SeqCst) >= target {
                    return;
                }
                changed.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

/// Most changes stored in one transaction.
const BATCH: usize = 256;

/// Runs until every sender is gone. Whatever has queued up meanwhile is stored in one
/// transaction, so that a burst of session changes (a mass disconnect, a shutdown) costs one
/// sync of the database per batch instead of several per change.
async fn run(
    store: Store,
    clock: Clock,
    mut effects: mpsc::UnboundedReceiver<Effect>,
    recorded: mpsc::UnboundedSender<Recorded>,
    progress: Arc<Progress>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let report = |effect: &Effect, ok: bool| {
        if let Some(r) = report_of(effect, ok) {
            // Nobody listening: the server is going down, and nobody is waiting for it.
            let _ = recorded.send(r);
        }
    };
    while effects.recv_many(&mut batch, BATCH).await > 0 {
        let now = clock.now();
        match apply_all(&store, now, &batch).await {
            Ok(()) => batch.iter().for_each(|e| report(e, true)),
            Err(err) => match &batch[..] {
                [effect] => {
                    tracing::error!(error = %err, ?effect, "cannot store a session change");
                    report(effect, false);
                }
                _ => {
                    // One change that cannot be stored must not take the others with it.
                    tracing::warn!(error = %err, changes = batch.len(), "storing session changes together failed; storing them one by one");
                    for effect in &batch {
                        let stored = apply_all(&store, now, std::slice::from_ref(effect)).await;
                        if let Err(err) = &stored {
                            tracing::error!(error = %err, ?effect, "cannot store a session change");
                        }
                        report(effect, stored.is_ok());
                    }
                }
            },
        }
        progress
            .done
            .fetch_add(batch.len() as u64, Ordering::SeqCst);
        progress.changed.notify_waiters();
        batch.clear();
    }
}

/// What the hub is told once `effect` is stored (`ok`) or failed, if it waits for that.
fn report_of(effect: &Effect, ok: bool) -> Option<Recorded> {
    match *effect {
        Effect::ConsentAnswered {
            session,
            accepted: true,
            ..
        } => Some(Recorded::Consent { session, ok }),
        Effect::ControlChanged { session, event, .. } => {
            Some(Recorded::Control { session, event, ok })
        }
        _ => None,
    }
}

/// Stores `effects` in order, in one transaction.
async fn apply_all(store: &Store, now: i64, effects: &[Effect]) -> Result<(), ServerError> {
    let mut writes = store.begin().await?;
    for effect in effects {
        apply(&mut writes, now, effect).await?;
    }
    writes.commit().await
}

/// Stores one change; every change writes before it reads (see [`Writes`]).
async fn apply(writes: &mut Writes, now: i64, effect: &Effect) -> Result<(), ServerError> {
    match *effect {
        Effect::AgentLastSeen { agent } => writes.set_agent_last_seen(agent, now).await,
        Effect::ConsentAnswered {
            session,
            invitation,
            agent,
            accepted,
        } => {
            if accepted {
                writes.mark_session_accepted(session, now).await?;
            }
            let kind = if accepted {
                AuditKind::SessionAccepted
            } else {
                AuditKind::SessionDeclined
            };
            writes
                .append_audit(
                    AuditEvent {
                        agent: Some(agent),
                        invitation: Some(invitation),
                        session: Some(session),
                        ..AuditEvent::new(kind, Actor::Novice)
                    },
                    now,
                )
                .await
        }
        Effect::ControlChanged {
            session,
            invitation,
            agent,
            event,
        } => {
            // The expert asks; everything else is the novice's decision, enforced by the agent.
            let actor = match event {
                ControlEvent::Requested => Actor::Expert,
                _ => Actor::Novice,
            };
            writes
                .append_audit(
                    AuditEvent {
                        agent: Some(agent),
                        invitation: Some(invitation),
                        session: Some(session),
                        ..AuditEvent::new(AuditKind::from(event), actor)
                    },
                    now,
                )
                .await
        }
        Effect::SessionEnded {
            session,
            invitation,
            agent,
            reason,
        } => {
            let reason = reason_code(reason);
            writes.end_session(session, &reason, now).await?;
            release_invitation(writes, invitation, session).await?;
            writes
                .append_audit(
                    AuditEvent {
                        agent: Some(agent),
                        invitation: Some(invitation),
                        session: Some(session),
                        detail: &reason,
                        ..AuditEvent::new(AuditKind::SessionEnded, Actor::Server)
                    },
                    now,
                )
                .await
        }
    }
}

/// Frees the invitation the ended session was using. The row is locked before it is read, as
/// redeeming does: this transaction writes anyway, and nothing can change the row under it.
async fn release_invitation(
    writes: &mut Writes,
    invitation: InvitationId,
    session: SessionId,
) -> Result<(), ServerError> {
    let Some(mut inv): Option<Invitation> = writes.lock_invitation(invitation).await? else {
        return Ok(());
    };
    if inv.active_session != Some(session) {
        return Ok(());
    }
    inv.handle_session_ended(session);
    if writes.save_invitation(&mut inv).await? {
        Ok(())
    } else {
        Err(ServerError::Invariant(format!(
            "locked invitation {invitation} changed while session {session} released it"
        )))
    }
}

/// The snake_case name of an end reason, as stored and shown.
pub fn reason_code(reason: EndReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{reason:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invitation::codes;
    use crate::store::AgentRecord;
    use rand::rngs::OsRng;

    /// Sessions opened straight in the database: invitation in use, session not yet ended.
    async fn open_sessions(
        store: &Store,
        agent: AgentId,
        count: usize,
        now: i64,
    ) -> Vec<(SessionId, InvitationId)> {
        let mut writes = store.begin().await.expect("begin");
        let record = AgentRecord {
            id: agent,
            name: "Alice".into(),
            token_hash: "-".into(),
            org: None,
        };
        writes.insert_agent(&record, now).await.expect("agent");
        let mut opened = Vec::new();
        for _ in 0..count {
            let mut inv = Invitation::create(InvitationId::new_random(), agent, false, None, now)
                .expect("invitation");
            writes
                .insert_invitation(&inv, &codes::generate(&mut OsRng).digests())
                .await
                .expect("insert invitation");
            let session = SessionId::new_random();
            inv.handle_redeem(session, now).expect("redeem");
            assert!(writes.save_invitation(&mut inv).await.expect("save"));
            writes
                .insert_session(session, inv.id, agent, "Bob", now)
                .await
                .expect("session");
            opened.push((session, inv.id));
        }
        writes.commit().await.expect("commit");
        opened
    }

    /// A burst larger than one batch, as when every peer disconnects at once: every change is
    /// stored, and every invitation is free again.
    #[tokio::test]
    async fn a_burst_of_session_changes_is_stored_completely() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open_sqlite_dir(dir.path()).await.expect("open");
        let clock = Clock::default();
        let agent = AgentId::new_random();
        let sessions = open_sessions(&store, agent, 2 * BATCH + 10, clock.now()).await;

        let (queue, _recorded) = EffectQueue::start(store.clone(), clock);
        for &(session, invitation) in &sessions {
            queue.push(Effect::ConsentAnswered {
                session,
                invitation,
                agent,
                accepted: true,
            });
            queue.push(Effect::SessionEnded {
                session,
                invitation,
                agent,
                reason: EndReason::PeerGone,
            });
        }
        assert!(queue.flush(Duration::from_secs(60)).await);

        let audit = store.audit_for_agent(agent).await.expect("audit");
        let count = |kind: &str| audit.iter().filter(|e| e.kind == kind).count();
        assert_eq!(count("session_accepted"), sessions.len());
        assert_eq!(count("session_ended"), sessions.len());
        assert!(audit
            .iter()
            .filter(|e| e.kind == "session_ended")
            .all(|e| e.detail == "peer_gone"));
        for &(_, invitation) in &sessions {
            let inv = store
                .invitation(agent, invitation)
                .await
                .expect("read")
                .expect("invitation");
            assert_eq!(inv.active_session, None);
        }
        store.close().await;
    }

    /// The queue counts what is not yet stored: once the limit is reached it has no room (the
    /// connections stop reading their peers), and it has room again once the changes are
    /// stored, none of them dropped.
    #[tokio::test]
    async fn a_full_queue_has_room_again_once_its_changes_are_stored() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open_sqlite_dir(dir.path()).await.expect("open");
        let clock = Clock::default();
        let agent = AgentId::new_random();
        let sessions = open_sessions(&store, agent, 3, clock.now()).await;
        let (queue, mut recorded) = EffectQueue::start_with_limit(store.clone(), clock, 3);
        for &(session, invitation) in &sessions {
            assert!(queue.has_room());
            queue.push(Effect::ControlChanged {
                session,
                invitation,
                agent,
                event: ControlEvent::Granted,
            });
        }
        assert!(!queue.has_room(), "three waiting fill a queue of three");
        tokio::time::timeout(Duration::from_secs(30), queue.room())
            .await
            .expect("room once stored");
        assert_eq!(queue.waiting(), 0);
        for &(session, _) in &sessions {
            assert_eq!(
                recorded.recv().await,
                Some(Recorded::Control {
                    session,
                    event: ControlEvent::Granted,
                    ok: true
                })
            );
        }
        let audit = store.audit_for_agent(agent).await.expect("audit");
        assert_eq!(
            audit.iter().filter(|e| e.kind == "control_granted").count(),
            3
        );
        store.close().await;
    }
}
