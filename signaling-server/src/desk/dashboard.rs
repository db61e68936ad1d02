//! The dashboard page, and the snapshot of the organisation that its script shows: enrolled
//! machines with their presence, open invitations, live sessions with their quality, and the
//! direct invitations waiting for the signed-in person's answer.

use super::audit::{recent, AuditView, DeskAuditFilter};
use super::auth::SignedIn;
use super::PageError;
use crate::audit::AuditKind;
use crate::error::ServerError;
use crate::locale::{PageLanguage, Words};
use crate::state::AppState;
use askama::Template;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use protocol::api::InvitationStatus;
use protocol::ids::{AgentId, InvitationId, SessionId};
use serde::Serialize;

#[derive(Template)]
#[template(path = "desk.html")]
struct DashboardPage<'a> {
    words: Words,
    display_name: &'a str,
    org_name: &'a str,
    csrf: &'a str,
    is_admin: bool,
    /// Each kind of audit event, with its name in the page's language, for the log's filter
    /// (the script names the log's rows by it too).
    kinds: Vec<(&'static str, String)>,
}

/// The message naming an audit event of `kind`: `desk-kind-` and its code, in words.
pub fn kind_message(kind: AuditKind) -> String {
    format!("desk-kind-{}", kind.as_str().replace('_', "-"))
}

/// `GET /desk`.
pub async fn page(signed_in: SignedIn, language: PageLanguage) -> Result<Response, PageError> {
    let words = Words::new(language.0, "/desk");
    let kinds = AuditKind::ALL
        .iter()
        .map(|kind| (kind.as_str(), words.t(&kind_message(*kind))))
        .collect();
    let html = DashboardPage {
        words,
        kinds,
        display_name: &signed_in.user.display_name,
        org_name: &signed_in.user.org_name,
        csrf: &signed_in.csrf,
        is_admin: signed_in.user.is_admin(),
    }
    .render()
    .map_err(ServerError::from)?;
    let mut res = Html(html).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Everything the dashboard shows, as its script receives it (times in Unix seconds).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    pub machines: Vec<MachineView>,
    pub invitations: Vec<InvitationView>,
    pub sessions: Vec<SessionView>,
    /// Invitations novices sent to the signed-in person, waiting for Accept or Decline.
    pub direct: Vec<DirectView>,
    /// The newest audit events matching the page's filters.
    pub audit: Vec<AuditView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MachineView {
    pub id: AgentId,
    pub name: String,
    /// Connected since; `None` when offline.
    pub online_since: Option<i64>,
    /// When it was last connected, if it ever was and is not now.
    pub last_seen: Option<i64>,
    /// In a session (or being asked), so an offer would be refused.
    pub busy: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvitationView {
    pub id: InvitationId,
    pub machine: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// `open` or `in_use`.
    pub state: &'static str,
    pub offered_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DirectView {
    pub id: InvitationId,
    /// The novice's machine, as it named itself.
    pub machine: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionView {
    pub id: SessionId,
    pub machine: String,
    pub novice: String,
    pub expert: String,
    /// When the novice accepted; `None` while they are being asked.
    pub since: Option<i64>,
    /// `asking`, `view` or `control`.
    pub mode: &'static str,
    pub fps: Option<f32>,
    pub kbps: Option<u32>,
    pub rtt_ms: Option<u32>,
}

/// What `org`'s desk sees right now.
pub async fn snapshot(
    state: &AppState,
    user: &crate::accounts::User,
    audit_filter: &DeskAuditFilter,
) -> Result<Snapshot, ServerError> {
    let now = state.clock.now();
    let machines = state.store.machines_in_org(user.org).await?;
    let ids: Vec<AgentId> = machines.iter().map(|m| m.id).collect();
    let live = state.signal.live_view(&ids);
    let mut sessions = Vec::new();
    let machine_views = machines
        .into_iter()
        .zip(live)
        .map(|(m, (online_since, live))| {
            let busy = !live.is_empty();
            sessions.extend(live.into_iter().map(|s| SessionView {
                id: s.id,
                machine: m.name.clone(),
                novice: s.novice_name,
                expert: s.expert_name,
                since: s.since,
                mode: match (s.since, s.control) {
                    (None, _) => "asking",
                    (Some(_), false) => "view",
                    (Some(_), true) => "control",
                },
                fps: s.stats.map(|st| st.fps),
                kbps: s.stats.map(|st| st.kbps),
                rtt_ms: s.stats.and_then(|st| st.rtt_ms),
            }));
            MachineView {
                id: m.id,
                last_seen: if online_since.is_some() {
                    None
                } else {
                    m.last_seen_at
                },
                name: m.name,
                online_since,
                busy,
            }
        })
        .collect();
    sessions.sort_by_key(|s| (s.since.unwrap_or(i64::MAX), s.id.to_string()));
    let invitations = state
        .store
        .open_invitations_in_org(user.org, now)
        .await?
        .into_iter()
        .filter_map(|found| {
            let state_name = match found.invitation.status(now) {
                InvitationStatus::Open => "open",
                InvitationStatus::InUse => "in_use",
                _ => return None,
            };
            Some(InvitationView {
                id: found.invitation.id,
                machine: found.machine,
                created_at: found.invitation.created_at,
                expires_at: found.invitation.expires_at,
                state: state_name,
                offered_by: found.offered_by,
            })
        })
        .collect();
    let direct = state
        .store
        .direct_invitations_for(user.id, now)
        .await?
        .into_iter()
        .map(|found| DirectView {
            id: found.invitation.id,
            machine: found.machine,
            created_at: found.invitation.created_at,
            expires_at: found.invitation.expires_at,
        })
        .collect();
    Ok(Snapshot {
        machines: machine_views,
        invitations,
        sessions,
        direct,
        audit: recent(state, user, audit_filter).await?,
    })
}
