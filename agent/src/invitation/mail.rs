//! An invitation by e-mail from the novice's own mail program: a `mailto:` address that opens
//! it with the subject and body of [`protocol::mail::compose`] (the same text the server sends
//! over SMTP). The novice only adds the recipient (if not given) and presses Send.

pub use protocol::mail::compose;

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
    use protocol::api::InvitationCreated;

    /// An invitation as the server's JSON answer has it.
    fn invitation() -> InvitationCreated {
        serde_json::from_value(serde_json::json!({
            "id": "0b6f2a64-4f7e-4b3c-9a57-0d2c1c9a1e11",
            "link": "https://help.example.net/i/abc-DEF_123",
            "code": "abc-DEF_123", "short_code": "K7PQ-M2XD-4RTA",
            "created_at": 1_764_072_000, "expires_at": 1_764_075_600, "has_password": false,
        }))
        .expect("an invitation")
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
    fn the_mailto_address_round_trips_through_a_mail_program() {
        let (subject, body) = compose("Nora & Co? #1", &invitation());
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
