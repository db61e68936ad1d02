//! The novice's invitations on this machine: the secret that only the novice and the expert
//! hold ([`secret`]), the agent's own record it judges every request by ([`record`]), and the
//! ways to send an invitation besides reading out its link: the link on the clipboard
//! ([`clipboard`]), a file the expert double-clicks ([`file`]) and an e-mail opened in the
//! novice's mail program ([`mail`]).

pub mod clipboard;
pub mod file;
pub mod mail;
pub mod record;
pub mod secret;

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) use protocol::mail::utc;
