//! Direct invitations on the dashboard: a novice's agent sent one to the signed-in person
//! ([`crate::api::direct`]); the dashboard shows it as a notification with Accept and Decline.
//!
//! * `POST /desk/invitations/{id}/accept`: the invitation is used up, a session starts and the
//!   answer is the expert console holding its ticket; the novice is asked as for any session.
//! * `POST /desk/invitations/{id}/decline`: the novice's agent is told at once, the invitation
//!   shows as declined in the novice's list, and the browser returns to the dashboard.
//!
//! Each direct invitation is answered once; a second answer, another person's answer, an
//! expired or withdrawn invitation each get a page saying so.

use super::auth::{CsrfForm, SignedIn};
use super::offer::console_page;
use super::PageError;
use crate::accounts::User;
use crate::invitation::{AnswerRefusal, Invitation};
use crate::retry;
use crate::state::AppState;
use crate::store::AuditEvent;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use protocol::ids::{InvitationId, SessionId};

fn unknown() -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        "No such invitation",
        "No invitation to you has this identity. It may have been meant for someone else.",
    )
}

fn refused(refusal: AnswerRefusal) -> PageError {
    match refusal {
        AnswerRefusal::NotYours => unknown(),
        AnswerRefusal::Expired => PageError::new(
            StatusCode::GONE,
            "The invitation has expired",
            "This invitation is no longer valid. The person who sent it can send a new one.",
        ),
        AnswerRefusal::Revoked => PageError::new(
            StatusCode::GONE,
            "The invitation was withdrawn",
            "The person who sent this invitation has withdrawn it.",
        ),
        AnswerRefusal::AlreadyAccepted => PageError::new(
            StatusCode::CONFLICT,
            "Already accepted",
            "This invitation was accepted before; it opens one session only. \
             Ask for a new invitation to connect again.",
        ),
        AnswerRefusal::AlreadyDeclined => PageError::new(
            StatusCode::CONFLICT,
            "Already declined",
            "This invitation was declined before. Ask for a new one if you can help after all.",
        ),
    }
}

/// The expert's answer.
#[derive(Clone, Copy)]
enum Answer<'a> {
    Accept {
        session: SessionId,
        expert_name: &'a str,
    },
    Decline,
}

/// Applies `user`'s answer to the invitation and stores it with its session and audit event in
/// one transaction; retried when a concurrent answer changed the row meanwhile.
async fn answer(
    state: &AppState,
    id: InvitationId,
    user: &User,
    answer: Answer<'_>,
    now: i64,
) -> Result<Invitation, PageError> {
    retry::on_concurrent_change(
        || format!("invitation {id} being answered"),
        || async move {
            let mut writes = state.store.begin().await?;
            let mut inv = writes.invitation_by_id(id).await?.ok_or_else(unknown)?;
            let (kind, session) = match answer {
                Answer::Accept { session, .. } => {
                    inv.handle_accept(user.id, session, now).map_err(refused)?;
                    ("direct_invitation_accepted", Some(session))
                }
                Answer::Decline => {
                    inv.handle_decline(user.id, now).map_err(refused)?;
                    ("direct_invitation_declined", None)
                }
            };
            if !writes.save_invitation(&mut inv).await? {
                return Ok(None);
            }
            if let Answer::Accept {
                session,
                expert_name,
            } = answer
            {
                writes
                    .insert_session(session, inv.id, inv.agent_id, expert_name, now)
                    .await?;
                writes.set_session_expert(session, user.id).await?;
            }
            writes
                .append_audit(
                    AuditEvent {
                        kind,
                        actor: &user.login,
                        agent: Some(inv.agent_id),
                        invitation: Some(inv.id),
                        session,
                        org: Some(user.org),
                        user: Some(user.id),
                        ..Default::default()
                    },
                    now,
                )
                .await?;
            writes.commit().await?;
            Ok(Some(inv))
        },
    )
    .await
}

fn parse(id: &str) -> Result<InvitationId, PageError> {
    id.parse().map_err(|_| unknown())
}

pub async fn accept(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_form(&headers, &form.csrf)?;
    let user = &signed_in.user;
    let id = parse(&id)?;
    let now = state.clock.now();
    let session = SessionId::new_random();
    let expert_name = user.as_expert();
    let inv = answer(
        &state,
        id,
        user,
        Answer::Accept {
            session,
            expert_name: &expert_name,
        },
        now,
    )
    .await?;
    let machine = state
        .store
        .agent(inv.agent_id)
        .await?
        .map(|a| a.name)
        .unwrap_or_default();
    let redeemed = crate::api::redeem::admit(
        &state,
        session,
        &inv,
        expert_name,
        machine.clone(),
        None,
        now,
    )?;
    tracing::info!(invitation = %inv.id, session = %session, "direct invitation accepted");
    let headline = format!("Helping {machine}");
    console_page(&machine, headline, &redeemed, &user.display_name)
}

pub async fn decline(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_form(&headers, &form.csrf)?;
    let user = &signed_in.user;
    let id = parse(&id)?;
    let now = state.clock.now();
    let inv = answer(&state, id, user, Answer::Decline, now).await?;
    state
        .signal
        .invitation_declined(inv.agent_id, inv.id, user.as_expert());
    state.signal.nudge();
    tracing::info!(invitation = %inv.id, "direct invitation declined");
    Ok(Redirect::to("/desk").into_response())
}
