use crate::{CONFIRMATION_LEN, MAX_AAD_LEN, SHARE_LEN};

/// Why an exchange failed. Every variant ends the exchange: start a new one to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PakeError {
    #[error(
        "the peer's share is {got} bytes long, not {SHARE_LEN}: the peer speaks another protocol \
         version, or the message was cut"
    )]
    ShareLength { got: usize },
    #[error(
        "the peer's share is not an uncompressed P-256 point (it must start with 0x04): the peer \
         speaks another protocol version"
    )]
    ShareEncoding,
    #[error(
        "the peer's share is not a point of P-256: the peer is broken or not who it claims to be; \
         the exchange was stopped"
    )]
    InvalidShare,
    #[error(
        "the peer's confirmation is {got} bytes long, not {CONFIRMATION_LEN}: the peer speaks \
         another protocol version, or the message was cut"
    )]
    ConfirmationLength { got: usize },
    #[error(
        "the password does not match: the expert typed a different password, or the two sides \
         are not connected to each other directly (another session, another certificate)"
    )]
    ConfirmationMismatch,
    #[error("the associated data is {len} bytes long; RFC 9382 allows at most {MAX_AAD_LEN}")]
    AadTooLong { len: usize },
    #[error("a password scalar is 32 bytes, big-endian, between 1 and the P-256 group order")]
    InvalidPasswordScalar,
}
