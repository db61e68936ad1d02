//! Invitations sent by the server itself over SMTP, when a relay is configured (`--smtp-url`).
//! The text is [`protocol::mail::compose`], the same the agent puts into the novice's own mail
//! program; it never holds the password.

use crate::error::ServerError;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use protocol::api::InvitationCreated;

/// How long one delivery to the relay may take.
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The configured SMTP relay.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The relay URL may hold a password: show only the sender.
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// A relay at `url` (`smtp://host:25`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://host:465`), sending as `from`.
    pub fn new(url: &str, from: &str) -> Result<Self, ServerError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| ServerError::Config(format!("--smtp-url: {e}")))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let from = from
            .parse()
            .map_err(|e| ServerError::Config(format!("--smtp-from {from:?}: {e}")))?;
        Ok(Self { transport, from })
    }

    /// Sends `invitation` from the novice `novice` to `to`. The error is for the novice.
    pub async fn send_invitation(
        &self,
        to: &Mailbox,
        novice: &str,
        invitation: &InvitationCreated,
    ) -> Result<(), String> {
        let (subject, body) = protocol::mail::compose(novice, invitation);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.clone())
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("the e-mail could not be built: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| format!("the mail relay did not take the e-mail: {e}"))
    }
}

/// Parses an address the novice typed, with a message for them when it is not one.
pub fn recipient(text: &str) -> Result<Mailbox, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an e-mail address"))
}
