//! `POST /desk/machines/{id}/offer`: an operator offers help to one of the organisation's
//! enrolled machines.
//!
//! The server makes a one-off invitation on the desk's behalf (audited as `help_offered`),
//! redeems it at once for the operator, and asks the novice exactly as for an invitation, but
//! naming the operator and the desk. The answer to the form is the expert console, already
//! holding the session's ticket, so the operator's browser waits there for the novice's yes.

use super::auth::{CsrfForm, SignedIn};
use super::PageError;
use crate::error::ServerError;
use crate::invitation::{codes, Invitation, PasswordCheck, MIN_LIFETIME_SECS};
use crate::pages::ConsolePage;
use crate::state::AppState;
use crate::store::AuditEvent;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use protocol::api::RedeemResponse;
use protocol::ids::{AgentId, InvitationId, SessionId};
use serde::Serialize;

/// What the console's script needs to join the offered session, embedded in the page.
#[derive(Serialize)]
struct Offered<'a> {
    #[serde(flatten)]
    session: &'a RedeemResponse,
    expert_name: &'a str,
}

fn not_yours() -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        "No such machine",
        "Your organisation has no machine with this identity. It may have been removed.",
    )
}

pub async fn offer_help(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_form(&headers, &form.csrf)?;
    let user = &signed_in.user;
    let agent: AgentId = id.parse().map_err(|_| not_yours())?;
    if state.store.machine_org(agent).await? != Some(user.org) {
        return Err(not_yours());
    }
    let machine = state.store.agent(agent).await?.ok_or_else(not_yours)?;
    let online = state.signal.live_view(&[agent]);
    match online.first() {
        Some((Some(_), live)) if live.is_empty() => {}
        Some((Some(_), _)) => {
            return Err(PageError::new(
                StatusCode::CONFLICT,
                "Already in a session",
                format!(
                    "{} is already in a session or being asked. Try again when it has ended.",
                    machine.name
                ),
            ))
        }
        _ => {
            return Err(PageError::new(
                StatusCode::CONFLICT,
                "The machine is offline",
                format!(
                    "{} is not connected right now, so nobody there can be asked.",
                    machine.name
                ),
            ))
        }
    }

    let now = state.clock.now();
    let lifetime = MIN_LIFETIME_SECS.max(state.consent_timeout_secs.unsigned_abs() + 60);
    let mut inv = Invitation::create(
        InvitationId::new_random(),
        agent,
        false,
        Some(lifetime),
        now,
    )
    .map_err(|e| ServerError::Invariant(format!("the offer's invitation: {e}")))?;
    // The invitation's codes are never shown to anybody: the operator is admitted right here.
    let (code_hash, short_hash) = codes::generate(&mut rand::rngs::OsRng).digests();
    let session = SessionId::new_random();
    let expert_name = user.as_expert();
    let mut writes = state.store.begin().await?;
    writes
        .insert_invitation(&inv, &code_hash, &short_hash, None)
        .await?;
    inv.handle_redeem(PasswordCheck::NotSupplied, session, now, state.policy)
        .map_err(|refusal| {
            ServerError::Invariant(format!("new invitation refused: {refusal:?}"))
        })?;
    if !writes.save_invitation(&mut inv).await? {
        return Err(ServerError::Invariant("the new invitation changed meanwhile".into()).into());
    }
    writes
        .insert_session(session, inv.id, agent, &expert_name, now)
        .await?;
    writes.mark_offered(inv.id, session, user.id).await?;
    writes
        .append_audit(
            AuditEvent {
                kind: "help_offered",
                actor: &user.login,
                agent: Some(agent),
                invitation: Some(inv.id),
                session: Some(session),
                org: Some(user.org),
                user: Some(user.id),
                ..Default::default()
            },
            now,
        )
        .await?;
    writes.commit().await?;

    let redeemed = crate::api::redeem::admit(
        &state,
        session,
        &inv,
        expert_name,
        machine.name.clone(),
        Some(user.org_name.clone()),
        now,
    )?;
    tracing::info!(agent = %agent, session = %session, "help offered from the desk");

    let headline = format!("Offering help to {}", machine.name);
    console_page(&machine.name, headline, &redeemed, &user.display_name)
}

/// The expert console for a session the signed-in person was just admitted to: it holds the
/// session's ticket and waits there for the novice's answer.
pub(super) fn console_page(
    machine: &str,
    headline: String,
    session: &RedeemResponse,
    expert_name: &str,
) -> Result<Response, PageError> {
    let offer = serde_json::to_string(&Offered {
        session,
        expert_name,
    })
    .map_err(|e| ServerError::Invariant(e.to_string()))?;
    let html = ConsolePage::offered(machine, headline, offer)
        .render()
        .map_err(ServerError::from)?;
    let mut res = Html(html).into_response();
    // The page holds a session ticket: never keep it.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
