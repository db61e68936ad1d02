//! An invitation by e-mail: a `mailto:` address that opens the novice's mail program with the
//! subject and a body that says what to do, holding the link. The novice only adds the
//! recipient (if not given) and presses Send. The password is never in it.

use protocol::api::InvitationCreated;

/// The subject and body of the e-mail for `invitation` from `from`.
pub fn compose(from: &str, invitation: &InvitationCreated) -> (String, String) {
    let subject = format!("{from} asks for your help (remote assistance)");
    let password = if invitation.has_password {
        format!("   It asks for a password: {from} will tell you; it is not in this e-mail.\n")
    } else {
        String::new()
    };
    let body = format!(
        "Hello,\n\
         \n\
         {from} would like your help with their computer and invites you to see their screen.\n\
         \n\
         1. Open this link in your browser (nothing to install):\n   {link}\n\
         {password}\
         2. Type your name and press Connect. {from} is asked to let you in.\n\
         3. You then see their screen live and can chat. You can use their mouse and keyboard\n   \
            only if they allow it, and they can take it back at any time.\n\
         \n\
         If the link does not open, go to the same site and type the short code {code}.\n\
         The invitation expires at {expires} (UTC).\n",
        link = invitation.link,
        code = invitation.short_code,
        expires = super::utc(invitation.expires_at),
    );
    (subject, body)
}

/// The `mailto:` address (RFC 6068) that opens a new message with `subject` and `body`, to
/// `to` if given.
pub fn mailto(to: Option<&str>, subject: &str, body: &str) -> String {
    format!(
        "mailto:{}?subject={}&body={}",
        to.map(encode).unwrap_or_default(),
        encode(subject),
        // Line breaks are CRLF in a mailto body.
        encode(&body.replace('\n', "\r\n")),
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters (and `@` for addresses).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(has_password: bool) -> InvitationCreated {
        InvitationCreated {
            id: "0b6f2a64-4f7e-4b3c-9a57-0d2c1c9a1e11".parse().expect("id"),
            link: "https://help.example.net/i/abc-DEF_123".into(),
            code: "abc-DEF_123".into(),
            short_code: "K7PQ-M2XD-4RTA".into(),
            created_at: 1_764_072_000,
            expires_at: 1_764_075_600,
            has_password,
        }
    }

    /// Undoes the percent-encoding, as a mail program does.
    fn decode(text: &str) -> String {
        let mut bytes = Vec::new();
        let mut rest = text.as_bytes();
        while let Some((&b, tail)) = rest.split_first() {
            if b == b'%' && tail.len() >= 2 {
                let hex = std::str::from_utf8(&tail[..2]).expect("ascii");
                bytes.push(u8::from_str_radix(hex, 16).expect("hex"));
                rest = &tail[2..];
            } else {
                bytes.push(b);
                rest = tail;
            }
        }
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn the_mail_says_what_to_do_and_holds_the_link_but_no_password() {
        let (subject, body) = compose("Nora Müller", &invitation(true));
        assert_eq!(
            subject,
            "Nora Müller asks for your help (remote assistance)"
        );
        assert!(body.contains("\n   https://help.example.net/i/abc-DEF_123\n"));
        assert!(body.contains("short code K7PQ-M2XD-4RTA"));
        assert!(body.contains("expires at 2025-11-25 13:00 (UTC)"));
        assert!(body.contains("It asks for a password: Nora Müller will tell you"));
        let (_, plain) = compose("Nora", &invitation(false));
        assert!(!plain.contains("password"));
    }

    #[test]
    fn the_mailto_address_round_trips_through_a_mail_program() {
        let (subject, body) = compose("Nora & Co? #1", &invitation(false));
        let url = mailto(Some("eve@example.org"), &subject, &body);
        let (to, query) = url
            .strip_prefix("mailto:")
            .and_then(|u| u.split_once('?'))
            .expect("mailto:<to>?<query>");
        assert_eq!(to, "eve@example.org");
        let fields: Vec<(&str, &str)> = query
            .split('&')
            .map(|kv| kv.split_once('=').expect("key=value"))
            .collect();
        assert_eq!(fields.len(), 2, "& and = in the text are encoded: {query}");
        assert_eq!(fields[0], ("subject", encode(&subject).as_str()));
        assert_eq!(decode(fields[0].1), subject);
        assert_eq!(decode(fields[1].1), body.replace('\n', "\r\n"));
        assert!(!url.contains(' ') && !url.contains('\n') && !url.contains('#'));

        assert!(mailto(None, "s", "b").starts_with("mailto:?subject=s&body=b"));
    }
}
