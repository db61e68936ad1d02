//! The server e-mails an invitation when the novice asks and an SMTP relay is configured. The
//! relay here is a real SMTP server (Python's aiosmtpd) on loopback that prints every message
//! it receives.

mod common;

use common::{Backend, TestDb, TestServer};
use protocol::api::{CreateInvitationRequest, InvitationCreated};
use secrecy::SecretString;
use signaling_server::config::ServerConfig;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// An SMTP server on a free loopback port; killed on drop.
struct SmtpSink {
    port: u16,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    _child: Child,
}

impl SmtpSink {
    async fn start() -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("/usr/bin/python3")
            .args(["-u", "-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Debugging", "stdout"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 -m aiosmtpd (package python3-aiosmtpd)");
        let stdout = child.stdout.take().expect("stdout");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return SmtpSink {
                    port,
                    lines: BufReader::new(stdout).lines(),
                    _child: child,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not start listening on port {port}");
    }

    /// The next message it received: its header lines and its body.
    async fn next_message(&mut self) -> (Vec<String>, String) {
        let read = async {
            let mut headers = Vec::new();
            let mut body = String::new();
            let mut in_message = false;
            let mut in_body = false;
            while let Some(line) = self.lines.next_line().await.expect("read") {
                if line.contains("MESSAGE FOLLOWS") {
                    in_message = true;
                } else if line.contains("END MESSAGE") {
                    return (headers, body);
                } else if in_message && !in_body && line.is_empty() {
                    in_body = true;
                } else if in_body {
                    body.push_str(&line);
                    body.push('\n');
                } else if in_message {
                    headers.push(line);
                }
            }
            panic!("the SMTP server exited");
        };
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .expect("a message within 30 s")
    }
}

/// Decodes a quoted-printable body (RFC 2045 section 6.7): soft line breaks and `=XX` bytes.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let mut bytes = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        match (b, tail) {
            (b'=', [h, l, after @ ..]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                let hex = [*h, *l];
                let hex = std::str::from_utf8(&hex).expect("ascii");
                bytes.push(u8::from_str_radix(hex, 16).expect("hex"));
                rest = after;
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8(bytes).expect("utf-8")
}

fn config_with_relay(port: u16) -> ServerConfig {
    let mut config = ServerConfig::defaults();
    config.smtp_url = Some(SecretString::from(format!("smtp://127.0.0.1:{port}")));
    config.smtp_from = "Help desk <help@example.org>".into();
    config
}

fn mailed_to(to: &str) -> CreateInvitationRequest {
    CreateInvitationRequest {
        has_password: true,
        email_to: Some(to.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_relay_receives_a_mail_whose_link_opens_the_invitation() {
    let mut sink = SmtpSink::start().await;
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start_with(&db, config_with_relay(sink.port)).await;
    let alice = server.agent("Alice").await;

    let created: InvitationCreated = alice.invite(&mailed_to("Eve <eve@example.org>")).await;
    assert_eq!(created.emailed_to.as_deref(), Some("Eve <eve@example.org>"));
    assert_eq!(created.email_error, None);

    let (headers, body) = sink.next_message().await;
    let header = |name: &str| {
        headers
            .iter()
            .find_map(|h| h.strip_prefix(&format!("{name}: ")))
            .unwrap_or_default()
            .to_owned()
    };
    let (from, to) = (header("From"), header("To"));
    assert!(
        from.contains("Help desk") && from.ends_with("<help@example.org>"),
        "From: {from}"
    );
    assert!(
        to.contains("Eve") && to.ends_with("<eve@example.org>"),
        "To: {to}"
    );
    assert_eq!(
        header("Subject"),
        "Alice asks for your help (remote assistance)"
    );
    assert!(header("Content-Type").starts_with("text/plain"));
    // What the expert's mail program shows.
    let body = match header("Content-Transfer-Encoding").as_str() {
        "quoted-printable" => quoted_printable(&body),
        "7bit" | "8bit" | "" => body,
        other => panic!("unexpected transfer encoding {other}"),
    };
    assert!(
        body.contains(&created.link),
        "the link is in the body: {body}"
    );
    assert!(body.contains(&created.short_code));
    assert!(body.contains("password"), "says a password is needed");
    assert!(!body.contains("tulip"), "never the password itself");

    // The mailed link opens the console of this invitation.
    let page = reqwest::get(&created.link).await.expect("GET the link");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("page").contains("Alice"));

    // Not an address: refused before any invitation is made.
    let (status, error) = alice
        .post_json("/api/invitations", &mailed_to("eve at example"))
        .await;
    assert_eq!(status, 400);
    assert!(error["message"]
        .as_str()
        .is_some_and(|m| m.contains("not an e-mail address")));

    // The relay gone: the invitation is still made and the novice learns why no mail left.
    drop(sink);
    let created = alice.invite(&mailed_to("eve@example.org")).await;
    assert_eq!(created.emailed_to, None);
    assert!(created
        .email_error
        .as_deref()
        .is_some_and(|e| e.contains("mail relay")));
    let (status, _) = alice
        .get_json(&format!("/api/invitations/{}", created.id))
        .await;
    assert_eq!(status, 200, "the invitation exists");
    server.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn without_a_relay_asking_for_e_mail_is_a_clear_refusal() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let alice = server.agent("Alice").await;
    let (status, error) = alice
        .post_json("/api/invitations", &mailed_to("eve@example.org"))
        .await;
    assert_eq!(status, 400);
    assert!(error["message"]
        .as_str()
        .is_some_and(|m| m.contains("cannot send e-mail")));
    let (_, list) = alice.get_json("/api/invitations").await;
    assert_eq!(list, serde_json::json!([]), "no invitation was made");
    server.stop().await;
    db.cleanup().await;
}
