//! The agent's HTTP client for the signaling server, and where it keeps its credential.
//!
//! The agent registers once per server and stores the returned token in a file readable only by
//! the novice (`<state dir>/agent.json`, mode 0600). A token the server no longer knows (for
//! example after the server's database was reset) is replaced by registering again.

use protocol::api::{
    CreateInvitationRequest, ErrorBody, InvitationCreated, InvitationSummary, RegisterAgentRequest,
    RegisterAgentResponse,
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
}

impl ApiError {
    fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Refused { status: 401, .. })
    }
}

/// The stored credential for one server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Credentials {
    pub server: String,
    pub name: String,
    pub token: String,
}

/// A client bound to one server and, once registered, one agent.
#[derive(Clone, Debug)]
pub struct ServerApi {
    base: String,
    http: reqwest::Client,
    creds: Credentials,
}

impl ServerApi {
    /// Loads the credential for `server` from `state_dir`, registering (again) when there is
    /// none or the server refuses it.
    pub async fn connect(server: &str, name: &str, state_dir: &Path) -> Result<Self, ApiError> {
        let base = server.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|source| ApiError::Unreachable {
                url: base.clone(),
                source,
            })?;
        let file = state_dir.join("agent.json");
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
        };
        write_credentials(&file, &creds)?;
        Ok(Self { base, http, creds })
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

    pub async fn invitations(&self) -> Result<Vec<InvitationSummary>, ApiError> {
        send(
            self.http
                .get(format!("{}/api/invitations", self.base))
                .bearer_auth(&self.creds.token),
            &self.base,
        )
        .await
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
