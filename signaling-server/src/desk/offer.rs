//! `POST /desk/machines/{id}/offer`: an operator offers help to one of the organisation's
//! enrolled machines ([`crate::admission::offer`]).
//!
//! Here the checks the operator gets a page for (the machine is the organisation's, online and
//! not in a session already) and the answer: the expert console, already holding the
//! session's ticket, so the operator's browser waits there for the novice's yes.

use super::auth::{CsrfForm, SignedIn};
use super::PageError;
use crate::admission;
use crate::error::ServerError;
use crate::locale::{PageLanguage, Text};
use crate::pages::ConsolePage;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use protocol::api::RedeemResponse;
use protocol::ids::AgentId;
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
        "desk-no-machine-title",
        Text::id("desk-no-machine"),
    )
}

pub async fn offer_help(
    State(state): State<AppState>,
    signed_in: SignedIn,
    language: PageLanguage,
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
                "desk-busy-title",
                Text::with("desk-busy", "machine", machine.name),
            ))
        }
        _ => {
            return Err(PageError::new(
                StatusCode::CONFLICT,
                "desk-offline-title",
                Text::with("desk-offline", "machine", machine.name),
            ))
        }
    }

    let redeemed = admission::offer::offer(&state, user, agent, &machine.name).await?;
    let headline = Text::with("console-offering-headline", "machine", machine.name.clone());
    console_page(
        language,
        &machine.name,
        headline,
        &redeemed,
        &user.display_name,
    )
}

/// The expert console for a session the signed-in person was just admitted to: it holds the
/// session's ticket and waits there for the novice's answer.
pub(super) fn console_page(
    language: PageLanguage,
    machine: &str,
    headline: Text,
    session: &RedeemResponse,
    expert_name: &str,
) -> Result<Response, PageError> {
    let offer = serde_json::to_string(&Offered {
        session,
        expert_name,
    })
    .map_err(|e| ServerError::Invariant(e.to_string()))?;
    let html = ConsolePage::offered(language, machine, headline, offer)
        .render()
        .map_err(ServerError::from)?;
    let mut res = Html(html).into_response();
    // The page holds a session ticket: never keep it.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
