//! Server-rendered pages (askama templates in `web/templates`), and the security headers every
//! response carries.
//!
//! `GET /i/{code}` is the expert console for one invitation: it names who invited, asks for a
//! password when one is set, and says plainly when the invitation is unknown, expired, revoked,
//! locked or in use. `GET /i` takes the short code read out on the phone; the page's script
//! keeps its secret part and opens `/i/<lookup part>#<secret>`, so the server never sees it. Scripts come only from `/static` (no inline script), so the page works under
//! a strict Content-Security-Policy. The page is limited per client address like redemption,
//! since it tells whether a code exists. Each page speaks the language its request asks for
//! ([`crate::locale`]).

use crate::error::{ApiError, ServerError};
use crate::invitation::codes;
use crate::locale::{PageLanguage, Text, Words};
use crate::state::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, OriginalUri, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use protocol::api::InvitationStatus;
use std::net::SocketAddr;

/// Content-Security-Policy for every response, but for `script-src` and `connect-src`: our own
/// origin only, no inline script but the import map, no framing.
const CSP_BASE: &str = "default-src 'self'; style-src 'self'; \
    img-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// The import map the console inlines: the integrity (SHA-384) of each vendored module of the
/// password check, so that a browser runs only those very bytes. `scripts/vendor-noble.sh`
/// writes it; `signaling-server/tests/vendored_modules_are_pinned.rs` checks it against the
/// files.
pub const IMPORT_MAP: &str = include_str!("../../web/static/js/vendor/importmap.json");

/// The policy's source for the one inline script the pages have, [`IMPORT_MAP`]: its SHA-256.
fn import_map_source() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(IMPORT_MAP.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Browser features no page of the server uses, each denied to every origin.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), bluetooth=(), camera=(), \
    clipboard-read=(), display-capture=(), fullscreen=(), geolocation=(), gyroscope=(), hid=(), \
    magnetometer=(), microphone=(), midi=(), payment=(), publickey-credentials-get=(), \
    screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()";

/// How long a browser that saw the server over https keeps to https, in seconds (a year).
pub const HSTS_MAX_AGE_SECS: u64 = 365 * 24 * 3600;

/// The headers every response carries, worked out once from the public URL.
#[derive(Clone, Debug)]
pub struct SecurityHeaders {
    csp: HeaderValue,
    hsts: Option<HeaderValue>,
}

/// The server's origin as a browser names it in `Origin`: `scheme://host[:port]`.
pub fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

impl SecurityHeaders {
    /// For a server reached at `public_url`: WebSockets may go to its own origin (`'self'`,
    /// and its `ws:`/`wss:` origin spelt out, for browsers whose `'self'` does not cover
    /// WebSocket schemes) and nowhere else; HSTS when it is reached over https.
    pub fn new(public_url: &url::Url) -> Self {
        let origin = origin_of(public_url);
        let ws_origin = match origin.strip_prefix("https://") {
            Some(rest) => format!("wss://{rest}"),
            None => format!("ws://{}", origin.trim_start_matches("http://")),
        };
        let csp = format!(
            "{CSP_BASE}; script-src 'self' {}; connect-src 'self' {ws_origin}",
            import_map_source()
        );
        Self {
            csp: HeaderValue::from_str(&csp)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
            hsts: (public_url.scheme() == "https").then(|| {
                HeaderValue::from_str(&format!("max-age={HSTS_MAX_AGE_SECS}"))
                    .unwrap_or_else(|_| HeaderValue::from_static("max-age=31536000"))
            }),
        }
    }
}

#[derive(Template)]
#[template(path = "console.html")]
pub struct ConsolePage {
    words: Words,
    novice_name: String,
    /// `open`, `in_use`, `expired`, `revoked`, `locked` or `unknown`; `waiting` for help a
    /// support-desk operator offered; `code` for the page that takes a short code.
    state: &'static str,
    headline: String,
    explanation: String,
    has_password: bool,
    /// For offered help: the session to join, as JSON (see [`crate::desk::offer`]).
    offer: String,
}

impl ConsolePage {
    /// The console of a desk operator admitted to a session with `machine` (help they offered,
    /// or a direct invitation they accepted), joining `offer` at once. The page answers a form
    /// and cannot be loaded again, so it has no language menu.
    pub fn offered(language: PageLanguage, machine: &str, headline: Text, offer: String) -> Self {
        let words = Words::new(language.0, "");
        Self {
            novice_name: machine.to_string(),
            state: "waiting",
            headline: headline.in_language(words.language()),
            explanation: words.t("console-offered-explanation"),
            has_password: false,
            offer,
            words,
        }
    }
}

/// `GET /i`: the expert types the short code they were read out.
pub async fn code_entry(language: PageLanguage) -> Result<Response, ApiError> {
    let words = Words::new(language.0, "/i");
    let page = ConsolePage {
        novice_name: String::new(),
        state: "code",
        headline: words.t("console-code-headline"),
        explanation: words.t("console-code-explanation"),
        has_password: false,
        offer: String::new(),
        words,
    };
    let html = page.render().map_err(ServerError::from)?;
    Ok(Html(html).into_response())
}

fn state_code(status: InvitationStatus) -> &'static str {
    match status {
        InvitationStatus::Open => "open",
        InvitationStatus::InUse => "in_use",
        InvitationStatus::Expired => "expired",
        InvitationStatus::Revoked => "revoked",
        InvitationStatus::Locked => "locked",
        InvitationStatus::Declined => "declined",
    }
}

/// `GET /i/{code}`. Limited per client like redemption, as it tells whether a code exists;
/// never cached, as its URL holds the code.
pub async fn console(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    language: PageLanguage,
    OriginalUri(uri): OriginalUri,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let words = Words::new(language.0, uri.path());
    let mut res = console_page(&state, peer, words, &code).await?;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

async fn console_page(
    state: &AppState,
    peer: SocketAddr,
    words: Words,
    code: &str,
) -> Result<Response, ApiError> {
    if !state
        .redeem_limit
        .check_client(peer.ip(), state.clock.now())
    {
        return Err(ApiError::too_many_requests());
    }
    let found = if code.len() <= 128 {
        state
            .store
            .find_invitation_by_code(&codes::digest(code), codes::short_digest(code).as_deref())
            .await?
    } else {
        None
    };
    let (page, status) = match found {
        None => (
            ConsolePage {
                novice_name: String::new(),
                state: "unknown",
                headline: words.t("console-unknown-headline"),
                explanation: words.t("console-unknown-explanation"),
                has_password: false,
                offer: String::new(),
                words,
            },
            StatusCode::NOT_FOUND,
        ),
        Some(found) => {
            let status = found.invitation.status(state.clock.now());
            let explanation = words.t(match status {
                InvitationStatus::Open => "console-open-explanation",
                InvitationStatus::InUse => "console-in-use-explanation",
                InvitationStatus::Expired => "console-expired-explanation",
                InvitationStatus::Revoked => "console-revoked-explanation",
                InvitationStatus::Locked => "console-locked-explanation",
                InvitationStatus::Declined => "console-declined-explanation",
            });
            let code = if status == InvitationStatus::Open {
                StatusCode::OK
            } else {
                StatusCode::GONE
            };
            (
                ConsolePage {
                    headline: words.with("console-asks-headline", "novice", &found.novice_name),
                    novice_name: found.novice_name,
                    state: state_code(status),
                    explanation,
                    has_password: found.invitation.has_password,
                    offer: String::new(),
                    words,
                },
                code,
            )
        }
    };
    let html = page.render().map_err(ServerError::from)?;
    Ok((status, Html(html)).into_response())
}

/// Adds the security headers to every response.
pub async fn security_headers(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        state.security_headers.csp.clone(),
    );
    if let Some(hsts) = &state.security_headers.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
    h.insert(
        "permissions-policy",
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}
