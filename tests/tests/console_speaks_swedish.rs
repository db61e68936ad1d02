//! A browser set to Swedish gets the expert console and the support desk in Swedish: the
//! server's pages and what their scripts say, with `<html lang>` saying so; the language menu
//! switches to English, and the choice is remembered over the browser's own preference.

use anyhow::Result;
use tests::browser::{Browser, Page};
use tests::console::{text, WAIT};
use tests::desk::{base, page_kind, server_with_admin, sign_in, ADMIN_PASSWORD};

/// What the page shows in its `<h1>`, and the language it says it is in.
async fn heading(page: &Page) -> Result<(String, String)> {
    Ok((
        text(page, "document.querySelector('h1').textContent").await?,
        text(page, "document.documentElement.lang").await?,
    ))
}

/// The text of the element with id `id`.
async fn text_of(page: &Page, id: &str) -> Result<String> {
    text(
        page,
        &format!("document.getElementById('{id}').textContent"),
    )
    .await
}

/// Waits until the dashboard's live feed is up and says so in `word`.
async fn feed_says(page: &Page, word: &str) -> Result<()> {
    let live = format!(
        "document.body.dataset.feed === 'live' \
         && document.getElementById('feed').textContent === '{word}'"
    );
    page.wait_for(&live, WAIT, &format!("the live feed saying {word}"))
        .await?;
    Ok(())
}

/// Clicks the language menu's link to `code` and waits for the page in that language.
async fn switch_to(page: &Page, code: &str, tag: &str) -> Result<()> {
    page.click(&format!("#languages a[data-lang='{code}']"))
        .await?;
    page.wait_for(
        &format!("document.readyState === 'complete' && document.documentElement.lang === '{tag}'"),
        WAIT,
        &format!("the page in {tag}"),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn under_a_swedish_locale_the_console_and_the_desk_speak_swedish() -> Result<()> {
    let server = server_with_admin().await?;
    let browser = Browser::launch_preferring("sv-SE,sv").await?;
    let url = |path: &str| format!("{}{path}", base(&server));

    // An invitation that does not exist, as the server words it.
    let unknown = browser.open(&url("/i/ABCD-EFGH-JKMN")).await?;
    assert_eq!(
        heading(&unknown).await?,
        ("Den här inbjudan finns inte".to_owned(), "sv-SE".to_owned())
    );
    let explanation = text_of(&unknown, "explanation").await?;
    assert!(
        explanation.contains("be om en ny inbjudan"),
        "{explanation}"
    );

    // The short-code page, and what its script says of a code that is not whole.
    let code = browser.open(&url("/i")).await?;
    assert_eq!(heading(&code).await?.0, "Öppna en inbjudan");
    assert_eq!(text_of(&code, "open-code").await?, "Öppna");
    code.type_text("#code", "K7PQ-M2XD").await?;
    code.eval("document.getElementById('code-form').requestSubmit()")
        .await?;
    code.wait_for(
        "document.getElementById('status').textContent.startsWith('Det är inte en hel kod')",
        WAIT,
        "the script's Swedish word on a code that is not whole",
    )
    .await?;

    // The desk's sign-in page, then the dashboard and what its script fills in.
    let desk = browser.open(&url("/desk/sign-in")).await?;
    assert_eq!(
        heading(&desk).await?,
        ("Supportdesk".to_owned(), "sv-SE".to_owned())
    );
    assert_eq!(text_of(&desk, "submit").await?, "Logga in");
    sign_in(&desk, "ada", "a wrong guess").await?;
    assert_eq!(
        text_of(&desk, "error").await?,
        "Fel användarnamn eller lösenord."
    );
    sign_in(&desk, "ada", ADMIN_PASSWORD).await?;
    assert_eq!(page_kind(&desk).await?, "dashboard");
    assert_eq!(heading(&desk).await?.0, "Supportdesk för Acme");
    // The snapshot's tables are drawn before the feed says it is live.
    feed_says(&desk, "Direkt").await?;
    let no_machines = text_of(&desk, "no-machines").await?;
    assert!(
        no_machines.starts_with("Ingen dator är registrerad än.")
            && no_machines.contains("agent enroll --server URL --token TOKEN"),
        "{no_machines}"
    );
    let kinds = text(
        &desk,
        "[...document.querySelector('select[name=kind]').options].map((o) => o.textContent).join('|')",
    )
    .await?;
    assert!(kinds.contains("Hjälp erbjuden"), "{kinds}");

    // The menu switches the dashboard to English, and the choice outweighs the browser's.
    switch_to(&desk, "en", "en-GB").await?;
    assert_eq!(heading(&desk).await?.0, "Acme support desk");
    feed_says(&desk, "Live").await?;
    let again = browser.open(&url("/i")).await?;
    assert_eq!(
        heading(&again).await?,
        ("Open an invitation".to_owned(), "en-GB".to_owned())
    );
    // And back.
    switch_to(&again, "sv", "sv-SE").await?;
    assert_eq!(heading(&again).await?.0, "Öppna en inbjudan");
    server.stop().await;
    Ok(())
}
