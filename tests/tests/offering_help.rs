//! The support desk reaching out, end to end with every real component: an administrator
//! creates an operator and an enrolment token on the dashboard, the agent enrols with it and
//! stays online on an Xvfb desktop, and the operator's *Offer help* leads, after the novice's
//! yes at the agent's prompt, to video decoded in the operator's browser. Meanwhile the
//! administrator's dashboard follows every step live, and an operator of another organisation
//! sees nothing and cannot offer.

use anyhow::{Context, Result};
use tests::browser::{Browser, Page};
use tests::console::{frames_decoded, text, wait_state, WAIT};
use tests::desk::{
    create_admin, fill_and_submit, page_kind, server_with_admin, sign_in, ADMIN_PASSWORD,
};
use tests::stack::AgentProcess;
use tests::xvfb::Xvfb;

const OPERATOR_PASSWORD: &str = "olga's long password";

/// Waits until `js` (evaluated on the dashboard) is truthy.
async fn dashboard_shows(page: &Page, js: &str, what: &str) -> Result<()> {
    page.wait_for(js, WAIT, what)
        .await
        .with_context(|| format!("dashboard console: {:?}", page.console()))?;
    Ok(())
}

async fn signed_in_page(
    browser: &Browser,
    base: &str,
    login: &str,
    password: &str,
) -> Result<Page> {
    let page = browser
        .open_landing_on(&format!("{base}/desk"), &format!("{base}/desk/sign-in"))
        .await?;
    sign_in(&page, login, password).await?;
    assert_eq!(
        page_kind(&page).await?,
        "dashboard",
        "{}",
        text(&page, "document.body.textContent").await?
    );
    Ok(page)
}

#[tokio::test]
async fn an_operator_offers_help_and_the_dashboard_follows_live() -> Result<()> {
    let xvfb = Xvfb::start(1024, 768)?;
    xvfb.fill("#3060c0")?;
    let server = server_with_admin().await?;
    let base = tests::desk::base(&server);

    // The administrator creates an operator and a one-machine enrolment token.
    let admin_browser = Browser::launch().await?;
    let admin = signed_in_page(&admin_browser, &base, "ada", ADMIN_PASSWORD).await?;
    fill_and_submit(
        &admin,
        "#new-operator",
        &[
            ("login", "olga"),
            ("name", "Olga"),
            ("password", OPERATOR_PASSWORD),
        ],
    )
    .await?;
    assert!(text(&admin, "document.body.textContent")
        .await?
        .contains("Operator created"));
    let token_page = admin_browser.open(&format!("{base}/desk")).await?;
    let admin = admin_browser.open(&format!("{base}/desk")).await?;
    fill_and_submit(
        &token_page,
        "#new-token",
        &[("valid_hours", "2"), ("uses", "1")],
    )
    .await?;
    assert_eq!(page_kind(&token_page).await?, "token");
    let token = text(&token_page, "document.getElementById('token').textContent").await?;

    // The machine enrols once and stays online.
    let mut enrol =
        AgentProcess::start(&base, "Nora's laptop", &["enroll", "--token", &token]).await?;
    enrol
        .expect_line("This machine is now managed by Acme", WAIT)
        .await?;
    let mut online = enrol.start_beside(&[
        "online",
        "--display",
        xvfb.display(),
        "--local-ip",
        "127.0.0.1",
    ])?;
    online
        .expect_line("Waiting for the support desk to offer help", WAIT)
        .await?;
    dashboard_shows(
        &admin,
        "document.querySelector('#machines tbody tr[data-online=\"true\"] td.name')?.textContent === \"Nora's laptop\"",
        "the machine online on the dashboard",
    )
    .await?;

    // Another organisation's operator sees nothing of Acme, and cannot offer help to it.
    create_admin(&server, "Globex", "gus", "Gus").await?;
    let other_browser = Browser::launch().await?;
    let other = signed_in_page(&other_browser, &base, "gus", ADMIN_PASSWORD).await?;
    other
        .wait_for(
            "document.body.dataset.feed === 'live'",
            WAIT,
            "Globex's live feed",
        )
        .await?;
    assert_eq!(
        other
            .eval("document.querySelectorAll('#machines tbody tr').length")
            .await?,
        0
    );
    let machine_id = text(
        &admin,
        "document.querySelector('#machines tbody tr').dataset.machine",
    )
    .await?;
    other
        .eval(&format!(
            r#"(() => {{ const f = document.createElement("form"); f.method = "post";
                f.action = "/desk/machines/{machine_id}/offer"; f.id = "forged";
                const t = document.createElement("input"); t.name = "csrf";
                t.value = document.body.dataset.csrf; f.append(t); document.body.append(f); }})()"#
        ))
        .await?;
    tests::desk::submit_and_wait(&other, "#forged").await?;
    assert_eq!(page_kind(&other).await?, "message");
    assert_eq!(
        text(&other, "document.getElementById('headline').textContent").await?,
        "No such machine"
    );

    // The operator offers help; the novice is asked, naming the operator and the desk.
    let operator_browser = Browser::launch().await?;
    let operator = signed_in_page(&operator_browser, &base, "olga", OPERATOR_PASSWORD).await?;
    dashboard_shows(
        &operator,
        "document.querySelector('#machines button.offer') && !document.querySelector('#machines button.offer').disabled",
        "Offer help enabled for the online machine",
    )
    .await?;
    tests::desk::submit_and_wait(&operator, "#machines form").await?;
    wait_state(&operator, "waiting").await?;
    let question = online.expect_line("offers to help you", WAIT).await?;
    assert!(
        question.contains("Olga from the Acme support desk offers to help you"),
        "{question}"
    );
    dashboard_shows(
        &admin,
        "document.querySelector('#sessions tbody tr')?.dataset.mode === 'asking'",
        "the session being asked on the dashboard",
    )
    .await?;

    // Yes: the operator's page becomes the live console with decoded video.
    online.type_line("y").await?;
    wait_state(&operator, "live").await?;
    operator
        .wait_for(
            "Number(document.getElementById('quality').dataset.framesDecoded ?? 0) > 0",
            WAIT,
            "decoded frames in the operator's console",
        )
        .await?;
    assert!(frames_decoded(&operator).await? > 0);
    dashboard_shows(
        &admin,
        "(() => { const r = document.querySelector('#sessions tbody tr'); \
          return r && r.dataset.mode === 'view' && Number(r.dataset.fps) > 0 \
            && Number(r.dataset.kbps) > 0 \
            && r.querySelector('.expert').textContent.startsWith('Olga'); })()",
        "the live session with the agent's frame rate and bitrate",
    )
    .await?;

    // Control granted by the novice shows on the dashboard too.
    operator.click("#control").await?;
    online
        .expect_line("wants to control your computer", WAIT)
        .await?;
    online.type_line("y").await?;
    dashboard_shows(
        &admin,
        "document.querySelector('#sessions tbody tr')?.dataset.mode === 'control'",
        "control on the dashboard",
    )
    .await?;

    // The machine goes away: the session ends and the machine shows offline.
    drop(online);
    dashboard_shows(
        &admin,
        "document.querySelectorAll('#sessions tbody tr').length === 0 \
         && document.querySelector('#machines tbody tr')?.dataset.online === 'false'",
        "the machine offline and no session",
    )
    .await?;

    // The audit log recorded it all; the dashboard filters it and exports it.
    admin
        .eval(
            "(() => { const f = document.getElementById('audit-filter'); \
              f.elements.kind.value = 'control_granted'; \
              f.dispatchEvent(new Event('input')); })()",
        )
        .await?;
    dashboard_shows(
        &admin,
        "(() => { const rows = [...document.querySelectorAll('#audit tbody tr')]; \
          return rows.length === 1 && rows[0].dataset.kind === 'control_granted'; })()",
        "the audit log filtered to the control grant",
    )
    .await?;
    let csv = text(
        &admin,
        "fetch('/desk/audit.csv?kind=help_offered').then((r) => r.text())",
    )
    .await?;
    assert!(
        csv.contains("help_offered") && csv.contains("olga"),
        "{csv}"
    );
    let other_csv = text(
        &other_page_after(&other_browser, &base).await?,
        "fetch('/desk/audit.json').then((r) => r.text())",
    )
    .await?;
    assert!(!other_csv.contains("help_offered"), "{other_csv}");
    server.stop().await;
    Ok(())
}

/// A fresh dashboard tab of a browser that is signed in.
async fn other_page_after(browser: &Browser, base: &str) -> Result<Page> {
    browser.open(&format!("{base}/desk")).await
}
