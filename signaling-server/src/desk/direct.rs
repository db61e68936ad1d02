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
use crate::locale::{PageLanguage, Text};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use protocol::ids::InvitationId;

fn unknown() -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        "desk-no-invitation-title",
        Text::id("desk-no-invitation"),
    )
}

fn refused(refusal: AnswerRefusal) -> PageError {
    match refusal {
        AnswerRefusal::NotYours => unknown(),
        AnswerRefusal::Expired => PageError::new(
            StatusCode::GONE,
            "desk-invitation-expired-title",
            Text::id("desk-invitation-expired"),
        ),
        AnswerRefusal::Revoked => PageError::new(
            StatusCode::GONE,
            "desk-invitation-withdrawn-title",
            Text::id("desk-invitation-withdrawn"),
        ),
        AnswerRefusal::AlreadyAccepted => PageError::new(
            StatusCode::CONFLICT,
            "desk-already-accepted-title",
            Text::id("desk-already-accepted"),
        ),
        AnswerRefusal::AlreadyDeclined => PageError::new(
            StatusCode::CONFLICT,
            "desk-already-declined-title",
            Text::id("desk-already-declined"),
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
    language: PageLanguage,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_form(&headers, &form.csrf)?;
    let user = &signed_in.user;
    let id = parse(&id)?;
    let accepted = answer::accept(&state, id, user).await?;
    let machine = accepted.machine;
    let headline = Text::with("console-helping-headline", "machine", machine.clone());
    console_page(
        language,
        &machine,
        headline,
        &accepted.session,
        &user.display_name,
    )
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
