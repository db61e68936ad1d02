//! What administrators do on the dashboard: create operator accounts and enrolment tokens.

use super::auth::SignedIn;
use super::PageError;
use crate::accounts::{self, Role};
use crate::enrolment;
use crate::error::ServerError;
use crate::locale::{self, PageLanguage, Text, Words};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use std::time::Duration;

/// Refuses people who are not administrators.
pub fn require_admin(signed_in: &SignedIn) -> Result<(), PageError> {
    if signed_in.user.is_admin() {
        Ok(())
    } else {
        Err(PageError::new(
            StatusCode::FORBIDDEN,
            "desk-admins-only-title",
            Text::id("desk-admins-only"),
        ))
    }
}

#[derive(Debug, Deserialize)]
pub struct NewOperatorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// `POST /desk/operators`: an administrator creates an operator of their organisation.
pub async fn create_operator(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Form(form): Form<NewOperatorForm>,
) -> Result<Response, PageError> {
    signed_in.check_form(&headers, &form.csrf)?;
    require_admin(&signed_in)?;
    let name = if form.name.trim().is_empty() {
        &form.login
    } else {
        &form.name
    };
    let created = accounts::create_user(
        &state.store,
        signed_in.user.org,
        Role::Operator,
        &form.login,
        name,
        &form.password,
        Some(&signed_in.user),
        state.clock.now(),
    )
    .await?;
    Ok(PageError::new(
        StatusCode::CREATED,
        "desk-operator-created-title",
        Text::with("desk-operator-created", "name", created.display_name)
            .and("login", created.login),
    )
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    csrf: String,
    /// How long the token stays valid, in hours.
    #[serde(default)]
    valid_hours: String,
    /// How many machines may enrol with it; empty for any number.
    #[serde(default)]
    uses: String,
}

#[derive(Template)]
#[template(path = "desk_token.html")]
struct TokenPage<'a> {
    words: Words,
    token: &'a str,
    server: &'a str,
    validity: String,
}

fn bad_number(what: &'static str) -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        "desk-refused-title",
        Text::id(what),
    )
}

/// `POST /desk/enrolment-tokens`: an administrator creates a token machines enrol with; the
/// answer shows it once, with the command to run on each machine.
pub async fn create_enrolment_token(
    State(state): State<AppState>,
    signed_in: SignedIn,
    language: PageLanguage,
    headers: HeaderMap,
    Form(form): Form<NewTokenForm>,
) -> Result<Response, PageError> {
    signed_in.check_form(&headers, &form.csrf)?;
    require_admin(&signed_in)?;
    let hours: i64 = form
        .valid_hours
        .trim()
        .parse()
        .map_err(|_| bad_number("desk-bad-hours"))?;
    let uses: Option<u32> = match form.uses.trim() {
        "" => None,
        n => Some(n.parse().map_err(|_| bad_number("desk-bad-uses"))?),
    };
    let now = state.clock.now();
    let created = enrolment::create_token(
        &state.store,
        &signed_in.user,
        now.saturating_add(hours.saturating_mul(3600)),
        uses,
        now,
    )
    .await?;
    let translator = locale::translator(language.0);
    let hours = u64::try_from(hours).unwrap_or_default();
    let duration = translator.duration(Duration::from_secs(hours.saturating_mul(3600)));
    let validity = match created.uses_left {
        Some(1) => translator.text_with("desk-token-enrols-one", &[("duration", duration.into())]),
        Some(n) => translator.text_with(
            "desk-token-enrols-some",
            &[("machines", n.into()), ("duration", duration.into())],
        ),
        None => translator.text_with("desk-token-enrols-any", &[("duration", duration.into())]),
    };
    let html = TokenPage {
        // The token is shown once: no language menu to load the page again.
        words: Words::new(language.0, ""),
        token: &created.token,
        server: &state.public_url,
        validity,
    }
    .render()
    .map_err(ServerError::from)?;
    let mut res = (StatusCode::CREATED, Html(html)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
