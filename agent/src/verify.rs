//! The check before anything is shared: the expert's browser proves, over the data channel,
//! that it holds the invitation's secret and password, bound to this session and to the two
//! DTLS certificates of this very connection. A pure state machine, one per session: no IO, no
//! clock reads; randomness and time come from the caller.
//!
//! Until [`Gate::is_verified`], the driver sends no frame and the session takes no message from
//! the expert but the check's own: no chat, no control request, no input.
//!
//! The exchange is SPAKE2 as `docs/pake.md` describes it, the agent being party A:
//!
//! ```text
//! browser → agent   Pake { pB }         as soon as the channel opens
//! agent → browser   Pake { pA }         (the agent now holds cA, and expects cB)
//! browser → agent   PakeConfirm { cB }
//! agent → browser   PakeConfirm { cA }, PakeResult { ok: true }    when cB matches
//!                   PakeResult { ok: false, reason, tries_left }     when it does not
//! ```
//!
//! The agent reveals its own confirmation only after the browser's has matched: a browser
//! that sends a share and then stops learns nothing about its guess, and each confirmation
//! that does not match is one guess, counted against the invitation ([`GateFailure::counts`]).
//! The associated data is `session_aad(session, agent's fingerprint, expert's fingerprint)`,
//! the agent's read from the offer it made and the expert's from the answer it applied. A
//! server that rewrote the fingerprints to sit in the middle with certificates of its own
//! makes the two sides derive different keys, so its relayed confirmation does not match: the
//! agent cannot tell that from a wrong password, and says both.
//!
//! An answer naming several different certificates is refused: the stack accepts a peer whose
//! certificate matches any of them, so a relay could add its own after the browser's and have
//! the agent bind the exchange to the browser's while talking to the relay.

use crate::invitation::record::Proof;
use pake::{Confirming, PasswordScalar, Role, Spake2};
use protocol::data::{Confirmation, DataMessage, HexBytes, PakeRefusal};
use protocol::ids::SessionId;
use rand::{CryptoRng, RngCore};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long the expert's browser has, from the novice's yes, to complete the check: ICE, DTLS
/// and the data channel come first, through a TURN relay on a slow link if need be.
pub const CHECK_TIME: Duration = Duration::from_secs(60);

/// The identities of RFC 9382 §3.3 both sides use (`docs/pake.md`).
pub const ID_AGENT: &[u8] = b"agent";
pub const ID_EXPERT: &[u8] = b"expert";

/// What the gate wants done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GateEvent {
    /// A message of the check for the expert's browser.
    ToExpert(DataMessage),
    /// The browser proved itself: sharing may start.
    Verified,
    /// The check failed; the session must end without anything shared.
    Failed(GateFailure),
}

/// Why the check failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GateFailure {
    /// The browser's confirmation did not match: a wrong password or secret, or someone in the
    /// middle of the connection. One guess, counted.
    Mismatch,
    /// The browser's share was no point of the protocol; no guess was made.
    Malformed(String),
    /// The offer or the answer does not name exactly one certificate.
    Certificates(String),
    /// The browser did not complete the check in time.
    Timeout,
}

impl GateFailure {
    /// Whether this failure was a guess at the password, to count against the invitation.
    pub fn counts(&self) -> bool {
        matches!(self, Self::Mismatch)
    }

    /// What the browser is told.
    pub fn refusal(&self) -> PakeRefusal {
        match self {
            Self::Mismatch | Self::Certificates(_) => PakeRefusal::Mismatch,
            Self::Malformed(_) => PakeRefusal::Malformed,
            Self::Timeout => PakeRefusal::Timeout,
        }
    }

    /// A sentence for the novice's terminal.
    pub fn describe(&self) -> String {
        match self {
            Self::Mismatch => {
                "the password was wrong, or someone is intercepting the connection".into()
            }
            Self::Malformed(why) => format!("their browser broke off the password check ({why})"),
            Self::Certificates(why) => {
                format!("the connection's certificates do not add up ({why}): someone may be intercepting the connection")
            }
            Self::Timeout => "their browser did not complete the password check in time".into(),
        }
    }
}

#[derive(Debug)]
enum Stage {
    /// Waiting for the browser's share.
    Waiting(PasswordScalar),
    /// The agent's share went out; waiting for the browser's confirmation.
    Confirming {
        confirming: Confirming,
        mine: [u8; pake::CONFIRMATION_LEN],
    },
    Verified,
    Failed,
}

/// The check of one session.
#[derive(Debug)]
pub struct Gate {
    session: SessionId,
    stage: Stage,
    /// Set when the offer goes out: the check has [`CHECK_TIME`] from then.
    deadline: Option<Instant>,
    /// The agent's certificate, from the offer it made.
    agent_fingerprint: Option<Result<String, String>>,
    /// The browser's certificate, from the first answer applied.
    expert_fingerprint: Option<Result<String, String>>,
    events: VecDeque<GateEvent>,
}

impl Gate {
    /// The check for `session`, which the novice said yes to.
    pub fn new(proof: &Proof, session: SessionId) -> Self {
        let stage = match proof {
            Proof::Exchange(w) => Stage::Waiting(w.clone()),
            Proof::ServerVouched => Stage::Verified,
        };
        Self {
            session,
            stage,
            deadline: None,
            agent_fingerprint: None,
            expert_fingerprint: None,
            events: VecDeque::new(),
        }
    }

    pub fn is_verified(&self) -> bool {
        matches!(self.stage, Stage::Verified)
    }

    pub fn poll_event(&mut self) -> Option<GateEvent> {
        self.events.pop_front()
    }

    /// When [`Gate::handle_timeout`] has something to do, while the check runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.stage {
            Stage::Waiting(_) | Stage::Confirming { .. } => self.deadline,
            Stage::Verified | Stage::Failed => None,
        }
    }

    /// The offer the agent made at `now` (its first one names the agent's certificate, and
    /// starts the clock).
    pub fn handle_offer(&mut self, sdp: &str, now: Instant) {
        self.deadline.get_or_insert(now + CHECK_TIME);
        self.agent_fingerprint
            .get_or_insert_with(|| sdp_fingerprint(sdp));
    }

    /// An answer from the browser, about to be applied (the first one names the certificate
    /// the connection checks the browser's against).
    pub fn handle_answer(&mut self, sdp: &str) {
        self.expert_fingerprint
            .get_or_insert_with(|| sdp_fingerprint(sdp));
    }

    /// A message from the browser. Returns whether it belonged to the check; nothing else is
    /// for the gate.
    pub fn handle_message(
        &mut self,
        message: &DataMessage,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> bool {
        match message {
            DataMessage::Pake { share } => {
                self.handle_share(share, rng);
                true
            }
            DataMessage::PakeConfirm { mac } => {
                self.handle_confirmation(mac);
                true
            }
            _ => false,
        }
    }

    fn handle_share(
        &mut self,
        share: &HexBytes<{ pake::SHARE_LEN }>,
        rng: &mut (impl RngCore + CryptoRng),
    ) {
        let Stage::Waiting(w) = &self.stage else {
            // A second share, or one after the end: the exchange is not started over.
            return;
        };
        let aad = match (&self.agent_fingerprint, &self.expert_fingerprint) {
            (Some(Ok(agent)), Some(Ok(expert))) => {
                pake::session_aad(&self.session.to_string(), agent, expert)
            }
            (Some(Err(why)), _) => {
                return self.fail(GateFailure::Certificates(format!("the offer {why}")))
            }
            (_, Some(Err(why))) => {
                return self.fail(GateFailure::Certificates(format!("the answer {why}")))
            }
            _ => {
                return self.fail(GateFailure::Certificates(
                    "the check began before the connection was negotiated".into(),
                ))
            }
        };
        let started = Spake2::start(Role::Agent, w, ID_AGENT, ID_EXPERT, &aad, rng).and_then(
            |(exchange, mine)| {
                exchange
                    .finish(&share.0)
                    .map(|(confirming, confirmation)| (confirming, confirmation, mine))
            },
        );
        match started {
            Ok((confirming, confirmation, my_share)) => {
                self.events
                    .push_back(GateEvent::ToExpert(DataMessage::Pake {
                        share: HexBytes(my_share),
                    }));
                self.stage = Stage::Confirming {
                    confirming,
                    mine: confirmation,
                };
            }
            Err(err) => self.fail(GateFailure::Malformed(err.to_string())),
        }
    }

    fn handle_confirmation(&mut self, mac: &Confirmation) {
        match std::mem::replace(&mut self.stage, Stage::Failed) {
            Stage::Confirming { confirming, mine } => match confirming.verify(&mac.0) {
                Ok(_key) => {
                    self.stage = Stage::Verified;
                    self.events
                        .push_back(GateEvent::ToExpert(DataMessage::PakeConfirm {
                            mac: HexBytes(mine),
                        }));
                    self.events.push_back(GateEvent::Verified);
                }
                Err(_) => self.fail(GateFailure::Mismatch),
            },
            Stage::Waiting(w) => {
                // A confirmation before any share proves nothing; it is no guess either.
                self.stage = Stage::Waiting(w);
            }
            done @ (Stage::Verified | Stage::Failed) => self.stage = done,
        }
    }

    /// Time passed: a check not completed by its deadline fails.
    pub fn handle_timeout(&mut self, now: Instant) {
        let running = matches!(self.stage, Stage::Waiting(_) | Stage::Confirming { .. });
        if running && self.deadline.is_some_and(|d| now >= d) {
            self.fail(GateFailure::Timeout);
        }
    }

    fn fail(&mut self, failure: GateFailure) {
        self.stage = Stage::Failed;
        self.events.push_back(GateEvent::Failed(failure));
    }
}

/// The certificate fingerprint an SDP description names (`a=fingerprint:`), as
/// `"sha-256 ab:cd:..."` lowercased; an error unless every such line names the same one.
pub fn sdp_fingerprint(sdp: &str) -> Result<String, String> {
    let mut found: Option<String> = None;
    for line in sdp.lines() {
        let Some(value) = line.trim().strip_prefix("a=fingerprint:") else {
            continue;
        };
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        let value = value.to_ascii_lowercase();
        match &found {
            None => found = Some(value),
            Some(first) if *first == value => {}
            Some(_) => return Err("names several different certificates".into()),
        }
    }
    found.ok_or_else(|| "names no certificate".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invitation::record::HeldInvitation;
    use crate::invitation::secret::InvitationSecret;
    use protocol::ids::InvitationId;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const AGENT_FP: &str = "sha-256 AA:BB:CC";
    const EXPERT_FP: &str = "sha-256 11:22:33";

    fn sdp(fingerprints: &[&str]) -> String {
        let mut s = String::from("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n");
        for fp in fingerprints {
            s.push_str(&format!(
                "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fingerprint:{fp}\r\n"
            ));
        }
        s
    }

    struct Fixture {
        invitation: InvitationId,
        session: SessionId,
        secret: InvitationSecret,
        rng: StdRng,
        now: Instant,
    }

    fn fixture() -> Fixture {
        Fixture {
            invitation: InvitationId::new_random(),
            session: SessionId::new_random(),
            secret: InvitationSecret::parse("9FZQ2WAB").expect("valid"),
            rng: StdRng::seed_from_u64(9),
            now: Instant::now(),
        }
    }

    impl Fixture {
        /// The agent's gate, past negotiation with the fingerprints each side sees.
        fn gate(&self, password: Option<&str>, expert_fp_seen: &str) -> Gate {
            let held = HeldInvitation::link(
                self.invitation,
                &self.secret,
                password,
                self.now + Duration::from_secs(3600),
            );
            let mut gate = Gate::new(held.proof(), self.session);
            gate.handle_offer(&sdp(&[AGENT_FP, AGENT_FP]), self.now);
            gate.handle_answer(&sdp(&[expert_fp_seen]));
            gate
        }

        /// The browser's side, as web/static/js/pake.js runs it, with what it typed and the
        /// fingerprints it sees.
        fn browser(&mut self, password: Option<&str>, agent_fp_seen: &str) -> (Spake2, [u8; 65]) {
            let w = PasswordScalar::derive(
                &self.invitation.to_string(),
                &self.secret.exchange_password(password),
            );
            let aad = pake::session_aad(&self.session.to_string(), agent_fp_seen, EXPERT_FP);
            Spake2::start(Role::Expert, &w, ID_AGENT, ID_EXPERT, &aad, &mut self.rng)
                .expect("starts")
        }
    }

    fn drain(gate: &mut Gate) -> Vec<GateEvent> {
        std::iter::from_fn(|| gate.poll_event()).collect()
    }

    fn agent_share(events: &[GateEvent]) -> [u8; 65] {
        match events {
            [GateEvent::ToExpert(DataMessage::Pake { share })] => share.0,
            other => panic!("expected the agent's share, got {other:?}"),
        }
    }

    /// Runs the whole exchange; returns what the gate said after the browser's confirmation.
    fn exchange(
        f: &mut Fixture,
        gate: &mut Gate,
        typed: Option<&str>,
        agent_fp_seen: &str,
    ) -> Vec<GateEvent> {
        let (browser, share) = f.browser(typed, agent_fp_seen);
        let mut rng = StdRng::seed_from_u64(1);
        let share = DataMessage::Pake {
            share: HexBytes(share),
        };
        assert!(gate.handle_message(&share, &mut rng));
        assert!(!gate.is_verified(), "a share alone proves nothing");
        let theirs = agent_share(&drain(gate));
        let (_, mac) = browser.finish(&theirs).expect("a valid share");
        gate.handle_message(&DataMessage::PakeConfirm { mac: HexBytes(mac) }, &mut rng);
        drain(gate)
    }

    #[test]
    fn the_right_password_opens_the_gate_and_the_agent_confirms_last() {
        let mut f = fixture();
        let mut gate = f.gate(Some("tulip"), EXPERT_FP);
        let events = exchange(&mut f, &mut gate, Some("tulip"), AGENT_FP);
        assert!(matches!(
            events.as_slice(),
            [
                GateEvent::ToExpert(DataMessage::PakeConfirm { .. }),
                GateEvent::Verified
            ]
        ));
        assert!(gate.is_verified());
        assert_eq!(gate.poll_timeout(), None);
    }

    #[test]
    fn the_browser_accepts_the_agent_only_with_the_right_password() {
        let mut f = fixture();
        let mut gate = f.gate(None, EXPERT_FP);
        let (browser, share) = f.browser(None, AGENT_FP);
        let mut rng = StdRng::seed_from_u64(2);
        gate.handle_message(
            &DataMessage::Pake {
                share: HexBytes(share),
            },
            &mut rng,
        );
        let theirs = agent_share(&drain(&mut gate));
        let (confirming, mac) = browser.finish(&theirs).expect("valid");
        gate.handle_message(&DataMessage::PakeConfirm { mac: HexBytes(mac) }, &mut rng);
        let Some(GateEvent::ToExpert(DataMessage::PakeConfirm { mac })) = gate.poll_event() else {
            panic!("the agent confirms");
        };
        assert!(
            confirming.verify(&mac.0).is_ok(),
            "the browser accepts the agent"
        );
    }

    #[test]
    fn a_wrong_password_fails_counted_and_never_shows_the_agents_confirmation() {
        let mut f = fixture();
        let mut gate = f.gate(Some("tulip"), EXPERT_FP);
        let events = exchange(&mut f, &mut gate, Some("rose"), AGENT_FP);
        assert_eq!(events, vec![GateEvent::Failed(GateFailure::Mismatch)]);
        assert!(GateFailure::Mismatch.counts());
        assert!(!gate.is_verified());
        // Nothing more comes of it: a second confirmation or share changes nothing.
        let mut rng = StdRng::seed_from_u64(3);
        gate.handle_message(
            &DataMessage::PakeConfirm {
                mac: HexBytes([0; 32]),
            },
            &mut rng,
        );
        gate.handle_message(
            &DataMessage::Pake {
                share: HexBytes([4; 65]),
            },
            &mut rng,
        );
        assert!(drain(&mut gate).is_empty());
        assert!(!gate.is_verified());
    }

    #[test]
    fn a_missing_secret_is_a_wrong_password() {
        // A link cut before its '#': the browser has no secret, only the password.
        let mut f = fixture();
        let mut gate = f.gate(None, EXPERT_FP);
        let (browser, share) = {
            let w = PasswordScalar::derive(&f.invitation.to_string(), "");
            let aad = pake::session_aad(&f.session.to_string(), AGENT_FP, EXPERT_FP);
            Spake2::start(Role::Expert, &w, ID_AGENT, ID_EXPERT, &aad, &mut f.rng).expect("starts")
        };
        let mut rng = StdRng::seed_from_u64(4);
        gate.handle_message(
            &DataMessage::Pake {
                share: HexBytes(share),
            },
            &mut rng,
        );
        let theirs = agent_share(&drain(&mut gate));
        let (_, mac) = browser.finish(&theirs).expect("valid");
        gate.handle_message(&DataMessage::PakeConfirm { mac: HexBytes(mac) }, &mut rng);
        assert_eq!(
            drain(&mut gate),
            vec![GateEvent::Failed(GateFailure::Mismatch)]
        );
    }

    #[test]
    fn a_relay_with_its_own_certificates_fails_even_with_the_right_password() {
        // The agent sees the relay's certificate in the answer; the browser sees the relay's in
        // the offer.
        let mut f = fixture();
        let mut gate = f.gate(Some("tulip"), "sha-256 66:66:66");
        let events = exchange(&mut f, &mut gate, Some("tulip"), "sha-256 77:77:77");
        assert_eq!(events, vec![GateEvent::Failed(GateFailure::Mismatch)]);
        // Only one side rewritten is enough.
        let mut f = fixture();
        let mut gate = f.gate(Some("tulip"), EXPERT_FP);
        let events = exchange(&mut f, &mut gate, Some("tulip"), "sha-256 77:77:77");
        assert_eq!(events, vec![GateEvent::Failed(GateFailure::Mismatch)]);
    }

    #[test]
    fn an_answer_naming_two_certificates_is_refused_before_any_guess() {
        let mut f = fixture();
        let held = HeldInvitation::link(f.invitation, &f.secret, None, f.now + CHECK_TIME);
        let mut gate = Gate::new(held.proof(), f.session);
        gate.handle_offer(&sdp(&[AGENT_FP]), f.now);
        gate.handle_answer(&sdp(&[EXPERT_FP, "sha-256 66:66:66"]));
        let (_, share) = f.browser(None, AGENT_FP);
        gate.handle_message(
            &DataMessage::Pake {
                share: HexBytes(share),
            },
            &mut f.rng,
        );
        let events = drain(&mut gate);
        assert!(
            matches!(events.as_slice(), [GateEvent::Failed(GateFailure::Certificates(why))] if why.contains("several")),
            "{events:?}"
        );
        assert!(!GateFailure::Certificates(String::new()).counts());
    }

    #[test]
    fn a_share_that_is_no_point_is_refused_uncounted() {
        let mut f = fixture();
        let mut gate = f.gate(None, EXPERT_FP);
        let mut not_a_point = [0xff; 65];
        not_a_point[0] = 4;
        gate.handle_message(
            &DataMessage::Pake {
                share: HexBytes(not_a_point),
            },
            &mut f.rng,
        );
        let events = drain(&mut gate);
        assert!(
            matches!(
                events.as_slice(),
                [GateEvent::Failed(GateFailure::Malformed(_))]
            ),
            "{events:?}"
        );
        assert!(!GateFailure::Malformed(String::new()).counts());
    }

    #[test]
    fn a_browser_that_never_completes_the_check_times_out_uncounted() {
        let mut f = fixture();
        let mut gate = f.gate(None, EXPERT_FP);
        let (_, share) = f.browser(None, AGENT_FP);
        gate.handle_message(
            &DataMessage::Pake {
                share: HexBytes(share),
            },
            &mut f.rng,
        );
        drain(&mut gate);
        let deadline = gate.poll_timeout().expect("a deadline while checking");
        gate.handle_timeout(deadline - Duration::from_millis(1));
        assert!(drain(&mut gate).is_empty());
        gate.handle_timeout(deadline);
        assert_eq!(
            drain(&mut gate),
            vec![GateEvent::Failed(GateFailure::Timeout)]
        );
        assert!(!GateFailure::Timeout.counts());
    }

    #[test]
    fn other_messages_are_not_the_gates_and_a_vouched_session_is_open() {
        let mut f = fixture();
        let mut gate = f.gate(None, EXPERT_FP);
        let chat = DataMessage::Chat {
            from: "x".into(),
            text: "y".into(),
        };
        assert!(!gate.handle_message(&chat, &mut f.rng));
        assert!(!gate.is_verified());
        let vouched = Gate::new(&Proof::ServerVouched, f.session);
        assert!(vouched.is_verified());
        assert_eq!(vouched.poll_timeout(), None);
    }

    #[test]
    fn fingerprints_are_read_as_the_binding_writes_them() {
        assert_eq!(
            sdp_fingerprint(
                "v=0\r\na=fingerprint:sha-256  AB:CD\r\nm=x\r\na=fingerprint:SHA-256 ab:cd\r\n"
            ),
            Ok("sha-256 ab:cd".into())
        );
        assert!(sdp_fingerprint("v=0\r\n").is_err());
        assert!(sdp_fingerprint("a=fingerprint:sha-256 AB\na=fingerprint:sha-256 AC\n").is_err());
    }
}
