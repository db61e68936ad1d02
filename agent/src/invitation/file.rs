//! Invitations saved as a file: an HTML page that, double-clicked on any desktop, opens the
//! expert console for the invitation in the default browser, with nothing installed.
//!
//! The page redirects to the invitation link at once (and shows the link, for a browser that
//! does not follow the redirect). It also carries the invitation as JSON in a
//! `<script type="application/json" id="remote-assistance-invitation">` element, for programs:
//! `agent status FILE` reads it back. The JSON is signed with HMAC-SHA256 under a key derived
//! from the agent's own credential, so the agent that saved a file tells a changed or foreign
//! one from its own. The page around the JSON is made from the signed invitation alone, so
//! [`parse`] with the key renders it again and wants the very same page: a copy whose redirect
//! or link sends the expert elsewhere fails like one whose JSON was changed. The file carries
//! the invitation's secret, in the link's fragment and at the end of the short code
//! ([`super::secret`]), so it opens the invitation as the link does; the password is never in
//! it.

use hmac::{Hmac, Mac};
use protocol::ids::InvitationId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// The `format` value that marks our JSON.
const FORMAT: &str = "remote-assistance-invitation";
const VERSION: u32 = 1;
const ELEMENT_ID: &str = "remote-assistance-invitation";
/// Larger files are not ours: refuse before parsing.
const MAX_FILE_BYTES: usize = 64 * 1024;

/// What an invitation file says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationFile {
    /// The signaling server the invitation lives on.
    pub server: String,
    pub id: InvitationId,
    pub link: String,
    pub short_code: String,
    /// The novice, as the expert will see them.
    pub from: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub has_password: bool,
}

/// The JSON in the page: the invitation, what it is, and its signature.
#[derive(Serialize, Deserialize)]
struct Signed {
    format: String,
    version: u32,
    invitation: InvitationFile,
    signature: String,
}

/// Why a file cannot be read as an invitation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    #[error("this is not an invitation file (it has no invitation data)")]
    NotAnInvitation,
    #[error("the invitation file is damaged: {0}")]
    Malformed(String),
    #[error("the invitation file is from a newer version (format {0}); update the agent")]
    NewerVersion(u32),
    #[error(
        "the invitation file does not match its signature: it was changed after it was saved, \
         or another agent saved it"
    )]
    Tampered,
    #[error("the invitation link must be an http or https address, not {0:?}")]
    BadLink(String),
}

/// Where the window saves an invitation: the desktop when there is one, else the home
/// folder, under a name that file managers know as an invitation (`*.invitation.html`).
pub fn default_path(id: InvitationId) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let folder = home
        .as_ref()
        .map(|h| h.join("Desktop"))
        .filter(|d| d.is_dir())
        .or(home)
        .unwrap_or_else(|| PathBuf::from("."));
    let short: String = id.to_string().chars().take(8).collect();
    folder.join(format!("remote-assistance-{short}.invitation.html"))
}

/// The signing key for an agent credential: a hash of it, so the file never helps recover it.
pub fn key_for(credential: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"remote-assistance invitation file key\0");
    hash.update(credential.as_bytes());
    hash.finalize().into()
}

/// Renders the page for `invitation`, signed with `key`.
pub fn render(invitation: &InvitationFile, key: &[u8]) -> Result<String, FileError> {
    let link = &invitation.link;
    if !(link.starts_with("https://") || link.starts_with("http://")) {
        return Err(FileError::BadLink(link.clone()));
    }
    let signed = Signed {
        format: FORMAT.into(),
        version: VERSION,
        signature: sign(invitation, key),
        invitation: invitation.clone(),
    };
    // Plain data always serializes. `<`, `>` and `&` are escaped so that no string in it can
    // end the script element.
    let json = serde_json::to_string_pretty(&signed)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    let from = super::html_escape(&invitation.from);
    let href = super::html_escape(link);
    let password = if invitation.has_password {
        format!(
            "<p>This invitation has a password: ask {from} for it. It is not in this file.</p>\n"
        )
    } else {
        String::new()
    };
    Ok(format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Remote assistance invitation from {from}</title>
<meta http-equiv="refresh" content="0; url={href}">
<script type="application/json" id="{ELEMENT_ID}">
{json}
</script>
</head>
<body>
<h1>{from} asks for your help</h1>
<p>Your browser should open the invitation by itself. If it does not, open this link:
<a href="{href}">{href}</a></p>
<p>Or go to the assistance site and type the short code <strong>{code}</strong>.</p>
{password}<p>The invitation expires at {expires} (UTC).</p>
</body>
</html>
"#,
        code = super::html_escape(&invitation.short_code),
        expires = super::utc(invitation.expires_at),
    ))
}

/// Reads an invitation file. With `key`, the signature must match it.
pub fn parse(page: &str, key: Option<&[u8]>) -> Result<InvitationFile, FileError> {
    if page.len() > MAX_FILE_BYTES {
        return Err(FileError::NotAnInvitation);
    }
    let marker = format!("id=\"{ELEMENT_ID}\"");
    let start = page.find(&marker).ok_or(FileError::NotAnInvitation)?;
    let body = &page[start..];
    let open = body.find('>').ok_or(FileError::NotAnInvitation)? + 1;
    let close = body.find("</script>").ok_or(FileError::NotAnInvitation)?;
    if close < open {
        return Err(FileError::NotAnInvitation);
    }
    let value: serde_json::Value = serde_json::from_str(&body[open..close])
        .map_err(|e| FileError::Malformed(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(FileError::NotAnInvitation);
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) if v > u64::from(VERSION) => {
            return Err(FileError::NewerVersion(
                u32::try_from(v).unwrap_or(u32::MAX),
            ))
        }
        _ => return Err(FileError::Malformed("unknown version".into())),
    }
    let signed: Signed =
        serde_json::from_value(value).map_err(|e| FileError::Malformed(e.to_string()))?;
    if let Some(key) = key {
        let expected = hex::decode(&signed.signature).map_err(|_| FileError::Tampered)?;
        let mut mac = mac(key);
        mac.update(&canonical(&signed.invitation));
        mac.verify_slice(&expected)
            .map_err(|_| FileError::Tampered)?;
        // Everything outside the JSON (where the page sends the browser, what it says) must be
        // what the signed invitation makes. Line ends may have been changed on the way.
        let genuine = render(&signed.invitation, key)?;
        if page.replace("\r\n", "\n") != genuine {
            return Err(FileError::Tampered);
        }
    }
    Ok(signed.invitation)
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

fn sign(invitation: &InvitationFile, key: &[u8]) -> String {
    let mut mac = mac(key);
    mac.update(&canonical(invitation));
    hex::encode(mac.finalize().into_bytes())
}

/// The bytes the signature covers: the invitation as compact JSON, fields in declared order.
fn canonical(invitation: &InvitationFile) -> Vec<u8> {
    serde_json::to_vec(invitation).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation() -> InvitationFile {
        InvitationFile {
            server: "http://127.0.0.1:8080".into(),
            id: "0b6f2a64-4f7e-4b3c-9a57-0d2c1c9a1e11".parse().expect("id"),
            link: "http://127.0.0.1:8080/i/abcDEF123".into(),
            short_code: "K7PQ-M2XD-4RTA".into(),
            from: "Nora <script>alert(1)</script> & co".into(),
            created_at: 1_764_072_000,
            expires_at: 1_764_075_600,
            has_password: true,
        }
    }

    #[test]
    fn a_saved_file_reads_back_with_its_key_and_redirects_to_the_link() {
        let key = key_for("credential");
        let page = render(&invitation(), &key).expect("render");
        assert_eq!(parse(&page, Some(&key)), Ok(invitation()));
        assert_eq!(parse(&page, None), Ok(invitation()));
        assert!(page.contains(
            r#"<meta http-equiv="refresh" content="0; url=http://127.0.0.1:8080/i/abcDEF123">"#
        ));
        assert!(page.contains("expires at 2025-11-25 13:00"));
        assert!(page.contains("ask Nora &lt;script&gt;"));
        assert!(!page.contains("<script>alert"), "names are escaped");
        assert_eq!(
            page.matches("</script>").count(),
            1,
            "the JSON cannot end its element"
        );
    }

    #[test]
    fn a_changed_file_or_another_agents_key_is_refused() {
        let key = key_for("credential");
        let page = render(&invitation(), &key).expect("render");
        let changed = page.replace("1764075600", "1764999999");
        assert_ne!(changed, page);
        assert_eq!(parse(&changed, Some(&key)), Err(FileError::Tampered));
        assert_eq!(
            parse(&page, Some(&key_for("another credential"))),
            Err(FileError::Tampered)
        );
        let unsigned = page.replace(&sign(&invitation(), &key), "zz");
        assert_eq!(parse(&unsigned, Some(&key)), Err(FileError::Tampered));
    }

    #[test]
    fn a_file_whose_page_sends_the_expert_elsewhere_is_refused() {
        let key = key_for("credential");
        let page = render(&invitation(), &key).expect("render");
        let link = &invitation().link;
        let elsewhere = "http://203.0.113.7/i/phish";
        let redirected = page.replace(&format!("url={link}\""), &format!("url={elsewhere}\""));
        assert_ne!(redirected, page);
        assert_eq!(parse(&redirected, Some(&key)), Err(FileError::Tampered));
        let relinked = page.replace(&format!(">{link}</a>"), &format!(">{elsewhere}</a>"));
        assert_ne!(relinked, page);
        assert_eq!(parse(&relinked, Some(&key)), Err(FileError::Tampered));
        let scripted = page.replace("</body>", "<script>location='http://x'</script></body>");
        assert_eq!(parse(&scripted, Some(&key)), Err(FileError::Tampered));
        // A mail program that changed the line ends leaves it genuine.
        let crlf = page.replace('\n', "\r\n");
        assert_eq!(parse(&crlf, Some(&key)), Ok(invitation()));
    }

    #[test]
    fn other_files_get_clear_errors() {
        assert_eq!(
            parse("<html>hello</html>", None),
            Err(FileError::NotAnInvitation)
        );
        let key = key_for("k");
        let page = render(&invitation(), &key).expect("render");
        let broken = page.replace("\"invitation\": {", "\"invitation\": {{");
        assert!(matches!(parse(&broken, None), Err(FileError::Malformed(_))));
        let newer = page.replace("\"version\": 1", "\"version\": 7");
        assert_eq!(parse(&newer, None), Err(FileError::NewerVersion(7)));
        assert_eq!(
            parse(&"x".repeat(MAX_FILE_BYTES + 1), None),
            Err(FileError::NotAnInvitation)
        );
        let mut bad = invitation();
        bad.link = "javascript:alert(1)".into();
        assert!(matches!(render(&bad, &key), Err(FileError::BadLink(_))));
    }
}
