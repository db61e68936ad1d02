//! Direct invitations on the dashboard: a novice's agent sent one to the signed-in person
//! ([`crate::api::direct`]); the dashboard shows it as a notification with Accept and Decline,
//! answered by [`crate::admission::answer`].
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
use crate::admission::answer::{self, AnswerError};
use crate::invitation::AnswerRefusal;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use protocol::ids::InvitationId;

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

impl From<AnswerError> for PageError {
    fn from(err: AnswerError) -> Self {
        match err {
            AnswerError::Refused(refusal) => refused(refusal),
            AnswerError::Failed(err) => err.into(),
        }
    }
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
    let accepted = answer::accept(&state, id, user).await?;
    let machine = accepted.machine;
    let headline = format!("Helping {machine}");
    console_page(&machine, headline, &accepted.session, &user.display_name)
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
    answer::decline(&state, id, user).await?;
    Ok(Redirect::to("/desk").into_response())
}
