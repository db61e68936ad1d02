//! The audit log on the dashboard: the organisation's recent events, filtered by machine,
//! person, kind and time, shown live and downloadable as CSV or JSON
//! (`GET /desk/audit.csv`, `GET /desk/audit.json` with the same filters as query parameters).

use super::auth::SignedIn;
use super::PageError;
use crate::accounts::User;
use crate::audit::export::ExportFormat;
use crate::error::ServerError;
use crate::state::AppState;
use crate::store::AuditFilter;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::ids::AgentId;
use serde::{Deserialize, Serialize};

/// Events the dashboard shows at most.
pub const SHOWN: u32 = 50;
/// Events one download holds at most.
const EXPORTED: u32 = 100_000;

/// The filters as the page sends them; empty fields filter nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct DeskAuditFilter {
    /// A machine's id.
    #[serde(default)]
    pub machine: Option<String>,
    /// Part of the name or login of whoever acted.
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// Unix seconds, inclusive.
    #[serde(default)]
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    #[serde(default)]
    pub until: Option<i64>,
}

fn non_empty(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(128).collect())
}

impl DeskAuditFilter {
    /// The store's filter, always confined to `user`'s organisation. A machine id that does
    /// not parse matches nothing.
    fn for_user(&self, user: &User, limit: u32) -> Option<AuditFilter> {
        let agent = match non_empty(&self.machine) {
            Some(id) => Some(id.parse::<AgentId>().ok()?),
            None => None,
        };
        Some(AuditFilter {
            org: Some(user.org),
            agent,
            actor: non_empty(&self.person),
            kind: non_empty(&self.kind),
            since: self.since,
            until: self.until,
            before_seq: None,
            limit,
        })
    }
}

/// One event as the dashboard lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditView {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub actor: String,
    pub machine: Option<String>,
    pub detail: String,
}

/// The newest events of `user`'s organisation matching `filter`.
pub async fn recent(
    state: &AppState,
    user: &User,
    filter: &DeskAuditFilter,
) -> Result<Vec<AuditView>, ServerError> {
    let Some(query) = filter.for_user(user, SHOWN) else {
        return Ok(Vec::new());
    };
    Ok(state
        .store
        .audit(&query)
        .await?
        .into_iter()
        .map(|r| AuditView {
            seq: r.seq,
            at: r.at,
            kind: r.kind,
            actor: r.actor,
            machine: r.agent,
            detail: r.detail,
        })
        .collect())
}

async fn export(
    state: AppState,
    signed_in: SignedIn,
    filter: DeskAuditFilter,
    format: ExportFormat,
) -> Result<Response, PageError> {
    let mut records = match filter.for_user(&signed_in.user, EXPORTED) {
        Some(query) => state.store.audit(&query).await?,
        None => Vec::new(),
    };
    records.reverse(); // oldest first, as the command-line export writes them
    let (ext, body) = match format {
        ExportFormat::Csv => ("csv", crate::audit::export::to_csv(&records)),
        ExportFormat::Json => ("json", crate::audit::export::to_json(&records)),
    };
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"audit.{ext}\""))
            .map_err(|e| ServerError::Invariant(e.to_string()))?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `GET /desk/audit.csv`.
pub async fn export_csv(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(filter): Query<DeskAuditFilter>,
) -> Result<Response, PageError> {
    export(state, signed_in, filter, ExportFormat::Csv).await
}

/// `GET /desk/audit.json`.
pub async fn export_json(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(filter): Query<DeskAuditFilter>,
) -> Result<Response, PageError> {
    export(state, signed_in, filter, ExportFormat::Json).await
}
