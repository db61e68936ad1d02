//! Invitations sent other ways than a copied link: saved as a file (double-clicked, here opened
//! in headless Chromium, it leads to the console of that invitation; `agent status FILE` reads
//! it back; a changed file is refused, also one whose page sends the browser elsewhere), and
//! by e-mail from the novice's mail program.

use anyhow::{Context, Result};
use tests::browser::Browser;
use tests::console::{invitation_link, WAIT};
use tests::stack::{AgentProcess, ScratchDir, ServerProcess};

/// Why `agent status FILE` refuses `what`, which it must.
async fn status_refusal(agent: &AgentProcess, file: &str, what: &str) -> Result<String> {
    let refused = agent.run(&["status", file]).await;
    Ok(format!(
        "{:#}",
        refused
            .err()
            .with_context(|| format!("{what} must be refused"))?
    ))
}

#[tokio::test]
async fn a_saved_invitation_opens_its_console_and_reads_back_until_changed() -> Result<()> {
    let server = ServerProcess::start().await?;
    let dir = ScratchDir::new("invitation-file")?;
    let file = dir.path().join("help from Nora.html");
    let file_arg = file.to_string_lossy().into_owned();
    let mut agent = AgentProcess::start(
        server.url(),
        "Nora",
        &["invite", "--save", &file_arg, "--local-ip", "127.0.0.1"],
    )
    .await?;
    let link = invitation_link(&mut agent).await?;
    agent.expect_line("Saved as:", WAIT).await?;
    let page_text = std::fs::read_to_string(&file).context("the saved file")?;
    assert!(page_text.contains(&link), "the file holds the link");
    // With the invitation's secret: in the link's fragment, and at the end of the short code.
    let (_, secret) = link.split_once('#').context("the link carries a secret")?;
    let grouped = format!("{}-{}", &secret[..4], &secret[4..]);
    assert!(
        page_text.contains(&format!("-{grouped}</strong>")),
        "{page_text}"
    );

    // Opened in a browser, the file lands on the console of this invitation, secret and all.
    let browser = Browser::launch().await?;
    let url = format!("file://{}", file.display()).replace(' ', "%20");
    let page = browser.open_landing_on(&url, &link).await?;
    page.wait_for(
        "document.getElementById('headline').textContent.includes('Nora') \
         && document.body.dataset.secret === 'link'",
        WAIT,
        "the console naming Nora, with the link's secret",
    )
    .await?;

    // The agent reads it back.
    let status = agent.run(&["status", &file_arg]).await?;
    assert!(
        status.contains("open"),
        "status of a fresh invitation: {status}"
    );

    // A copy that sends the expert elsewhere, its signed JSON untouched, is refused too.
    let elsewhere = "http://203.0.113.7/i/phish";
    let redirected = page_text
        .replace(&format!("url={link}\""), &format!("url={elsewhere}\""))
        .replace(
            &format!("href=\"{link}\""),
            &format!("href=\"{elsewhere}\""),
        );
    assert!(redirected.contains(elsewhere) && redirected.contains(&format!("\"link\": \"{link}")));
    std::fs::write(&file, redirected)?;
    let message = status_refusal(&agent, &file_arg, "a file that redirects elsewhere").await?;
    assert!(message.contains("changed after it was saved"), "{message}");

    // Someone changes the expiry in the file: the agent refuses it, saying why.
    let changed = page_text.replacen("\"expires_at\": ", "\"expires_at\": 1", 1);
    assert_ne!(changed, page_text);
    std::fs::write(&file, changed)?;
    let message = status_refusal(&agent, &file_arg, "a changed file").await?;
    assert!(
        message.contains("changed after it was saved"),
        "the refusal says why: {message}"
    );

    // A file that is no invitation at all.
    std::fs::write(&file, "<html><body>holiday photos</body></html>")?;
    let message = status_refusal(&agent, &file_arg, "a foreign file").await?;
    assert!(message.contains("not an invitation file"), "{message}");
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_mail_program_gets_a_message_whose_link_opens_the_console() -> Result<()> {
    let server = ServerProcess::start().await?;
    let dir = ScratchDir::new("mailto")?;
    // Stands in for the desktop's mail program: writes down the address it was asked to open.
    let opener = dir.path().join("open-mail");
    let opened = dir.path().join("opened.txt");
    std::fs::write(
        &opener,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display()),
    )?;
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&opener)
        .status()?;
    let opener_arg = opener.to_string_lossy().into_owned();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, "tulip\n")?;
    let password_arg = password_file.to_string_lossy().into_owned();
    let mut agent = AgentProcess::start(
        server.url(),
        "Nora",
        &[
            "invite",
            "--password-file",
            &password_arg,
            "--email",
            "eve@example.org",
            "--open-with",
            &opener_arg,
            "--local-ip",
            "127.0.0.1",
        ],
    )
    .await?;
    let link = invitation_link(&mut agent).await?;
    agent.expect_line("Opened your mail program", WAIT).await?;
    let mut address = String::new();
    for _ in 0..100 {
        address = std::fs::read_to_string(&opened).unwrap_or_default();
        if !address.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mail =
        url::Url::parse(&address).with_context(|| format!("a mailto address: {address:?}"))?;
    assert_eq!(mail.scheme(), "mailto");
    assert_eq!(mail.path(), "eve@example.org");
    let field = |name: &str| {
        mail.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    assert!(field("subject").contains("Nora asks for your help"));
    let body = field("body");
    assert!(
        body.contains("password"),
        "says a password is needed: {body}"
    );
    assert!(!body.contains("tulip"), "never holds the password");
    assert!(link.contains('#'), "{link}");

    // The link in the mail works: it opens the console of this invitation.
    let mailed = body
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .context("a link in the body")?;
    assert_eq!(mailed, link);
    let browser = Browser::launch().await?;
    let page = browser.open(mailed).await?;
    page.wait_for(
        "document.getElementById('headline').textContent.includes('Nora')",
        WAIT,
        "the console naming Nora",
    )
    .await?;
    server.stop().await;
    Ok(())
}
