//! The agent's HTTP client for the signaling server, and where it keeps its credential.
//!
//! The agent registers once per server and keeps the returned token in a file readable only by
//! the novice (`<state dir>/agent.json`, mode 0600), which holds one credential per server (a
//! file of the older format, one credential alone, reads as a list of one). The credential is
//! the machine's identity on that server: its invitations belong to it, so it is kept whatever
//! `--name` is given later. The server has no way to rename a registration, so a different
//! name is reported ([`ServerApi::name_kept`]) and the registered one stays. Only a token the
//! server no longer knows (for example after the server's database was reset) is replaced, by
//! registering again, and the agent says so.
//!
//! A machine enrolled into an organisation (`agent enroll`) keeps that credential apart, in
//! `<state dir>/enrolment.json`, in the same format with the organisation's name added. On its
//! server it is used for everything, whatever name is asked for, and it is never replaced by
//! an anonymous registration: only a new `agent enroll` replaces it.

use protocol::api::{
    CreateInvitationRequest, DirectInvitationRequest, DirectInvitationSent, EnrollRequest,
    EnrollResponse, ErrorBody, ExpertSummary, FailedChecks, InvitationCreated, InvitationSummary,
    RegisterAgentRequest, RegisterAgentResponse,
};
use protocol::ids::InvitationId;
use protocol::text::clean;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot reach the server at {url}: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the server sent an unexpected answer ({status}): {body}")]
    Unexpected { status: u16, body: String },
    #[error("cannot read or write the credential file {path}: {source}")]
    Credentials {
        path: String,
        source: std::io::Error,
    },
    #[error("the credential file {path} is damaged, so this machine's registrations cannot be read; move it away to register anew (your invitations made with it can then no longer be listed or revoked)")]
    DamagedCredentials { path: String },
    #[error("the server {server} no longer accepts this machine's enrolment with {organisation}; ask your administrator for a new enrolment token and run `agent enroll` again")]
    EnrolmentRefused {
        server: String,
        organisation: String,
    },
}

impl ApiError {
    fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Refused { status: 401, .. })
    }
}

/// The stored credential for one server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub server: String,
    pub name: String,
    pub token: String,
    /// The organisation this machine is enrolled into; absent for a plain registration (and in
    /// files written before enrolment existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

/// The file of the anonymous registrations, one per server.
const REGISTRATION_FILE: &str = "agent.json";

/// What `agent.json` holds: the machine's registration on each server it has used.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Registrations {
    registrations: Vec<Credentials>,
}

/// What became of the name asked for when connecting with a stored credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameChange {
    /// The server shows the machine as `kept`; `asked` could not replace it.
    Kept { kept: String, asked: String },
    /// The server had forgotten the stored credential; the machine registered anew.
    Reregistered,
}
/// The file of the enrolled machine's credential.
const ENROLMENT_FILE: &str = "enrolment.json";
/// Invitations asked for per page of `GET /api/invitations` (the most the server hands out).
pub const INVITATIONS_PAGE: usize = 200;

/// The server's address as credentials record it: without a trailing slash.
fn normalise(server: &str) -> String {
    server.trim_end_matches('/').to_string()
}

fn http_client(base: &str) -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|source| ApiError::Unreachable {
            url: base.to_string(),
            source,
        })
}

/// A client bound to one server and, once registered, one agent.
#[derive(Clone, Debug)]
pub struct ServerApi {
    base: String,
    http: reqwest::Client,
    creds: Credentials,
    /// Set by [`ServerApi::connect`] when the credential's name is not the one asked for, or the
    /// credential had to be replaced.
    name_change: Option<NameChange>,
    /// Where the credential lives, and the invitations revoked from this machine
    /// ([`REVOKED_FILE`]).
    state_dir: PathBuf,
}

/// Invitations the novice revoked on this machine, one id a line: every agent program of the
/// machine refuses them whatever the server says.
const REVOKED_FILE: &str = "revoked-invitations";

impl ServerApi {
    /// Loads the credential for `server` from `state_dir`: the machine's enrolment when it is
    /// enrolled on that server, else its registration there, registering when there is none or
    /// the server refuses it. A stored registration is kept whatever `name` says (see
    /// [`ServerApi::name_kept`]); registrations on other servers are left as they are.
    pub async fn connect(server: &str, name: &str, state_dir: &Path) -> Result<Self, ApiError> {
        let base = normalise(server);
        let http = http_client(&base)?;
        if let Some(api) = Self::enrolled(Some(&base), state_dir)? {
            return match api.check().await {
                Ok(()) => Ok(api),
                Err(e) if e.is_unauthorized() => Err(api.enrolment_refused()),
                Err(e) => Err(e),
            };
        }
        let file = state_dir.join(REGISTRATION_FILE);
        let mut stored = read_registrations(&file)?;
        let mut name_change = None;
        if let Some(creds) = stored.credential(&base) {
            let api = Self {
                base: base.clone(),
                http: http.clone(),
                creds: creds.clone(),
                name_change: (creds.name != name.trim()).then(|| NameChange::Kept {
                    kept: creds.name.clone(),
                    asked: name.trim().to_string(),
                }),
                state_dir: state_dir.to_owned(),
            };
            match api.check().await {
                Ok(()) => return Ok(api),
                Err(e) if e.is_unauthorized() => {
                    tracing::info!("stored credential refused; registering again");
                    name_change = Some(NameChange::Reregistered);
                }
                Err(e) => return Err(e),
            }
        }
        let reg: RegisterAgentResponse = send(
            http.post(format!("{base}/api/agents"))
                .json(&RegisterAgentRequest { name: name.into() }),
            &base,
        )
        .await?;
        let creds = Credentials {
            server: base.clone(),
            name: name.trim().into(),
            token: reg.agent_token,
            organisation: None,
        };
        stored.put(creds.clone());
        write_json(&file, &stored)?;
        Ok(Self {
            base,
            http,
            creds,
            name_change,
            state_dir: state_dir.to_owned(),
        })
    }

    /// When [`ServerApi::connect`] kept a stored registration under another name than the one
    /// asked for, or had to register anew because the server no longer knew it.
    pub fn name_kept(&self) -> Option<&NameChange> {
        self.name_change.as_ref()
    }

    /// Enrols this machine as `name` into the organisation that made the enrolment `token`,
    /// and keeps the credential (replacing an earlier enrolment).
    pub async fn enroll(
        server: &str,
        token: &str,
        name: &str,
        state_dir: &Path,
    ) -> Result<Self, ApiError> {
        let base = normalise(server);
        let http = http_client(&base)?;
        let enrolled: EnrollResponse = send(
            http.post(format!("{base}/api/enroll"))
                .json(&EnrollRequest {
                    token: token.trim().into(),
                    name: name.into(),
                }),
            &base,
        )
        .await?;
        let creds = Credentials {
            server: base.clone(),
            name: name.trim().into(),
            token: enrolled.agent_token,
            organisation: Some(enrolled.organisation),
        };
        write_json(&state_dir.join(ENROLMENT_FILE), &creds)?;
        Ok(Self {
            base,
            http,
            creds,
            name_change: None,
            state_dir: state_dir.to_owned(),
        })
    }

    /// The enrolled machine's credential from `state_dir`, without asking the server: on
    /// `server` if given, else on whichever server it was enrolled with. `None` when this
    /// machine is not enrolled (there).
    pub fn enrolled(server: Option<&str>, state_dir: &Path) -> Result<Option<Self>, ApiError> {
        let wanted = server.map(normalise);
        let Some(creds) = read_credentials(&state_dir.join(ENROLMENT_FILE))?
            .filter(|c| c.organisation.is_some())
            .filter(|c| wanted.as_ref().is_none_or(|w| *w == c.server))
        else {
            return Ok(None);
        };
        Ok(Some(Self {
            base: creds.server.clone(),
            http: http_client(&creds.server)?,
            creds,
            name_change: None,
            state_dir: state_dir.to_owned(),
        }))
    }

    /// The organisation this machine is enrolled into, when this is its enrolled credential.
    pub fn organisation(&self) -> Option<&str> {
        self.creds.organisation.as_deref()
    }

    /// The error for an enrolment the server no longer knows.
    pub fn enrolment_refused(&self) -> ApiError {
        ApiError::EnrolmentRefused {
            server: self.base.clone(),
            organisation: self.organisation().unwrap_or("your organisation").into(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> &str {
        &self.creds.token
    }

    pub fn name(&self) -> &str {
        &self.creds.name
    }

    async fn check(&self) -> Result<(), ApiError> {
        let _: serde_json::Value = send(
            self.http
                .get(format!("{}/api/agents/me", self.base))
                .bearer_auth(&self.creds.token),
            &self.base,
        )
        .await?;
        Ok(())
    }

    pub async fn create_invitation(
        &self,
        req: &CreateInvitationRequest,
    ) -> Result<InvitationCreated, ApiError> {
        send(
            self.http
                .post(format!("{}/api/invitations", self.base))
                .bearer_auth(&self.creds.token)
                .json(req),
            &self.base,
        )
        .await
    }

    /// The experts of this machine's support desk, with whether each is online.
    pub async fn experts(&self) -> Result<Vec<ExpertSummary>, ApiError> {
        send(
            self.http
                .get(format!("{}/api/experts", self.base))
                .bearer_auth(&self.creds.token),
            &self.base,
        )
        .await
    }

    /// Sends an invitation straight to one expert of the support desk.
    pub async fn invite_directly(
        &self,
        req: &DirectInvitationRequest,
    ) -> Result<DirectInvitationSent, ApiError> {
        send(
            self.http
                .post(format!("{}/api/invitations/direct", self.base))
                .bearer_auth(&self.creds.token)
                .json(req),
            &self.base,
        )
        .await
    }

    /// Every invitation of this agent, newest first, read page by page: the server hands out
    /// at most [`INVITATIONS_PAGE`] at a time, and a shorter page is the last.
    pub async fn invitations(&self) -> Result<Vec<InvitationSummary>, ApiError> {
        let mut all: Vec<InvitationSummary> = Vec::new();
        loop {
            let mut query = vec![("limit", INVITATIONS_PAGE.to_string())];
            if let Some(last) = all.last() {
                query.push(("after", last.id.to_string()));
            }
            let page: Vec<InvitationSummary> = send(
                self.http
                    .get(format!("{}/api/invitations", self.base))
                    .query(&query)
                    .bearer_auth(&self.creds.token),
                &self.base,
            )
            .await?;
            let last_page = page.len() < INVITATIONS_PAGE;
            all.extend(page);
            if last_page {
                return Ok(all);
            }
        }
    }

    /// Expires invitation `id` on the server, and first on this machine: every agent program
    /// here refuses it from now on, whatever the server says later.
    pub async fn revoke(&self, id: InvitationId) -> Result<InvitationSummary, ApiError> {
        self.record_revocation(id)?;
        send(
            self.http
                .post(format!("{}/api/invitations/{id}/revoke", self.base))
                .bearer_auth(&self.creds.token),
            &self.base,
        )
        .await
    }

    /// Tells the server how many password checks of invitation `id` failed here, and whether
    /// the agent locked it, for the status it shows.
    pub async fn report_failed_checks(
        &self,
        id: InvitationId,
        report: &FailedChecks,
    ) -> Result<InvitationSummary, ApiError> {
        send(
            self.http
                .post(format!("{}/api/invitations/{id}/failures", self.base))
                .bearer_auth(&self.creds.token)
                .json(report),
            &self.base,
        )
        .await
    }

    fn record_revocation(&self, id: InvitationId) -> Result<(), ApiError> {
        use std::io::Write;
        let file = self.state_dir.join(REVOKED_FILE);
        let err = |source| ApiError::Credentials {
            path: file.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&self.state_dir).map_err(err)?;
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&file).map_err(err)?;
        writeln!(f, "{id}").map_err(err)
    }

    /// Whether the novice revoked invitation `id` on this machine.
    pub fn revoked_here(&self, id: InvitationId) -> bool {
        std::fs::read_to_string(self.state_dir.join(REVOKED_FILE))
            .is_ok_and(|text| text.lines().any(|line| line.trim() == id.to_string()))
    }
}

async fn send<T: serde::de::DeserializeOwned>(
    req: reqwest::RequestBuilder,
    base: &str,
) -> Result<T, ApiError> {
    let res = req.send().await.map_err(|source| ApiError::Unreachable {
        url: base.to_string(),
        source,
    })?;
    let status = res.status().as_u16();
    let body = res.text().await.unwrap_or_default();
    // What the server says ends up on the novice's terminal and status page: cleaned of
    // anything that would act there instead of showing.
    let unexpected = |body: &str| ApiError::Unexpected {
        status,
        body: clean(body),
    };
    if (200..300).contains(&status) {
        return serde_json::from_str(&body).map_err(|_| unexpected(&body));
    }
    match serde_json::from_str::<ErrorBody>(&body) {
        Ok(e) => Err(ApiError::Refused {
            status,
            code: clean(&e.error),
            message: clean(&e.message),
        }),
        Err(_) => Err(unexpected(&body)),
    }
}

fn read_credentials(file: &Path) -> Result<Option<Credentials>, ApiError> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(serde_json::from_str(&text).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ApiError::Credentials {
            path: file.display().to_string(),
            source,
        }),
    }
}

impl Registrations {
    fn credential(&self, server: &str) -> Option<&Credentials> {
        self.registrations.iter().find(|c| c.server == server)
    }

    /// Stores `creds` as the registration on its server, replacing only that server's.
    fn put(&mut self, creds: Credentials) {
        self.registrations.retain(|c| c.server != creds.server);
        self.registrations.push(creds);
    }
}

/// The registrations in `file`: none when it does not exist, one from a file of the older
/// single-credential format. A file that is neither is refused rather than overwritten.
fn read_registrations(file: &Path) -> Result<Registrations, ApiError> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Registrations::default()),
        Err(source) => {
            return Err(ApiError::Credentials {
                path: file.display().to_string(),
                source,
            })
        }
    };
    if let Ok(all) = serde_json::from_str::<Registrations>(&text) {
        return Ok(all);
    }
    match serde_json::from_str::<Credentials>(&text) {
        Ok(one) => Ok(Registrations {
            registrations: vec![Credentials {
                server: normalise(&one.server),
                ..one
            }],
        }),
        Err(_) => Err(ApiError::DamagedCredentials {
            path: file.display().to_string(),
        }),
    }
}

fn write_json<T: Serialize>(file: &Path, value: &T) -> Result<(), ApiError> {
    let err = |source| ApiError::Credentials {
        path: file.display().to_string(),
        source,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let tmp: PathBuf = file.with_extension("json.tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp).map_err(err)?;
        f.write_all(text.as_bytes()).map_err(err)?;
    }
    std::fs::rename(&tmp, file).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh state directory under the system's temporary directory.
    fn state_dir(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "assist-agent-{test}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        dir
    }

    #[test]
    fn credentials_written_before_enrolment_existed_still_read() {
        let old = r#"{"server":"http://s","name":"Alice","token":"id.secret"}"#;
        let creds: Credentials = serde_json::from_str(old).expect("old format");
        assert_eq!(creds.organisation, None);
        // And a plain registration is written without the new field.
        let text = serde_json::to_string(&creds).expect("json");
        assert!(!text.contains("organisation"));
    }

    fn registration(server: &str, name: &str, token: &str) -> Credentials {
        Credentials {
            server: server.into(),
            name: name.into(),
            token: token.into(),
            organisation: None,
        }
    }

    #[test]
    fn a_registration_file_of_the_older_format_reads_as_its_one_server() {
        let dir = state_dir("old-format");
        let file = dir.join(REGISTRATION_FILE);
        std::fs::write(
            &file,
            r#"{"server":"http://s/","name":"Alice","token":"id.secret"}"#,
        )
        .expect("write");
        let read = read_registrations(&file).expect("read");
        assert_eq!(
            read.credential("http://s"),
            Some(&registration("http://s", "Alice", "id.secret"))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn each_server_keeps_its_own_registration() {
        let dir = state_dir("per-server");
        let file = dir.join(REGISTRATION_FILE);
        let mut all = read_registrations(&file).expect("no file yet");
        assert_eq!(all, Registrations::default());
        all.put(registration("http://a", "Alice", "a.1"));
        all.put(registration("http://b", "Alice at work", "b.1"));
        write_json(&file, &all).expect("write");
        let mut all = read_registrations(&file).expect("read");
        assert_eq!(
            all.credential("http://a").map(|c| c.token.as_str()),
            Some("a.1")
        );
        assert_eq!(
            all.credential("http://b").map(|c| c.token.as_str()),
            Some("b.1")
        );
        // Registering anew on one server replaces that server's alone.
        all.put(registration("http://a", "Alice", "a.2"));
        assert_eq!(all.registrations.len(), 2);
        assert_eq!(
            all.credential("http://a").map(|c| c.token.as_str()),
            Some("a.2")
        );
        assert_eq!(
            all.credential("http://b").map(|c| c.token.as_str()),
            Some("b.1")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_damaged_registration_file_is_refused_not_overwritten() {
        let dir = state_dir("damaged");
        let file = dir.join(REGISTRATION_FILE);
        std::fs::write(&file, "{not json").expect("write");
        let err = read_registrations(&file).expect_err("damaged");
        assert!(matches!(err, ApiError::DamagedCredentials { .. }), "{err}");
        assert!(err.to_string().contains("agent.json"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_enrolment_is_found_on_its_own_server_whatever_the_name() {
        let dir = state_dir("enrolled");
        assert!(ServerApi::enrolled(None, &dir).expect("read").is_none());
        let creds = Credentials {
            server: "https://desk.example".into(),
            name: "Alice on laptop".into(),
            token: "id.secret".into(),
            organisation: Some("Acme".into()),
        };
        write_json(&dir.join(ENROLMENT_FILE), &creds).expect("write");
        // A registration elsewhere does not touch it.
        let other = Credentials {
            server: "http://other".into(),
            organisation: None,
            ..creds.clone()
        };
        write_json(&dir.join(REGISTRATION_FILE), &other).expect("write");

        let found = ServerApi::enrolled(Some("https://desk.example/"), &dir)
            .expect("read")
            .expect("enrolled there");
        assert_eq!(found.organisation(), Some("Acme"));
        assert_eq!(found.name(), "Alice on laptop");
        assert_eq!(found.base(), "https://desk.example");
        let found = ServerApi::enrolled(None, &dir).expect("read");
        assert_eq!(found.map(|a| a.creds), Some(creds));
        assert!(ServerApi::enrolled(Some("http://other"), &dir)
            .expect("read")
            .is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
