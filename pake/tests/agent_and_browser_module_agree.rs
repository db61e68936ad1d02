//! The agent's Rust crate and the console's JavaScript module run one exchange against each
//! other: the Rust test plays the agent (party A), Node plays the expert's browser (party B) with
//! `web/static/js/pake.js` itself, through `tests/expert_in_node.mjs`. Node must be installed
//! (`scripts/install-deps.sh` installs it): without it these tests fail, they do not skip.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use pake::{session_aad, PakeError, PasswordScalar, Role, SessionKey, Spake2};
use rand::rngs::OsRng;

const INVITATION: &str = "3f1c2a9e-5b7d-4e21-9c0a-7d8e6f5a4b3c";
const SESSION: &str = "9d2f4c1e-0a7b-4c3d-8e5f-6a7b8c9d0e1f";
const AGENT_FINGERPRINT: &str = "sha-256 4a:f2:0c:91:5e:77:13:b8:2d:c4:a6:09:e1:3f:58:7b:90:2c:d1:6e:44:a3:b7:18:0f:c9:52:e6:8d:31:7a:05";
const EXPERT_FINGERPRINT: &str = "SHA-256 0B:7E:C3:54:19:A8:F6:2D:91:E0:4B:37:C2:8A:65:1F:D9:03:B4:7C:E8:26:5A:90:1D:F3:6B:C7:48:02:AE:39";

/// The expert's browser, played by Node running the console's module.
struct Browser {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Browser {
    fn start(password: &str, agent_fingerprint: &str, expert_fingerprint: &str) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/expert_in_node.mjs");
        let mut child = Command::new("node")
            .args([
                script,
                INVITATION,
                password,
                SESSION,
                agent_fingerprint,
                expert_fingerprint,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the console's module; scripts/install-deps.sh installs it");
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, tag: &str, bytes: &[u8]) {
        writeln!(self.stdin, "{tag} {}", hex::encode(bytes)).expect("node reads its stdin");
    }

    /// The next line from the browser, as (tag, payload).
    fn receive(&self) -> (String, String) {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(30))
            .expect("node answers within 30 s (see its stderr above)");
        let (tag, payload) = line.split_once(' ').unwrap_or((&line, ""));
        (tag.to_owned(), payload.to_owned())
    }

    fn expect(&self, tag: &str) -> Vec<u8> {
        let (got, payload) = self.receive();
        assert_eq!(got, tag, "the browser said {got} {payload}");
        hex::decode(payload).expect("hex from the browser")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one exchange, the agent here and the browser in Node. Returns the agent's outcome and
/// the browser's last line.
fn run(
    agent_password: &str,
    browser_password: &str,
    browser_sees_expert: &str,
) -> (Result<SessionKey, PakeError>, (String, String)) {
    let mut browser = Browser::start(browser_password, AGENT_FINGERPRINT, browser_sees_expert);
    let w = PasswordScalar::derive(INVITATION, agent_password);
    // The agent reads the expert's fingerprint from the browser's SDP, the browser from its own
    // certificate: the case may differ, the binding may not.
    let aad = session_aad(
        SESSION,
        AGENT_FINGERPRINT,
        &EXPERT_FINGERPRINT.to_lowercase(),
    );
    let (agent, share) = Spake2::start(Role::Agent, &w, b"agent", b"expert", &aad, &mut OsRng)
        .expect("the AAD is short");
    browser.send("share", &share);
    let (agent, confirmation) = agent
        .finish(&browser.expect("share"))
        .expect("the browser sends a valid share");
    let browser_confirmation = browser.expect("confirmation");
    browser.send("confirmation", &confirmation);
    (agent.verify(&browser_confirmation), browser.receive())
}

#[test]
fn the_right_password_gives_both_sides_the_same_key() {
    let (agent, (tag, browser_key)) = run("correct horse", "correct horse", EXPERT_FINGERPRINT);
    assert_eq!(tag, "key", "the browser refused: {browser_key}");
    assert_eq!(hex::encode(agent.unwrap().as_bytes()), browser_key);
}

#[test]
fn a_wrong_password_makes_both_sides_refuse() {
    let (agent, browser) = run("correct horse", "correct horse!", EXPERT_FINGERPRINT);
    assert_eq!(agent.err(), Some(PakeError::ConfirmationMismatch));
    assert_eq!(
        browser,
        ("refused".to_owned(), "confirmation-mismatch".to_owned())
    );
}

#[test]
fn another_certificate_seen_by_the_browser_makes_both_sides_refuse() {
    // A relay terminating DTLS would show the browser its own certificate as the expert's.
    let relay = "sha-256 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
    let (agent, browser) = run("correct horse", "correct horse", relay);
    assert_eq!(agent.err(), Some(PakeError::ConfirmationMismatch));
    assert_eq!(
        browser,
        ("refused".to_owned(), "confirmation-mismatch".to_owned())
    );
}
