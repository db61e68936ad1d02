//! What administrators do on the dashboard: create operator accounts.

use super::auth::SignedIn;
use super::PageError;
use crate::accounts::{self, Role};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

/// Refuses people who are not administrators.
pub fn require_admin(signed_in: &SignedIn) -> Result<(), PageError> {
    if signed_in.user.is_admin() {
        Ok(())
    } else {
        Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Administrators only",
            "Only an administrator of your organisation can do this.",
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
        "Operator created",
        format!(
            "{} can now sign in as {:?} with the password you chose.",
            created.display_name, created.login
        ),
    )
    .into_response())
}
