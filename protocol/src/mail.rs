//! The invitation e-mail: what it says, in one place for the novice's mail program (the
//! agent's `mailto:`) and the server's SMTP relay alike. It never holds the password.

use crate::api::InvitationCreated;

/// The subject and body of the e-mail for `invitation` from `from`.
pub fn compose(from: &str, invitation: &InvitationCreated) -> (String, String) {
    let subject = format!("{from} asks for your help (remote assistance)");
    let password = if invitation.has_password {
        format!("   It asks for a password: {from} will tell you; it is not in this e-mail.\n")
    } else {
        String::new()
    };
    // The agent puts the invitation's secret after the link's '#'; a mail the server sends
    // cannot hold it, as the server never has it.
    let secret = if invitation.link.contains('#') {
        String::new()
    } else {
        format!(
            "   It asks for a secret code too: {from} will tell you; it is not in this e-mail.\n"
        )
    };
    let site = invitation.link.split("/i/").next().unwrap_or_default();
    let body = format!(
        "Hello,\n\
         \n\
         {from} would like your help with their computer and invites you to see their screen.\n\
         \n\
         1. Open this link in your browser (nothing to install):\n   {link}\n\
         {password}\
         {secret}\
         2. Type your name and press Connect. {from} is asked to let you in.\n\
         3. You then see their screen live and can chat. You can use their mouse and keyboard\n   \
            only if they allow it, and they can take it back at any time.\n\
         \n\
         If the link does not open, go to {site}/i and type the short code {code}.\n\
         The invitation expires at {expires} (UTC).\n",
        link = invitation.link,
        code = invitation.short_code,
        expires = utc(invitation.expires_at),
    );
    (subject, body)
}

/// `2026-11-25 14:03` for Unix seconds, in UTC.
pub fn utc(unix: i64) -> String {
    let (year, month, day) = civil_from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// The proleptic Gregorian date (year, month, day) of a day counted from 1970-01-01
/// (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
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
            emailed_to: None,
            email_error: None,
        }
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
        // Made by the server, the link has no secret after '#': the mail says one is needed.
        assert!(body.contains("It asks for a secret code too: Nora Müller will tell you"));
        assert!(body.contains("go to https://help.example.net/i and type the short code"));
        // Made by the agent, the link carries it.
        let mut with_secret = invitation(false);
        with_secret.link.push_str("#9FZQ2WAB");
        with_secret.short_code.push_str("-9FZQ-2WAB");
        let (_, body) = compose("Nora", &with_secret);
        assert!(body.contains("/i/abc-DEF_123#9FZQ2WAB\n"));
        assert!(body.contains("short code K7PQ-M2XD-4RTA-9FZQ-2WAB"));
        assert!(!body.contains("secret code"));
    }
}
