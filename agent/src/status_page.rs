//! `agent status-page`: every invitation of this agent on a small local web page, with its
//! state, creation and expiry time and an *Expire now* button, for novices who prefer a window
//! to `agent list` and `agent revoke`.
//!
//! The page is served on 127.0.0.1 only, under a path holding a random 128-bit token that only
//! the printed (and opened) address knows, so other local users and web pages cannot read it.
//! Forms post the token back and must come from the page's own origin. The agent's credential
//! never reaches the browser: the page is rendered here from the server's answers.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use protocol::api::{InvitationStatus, InvitationSummary};
use protocol::ids::InvitationId;
use rand::RngCore;

use crate::invitation::{html_escape, utc};
use crate::server_api::ServerApi;

struct Page {
    api: ServerApi,
    token: String,
    origin: String,
}

/// A bound status page, ready to serve.
pub struct StatusPage {
    listener: tokio::net::TcpListener,
    page: Arc<Page>,
}

impl StatusPage {
    /// Binds 127.0.0.1:`port` (0: any free port).
    pub async fn bind(api: ServerApi, port: u16) -> std::io::Result<Self> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        let mut secret = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut secret);
        let origin = format!("http://{}", listener.local_addr()?);
        Ok(Self {
            listener,
            page: Arc::new(Page {
                api,
                token: hex::encode(secret),
                origin,
            }),
        })
    }

    /// The page's address, secret token included.
    pub fn url(&self) -> String {
        format!("{}/s/{}/", self.page.origin, self.page.token)
    }

    /// Serves until the task is dropped or `shutdown` completes.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = Router::new()
            .route("/s/{token}/", get(list))
            .route("/s/{token}/expire/{id}", post(expire))
            .with_state(self.page);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not found").into_response()
}

async fn list(State(page): State<Arc<Page>>, Path(token): Path<String>) -> Response {
    if token != page.token {
        return not_found();
    }
    match page.api.invitations().await {
        Ok(all) => page_response(render(&all, &page.token, None)),
        Err(err) => page_response(render(&[], &page.token, Some(&err.to_string()))),
    }
}

async fn expire(
    State(page): State<Arc<Page>>,
    Path((token, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if token != page.token {
        return not_found();
    }
    // A form on another site cannot know the token; should it guess, its origin still differs.
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if origin.is_some_and(|o| o != page.origin) {
        return (StatusCode::FORBIDDEN, "This form belongs to another page.").into_response();
    }
    let Ok(id) = id.parse::<InvitationId>() else {
        return (StatusCode::BAD_REQUEST, "No such invitation.").into_response();
    };
    match page.api.revoke(id).await {
        Ok(_) => Redirect::to(&format!("/s/{}/", page.token)).into_response(),
        Err(err) => {
            let all = page.api.invitations().await.unwrap_or_default();
            let message = format!("Could not expire the invitation: {err}");
            page_response(render(&all, &page.token, Some(&message)))
        }
    }
}

fn page_response(html: String) -> Response {
    (
        [
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(html),
    )
        .into_response()
}

/// The page: one row per invitation, newest first.
fn render(all: &[InvitationSummary], token: &str, error: Option<&str>) -> String {
    let mut rows = String::new();
    let mut sorted: Vec<&InvitationSummary> = all.iter().collect();
    sorted.sort_by_key(|inv| std::cmp::Reverse(inv.created_at));
    for inv in sorted {
        let can_expire = matches!(
            inv.status,
            InvitationStatus::Open | InvitationStatus::InUse | InvitationStatus::Locked
        );
        let action = if can_expire {
            format!(
                r#"<form method="post" action="/s/{token}/expire/{id}"><button type="submit">Expire now</button></form>"#,
                id = inv.id
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr data-id=\"{id}\" data-status=\"{status_key}\"><td><code>{id}</code></td>\
             <td class=\"status\">{status}</td><td>{created}</td><td>{expires}</td>\
             <td>{password}</td><td>{action}</td></tr>\n",
            id = inv.id,
            status_key = html_escape(inv.status.as_str()),
            status = html_escape(inv.status.as_str()),
            created = utc(inv.created_at),
            expires = utc(inv.expires_at),
            password = if inv.has_password { "yes" } else { "" },
        ));
    }
    if all.is_empty() && error.is_none() {
        rows.push_str("<tr><td colspan=\"6\">You have no invitations.</td></tr>\n");
    }
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>\n", html_escape(e)))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Your invitations</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
td, th {{ border-bottom: 1px solid #ccc; padding: .4em .8em; text-align: left; }}
.error {{ color: #a00; }}
</style>
</head>
<body>
<h1>Your invitations</h1>
{error}<p>Expiring an invitation closes it at once; a session using it ends. Times are UTC; this
page refreshes every 5 seconds.</p>
<table>
<thead><tr><th>Invitation</th><th>State</th><th>Created</th><th>Expires</th><th>Password</th><th></th></tr></thead>
<tbody>
{rows}</tbody>
</table>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(status: InvitationStatus, created_at: i64) -> InvitationSummary {
        InvitationSummary {
            id: InvitationId::new_random(),
            status,
            created_at,
            expires_at: created_at + 3600,
            has_password: false,
            failed_attempts: 0,
            session_id: None,
        }
    }

    #[test]
    fn rows_show_every_state_newest_first_and_offer_expiry_only_where_it_means_something() {
        let all = [
            summary(InvitationStatus::Expired, 100),
            summary(InvitationStatus::InUse, 300),
            summary(InvitationStatus::Open, 200),
            summary(InvitationStatus::Revoked, 50),
        ];
        let html = render(&all, "tok", None);
        let order: Vec<usize> = ["in use", "open", "expired", "revoked"]
            .iter()
            .map(|s| html.find(&format!("data-status=\"{s}\"")).expect(s))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first");
        assert_eq!(html.matches("Expire now").count(), 2, "open and in use");
        assert!(html.contains("action=\"/s/tok/expire/"));
        assert!(
            html.contains("1970-01-01 00:05"),
            "creation time of the newest"
        );

        let failed = render(&[], "tok", Some("server <down>"));
        assert!(failed.contains("server &lt;down&gt;"));
        assert!(!failed.contains("You have no invitations"));
    }
}
