//! Signing in to the desk.
//!
//! A signed-in browser holds the cookie `desk_session` (HttpOnly, SameSite=Strict, Secure when
//! the server is reached over https); the server keeps only its SHA-256, with the CSRF token
//! that every form of that browser must carry. The sign-in form itself is protected by a
//! short-lived cookie holding the token its form carries (double submit). Forms and the
//! dashboard's WebSocket are also refused when the browser says they come from another origin.
//! Sign-in attempts are limited per client address; failures for one login make its next
//! attempt wait, longer with each failure (see [`crate::ratelimit::LoginBackoff`]), so that
//! a guesser elsewhere slows down the real person without locking them out.

use super::PageError;
use crate::accounts::{self, User};
use crate::audit::{Actor, AuditKind};
use crate::error::ServerError;
use crate::locale::{self, PageLanguage, Text, Words};
use crate::secrets::{digests_equal, random_token, sha256_hex};
use crate::state::AppState;
use crate::store::AuditEvent;
use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// The cookie of a signed-in browser.
pub const SESSION_COOKIE: &str = "desk_session";
/// The cookie guarding the sign-in form.
const SIGN_IN_COOKIE: &str = "desk_sign_in";
/// How long the sign-in form stays usable, in seconds.
const SIGN_IN_FORM_SECS: i64 = 3600;
/// Where people who are not signed in are sent.
pub const SIGN_IN_PATH: &str = "/desk/sign-in";

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether cookies must be marked Secure: the server is reached over TLS.
fn secure(state: &AppState) -> bool {
    state.public_url.starts_with("https:")
}

/// False when the browser says the request comes from a page of another origin.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let origin = match headers.get(header::ORIGIN) {
        // Browsers send Origin on every cross-site POST and WebSocket; its absence means a
        // non-browser client, which has no victim's cookie to abuse.
        None => return true,
        // Under `Referrer-Policy: no-referrer` (every page here) forms send `Origin: null`, so
        // it tells nothing either way; the form token decides.
        Some(origin) if origin.as_bytes() == b"null" => return true,
        Some(origin) => origin,
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .map(|u| match u.port() {
            Some(port) => format!("{}:{port}", u.host_str().unwrap_or_default()),
            None => u.host_str().unwrap_or_default().to_string(),
        });
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(&o))
}

/// Whether a WebSocket may be opened by the page asking: one of the server's own pages (its
/// `public_origin`, or the host the request was sent to), or no browser at all (no `Origin`,
/// as from a native client, which holds nobody else's cookie). A WebSocket carries no form
/// token, so `Origin: null` (a sandboxed frame, a local file) is refused like another site.
pub fn websocket_origin_allowed(headers: &HeaderMap, public_origin: &str) -> bool {
    match headers.get(header::ORIGIN) {
        None => true,
        Some(origin) if origin.as_bytes() == b"null" => false,
        Some(origin) => {
            origin
                .to_str()
                .is_ok_and(|o| o.eq_ignore_ascii_case(public_origin))
                || same_origin(headers)
        }
    }
}

/// A request from a signed-in browser: the person, and the CSRF token their forms carry.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user: User,
    pub csrf: String,
    token_hash: String,
}

impl SignedIn {
    /// Refuses a form without this browser's CSRF token or from another origin.
    pub fn check_form(&self, headers: &HeaderMap, token: &str) -> Result<(), PageError> {
        if same_origin(headers) && digests_equal(token, &self.csrf) {
            Ok(())
        } else {
            Err(PageError::forged())
        }
    }
}

/// Not signed in (or the sign-in ran out): off to the sign-in page.
#[derive(Debug)]
pub enum NotSignedIn {
    Redirect,
    Failed(PageError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            Self::Redirect => Redirect::to(SIGN_IN_PATH).into_response(),
            Self::Failed(err) => err.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match signed_in(state, &parts.headers).await {
            Ok(Some(signed_in)) => Ok(signed_in),
            Ok(None) => Err(NotSignedIn::Redirect),
            Err(err) => Err(NotSignedIn::Failed(err.into())),
        }
    }
}

/// The browser's sign-in, if its cookie names a current one.
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SignedIn>, ServerError> {
    let Some(secret) = cookie(headers, SESSION_COOKIE).filter(|s| s.len() <= 128) else {
        return Ok(None);
    };
    let token_hash = sha256_hex(secret);
    Ok(state
        .store
        .web_session(&token_hash, state.clock.now())
        .await?
        .map(|(user, csrf)| SignedIn {
            user,
            csrf,
            token_hash,
        }))
}

#[derive(Template)]
#[template(path = "desk_sign_in.html")]
struct SignInPage<'a> {
    words: Words,
    csrf: &'a str,
    login: &'a str,
    error: &'a str,
}

/// The sign-in form in `language`, with a fresh form token in a cookie and in the form, and
/// `error` above it when there is one.
fn sign_in_form(
    state: &AppState,
    language: PageLanguage,
    status: StatusCode,
    login: &str,
    error: Option<Text>,
) -> Result<Response, PageError> {
    let csrf = random_token();
    let error = error.map(|e| e.in_language(language.0)).unwrap_or_default();
    let html = SignInPage {
        words: Words::new(language.0, SIGN_IN_PATH),
        csrf: &csrf,
        login,
        error: &error,
    }
    .render()
    .map_err(ServerError::from)?;
    let mut res = (status, Html(html)).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SIGN_IN_COOKIE, &csrf, SIGN_IN_FORM_SECS, secure(state)),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `GET /desk/sign-in`.
pub async fn sign_in_page(
    State(state): State<AppState>,
    language: PageLanguage,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if signed_in(&state, &headers).await?.is_some() {
        return Ok(Redirect::to("/desk").into_response());
    }
    sign_in_form(&state, language, StatusCode::OK, "", None)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /desk/sign-in`.
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    language: PageLanguage,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !same_origin(&headers) || expected.is_empty() || !digests_equal(&form.csrf, expected) {
        return Err(PageError::forged());
    }
    let now = state.clock.now();
    let login = form.login.trim().to_lowercase();
    if login.len() > 256 || form.password.len() > 1024 {
        return sign_in_form(
            &state,
            language,
            StatusCode::BAD_REQUEST,
            "",
            Some(Text::id("desk-sign-in-wrong")),
        );
    }
    if !state.sign_in_limit.check_client(peer.ip(), now) {
        return sign_in_form(
            &state,
            language,
            StatusCode::TOO_MANY_REQUESTS,
            &login,
            Some(Text::id("desk-sign-in-too-many")),
        );
    }
    if let Err(wait) = state.sign_in_backoff.check(&login, now) {
        let wait = Duration::from_secs(u64::try_from(wait).unwrap_or_default());
        let wait = locale::translator(language.0).duration(wait);
        return sign_in_form(
            &state,
            language,
            StatusCode::TOO_MANY_REQUESTS,
            &login,
            Some(Text::with("desk-sign-in-wait", "wait", wait)),
        );
    }
    let Some(user) = accounts::check_password(&state.store, &login, &form.password).await? else {
        state.sign_in_backoff.failed(&login, now);
        let mut writes = state.store.begin().await?;
        writes
            .append_audit(
                AuditEvent {
                    detail: &peer.ip().to_string(),
                    ..AuditEvent::new(AuditKind::SignInFailed, Actor::Person(&login))
                },
                now,
            )
            .await?;
        writes.commit().await?;
        return sign_in_form(
            &state,
            language,
            StatusCode::UNAUTHORIZED,
            &login,
            Some(Text::id("desk-sign-in-wrong")),
        );
    };
    state.sign_in_backoff.succeeded(&login);
    let session = accounts::open_web_session(&state.store, &user, now).await?;
    tracing::info!(user = %user.id, "signed in to the desk");
    let mut res = Redirect::to("/desk").into_response();
    let secure = secure(&state);
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &session.cookie,
            accounts::SESSION_SECS,
            secure,
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(SIGN_IN_COOKIE, "", 0, secure),
    );
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /desk/sign-out`.
pub async fn sign_out(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_form(&headers, &form.csrf)?;
    let mut writes = state.store.begin().await?;
    writes.delete_web_session(&signed_in.token_hash).await?;
    writes
        .append_audit(
            AuditEvent {
                org: Some(signed_in.user.org),
                user: Some(signed_in.user.id),
                ..AuditEvent::new(AuditKind::SignedOut, Actor::Person(&signed_in.user.login))
            },
            state.clock.now(),
        )
        .await?;
    writes.commit().await?;
    let mut res = Redirect::to(SIGN_IN_PATH).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, secure(&state)),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn cookies_are_found_among_others() {
        let h = headers(&[
            (header::COOKIE, "a=1; desk_session=abc"),
            (header::COOKIE, "b=2"),
        ]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "desk"), None);
    }

    #[test]
    fn another_origin_is_refused() {
        let same = headers(&[
            (header::HOST, "desk.example:8080"),
            (header::ORIGIN, "http://desk.example:8080"),
        ]);
        assert!(same_origin(&same));
        let other = headers(&[
            (header::HOST, "desk.example:8080"),
            (header::ORIGIN, "http://evil.example"),
        ]);
        assert!(!same_origin(&other));
        let opaque = headers(&[(header::HOST, "desk.example"), (header::ORIGIN, "null")]);
        assert!(same_origin(&opaque), "the form token decides");
        assert!(same_origin(&headers(&[(header::HOST, "desk.example")])));
    }

    #[test]
    fn websockets_come_from_our_origin_or_from_no_browser() {
        let public = "https://desk.example";
        let ours = headers(&[
            (header::HOST, "internal:8080"),
            (header::ORIGIN, "https://desk.example"),
        ]);
        assert!(websocket_origin_allowed(&ours, public));
        let direct = headers(&[
            (header::HOST, "internal:8080"),
            (header::ORIGIN, "http://internal:8080"),
        ]);
        assert!(websocket_origin_allowed(&direct, public));
        let native = headers(&[(header::HOST, "desk.example")]);
        assert!(websocket_origin_allowed(&native, public));
        let opaque = headers(&[(header::HOST, "desk.example"), (header::ORIGIN, "null")]);
        assert!(!websocket_origin_allowed(&opaque, public));
        let other = headers(&[
            (header::HOST, "desk.example"),
            (header::ORIGIN, "https://evil.example"),
        ]);
        assert!(!websocket_origin_allowed(&other, public));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_tls() {
        let c = set_cookie(SESSION_COOKIE, "x", 60, true);
        let c = c.to_str().expect("ascii");
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        let plain = set_cookie(SESSION_COOKIE, "x", 60, false);
        assert!(!plain.to_str().expect("ascii").contains("Secure"));
    }
}
