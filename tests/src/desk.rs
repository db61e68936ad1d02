//! Driving the support desk's pages (`/desk`) like a person would.

use crate::browser::Page;
use crate::console::{text, WAIT};
use crate::stack::ServerProcess;
use anyhow::{bail, Result};

/// The password of every administrator the tests create.
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// A server with an administrator `ada` ("Ada Admin") of the organisation "Acme".
pub async fn server_with_admin() -> Result<ServerProcess> {
    let server = ServerProcess::start().await?;
    create_admin(&server, "Acme", "ada", "Ada Admin").await?;
    Ok(server)
}

/// The server's base URL without a trailing slash, to append paths to.
pub fn base(server: &ServerProcess) -> String {
    server.url().trim_end_matches('/').to_owned()
}

/// Runs `signaling-server admin create` on the server's database.
pub async fn create_admin(
    server: &ServerProcess,
    org: &str,
    login: &str,
    name: &str,
) -> Result<()> {
    let out = server
        .command(
            &[
                "admin", "create", "--org", org, "--login", login, "--name", name,
            ],
            ADMIN_PASSWORD,
        )
        .await?;
    if !out.contains(&format!("Administrator {login} of {org} created")) {
        bail!("unexpected output of admin create: {out}");
    }
    Ok(())
}

/// Fills in the sign-in form and submits it; waits for the next page to load.
pub async fn sign_in(page: &Page, login: &str, password: &str) -> Result<()> {
    page.eval("for (const id of ['login', 'password']) document.getElementById(id).value = ''")
        .await?;
    page.type_text("#login", login).await?;
    page.type_text("#password", password).await?;
    submit_and_wait(page, "#sign-in").await
}

/// Submits the form `selector` and waits until the page it leads to has loaded.
pub async fn submit_and_wait(page: &Page, selector: &str) -> Result<()> {
    page.eval("window.__before_submit = true").await?;
    page.eval(&format!(
        "document.querySelector({selector:?}).requestSubmit()"
    ))
    .await?;
    page.wait_for(
        "window.__before_submit === undefined && document.readyState === 'complete'",
        WAIT,
        "the next page to load",
    )
    .await?;
    Ok(())
}

/// Which desk page the tab shows: `sign-in`, `dashboard`, `message`, `token`.
pub async fn page_kind(page: &Page) -> Result<String> {
    text(page, "document.body.dataset.page").await
}

/// Sets the fields of the form `form` (by name) and submits it.
pub async fn fill_and_submit(page: &Page, form: &str, fields: &[(&str, &str)]) -> Result<()> {
    for (name, value) in fields {
        page.eval(&format!(
            "document.querySelector({form:?}).elements[{name:?}].value = {value:?}"
        ))
        .await?;
    }
    submit_and_wait(page, form).await
}
