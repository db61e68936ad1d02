//! The agent's HTTP client for the signaling server, and where it keeps its credential.
//!
//! The agent registers once per server and stores the returned token in a file readable only by
//! the novice (`<state dir>/agent.json`, mode 0600). A token the server no longer knows (for
//! example after the server's database was reset) is replaced by registering again.
//!
//! A machine enrolled into an organisation (`agent enroll`) keeps that credential apart, in
//! `<state dir>/enrolment.json`, in the same format with the organisation's name added. On its
//! server it is used for everything, whatever name is asked for, and it is never replaced by
//! an anonymous registration: only a new `agent enroll` replaces it.

use protocol::api::{
    CreateInvitationRequest, DirectInvitationRequest, DirectInvitationSent, EnrollRequest,
    EnrollResponse, ErrorBody, ExpertSummary, InvitationCreated, InvitationSummary,
    RegisterAgentRequest, RegisterAgentResponse,
};
use protocol::ids::InvitationId;
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

/// The file of the anonymous registration.
const REGISTRATION_FILE: &str = "agent.json";
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
}

impl ServerApi {
    /// Loads the credential for `server` from `state_dir`: the machine's enrolment when it is
    /// enrolled on that server, else its registration, registering (again) when there is none
    /// or the server refuses it.
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
        if let Some(creds) = read_credentials(&file)?.filter(|c| c.server == base && c.name == name)
        {
            let api = Self {
                base: base.clone(),
                http: http.clone(),
                creds,
            };
            match api.check().await {
                Ok(()) => return Ok(api),
                Err(e) if e.is_unauthorized() => {
                    tracing::info!("stored credential refused; registering again")
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
            name: name.into(),
            token: reg.agent_token,
            organisation: None,
        };
        write_credentials(&file, &creds)?;
        Ok(Self { base, http, creds })
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
        write_credentials(&state_dir.join(ENROLMENT_FILE), &creds)?;
        Ok(Self { base, http, creds })
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

    pub async fn revoke(&self, id: InvitationId) -> Result<InvitationSummary, ApiError> {
        send(
            self.http
                .post(format!("{}/api/invitations/{id}/revoke", self.base))
                .bearer_auth(&self.creds.token),
            &self.base,
        )
        .await
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
    if (200..300).contains(&status) {
        return serde_json::from_str(&body).map_err(|_| ApiError::Unexpected { status, body });
    }
    match serde_json::from_str::<ErrorBody>(&body) {
        Ok(e) => Err(ApiError::Refused {
            status,
            code: e.error,
            message: e.message,
        }),
        Err(_) => Err(ApiError::Unexpected { status, body }),
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

fn write_credentials(file: &Path, creds: &Credentials) -> Result<(), ApiError> {
    let err = |source| ApiError::Credentials {
        path: file.display().to_string(),
        source,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let text = serde_json::to_string_pretty(creds).unwrap_or_default();
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
        write_credentials(&dir.join(ENROLMENT_FILE), &creds).expect("write");
        // A registration elsewhere does not touch it.
        let other = Credentials {
            server: "http://other".into(),
            organisation: None,
            ..creds.clone()
        };
        write_credentials(&dir.join(REGISTRATION_FILE), &other).expect("write");

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
