//! The clients the server sees: the JSON API over HTTP, and agent and expert WebSockets.
//!
//! [`Client::open_pair`] walks one session through its whole opening as the real programs
//! do: register an agent, connect its WebSocket, create an invitation without a password,
//! redeem it as an expert, accept on the agent's side and connect the expert's WebSocket.
//! [`round_trip`] then relays an SDP offer one way and its answer back, checking both arrive
//! verbatim.

use crate::error::LoadError;
use futures_util::{SinkExt, StreamExt};
use protocol::api::{
    CreateInvitationRequest, InvitationCreated, RedeemRequest, RedeemResponse,
    RegisterAgentRequest, RegisterAgentResponse,
};
use protocol::ids::SessionId;
use protocol::signal::{
    AgentToServer, ConsentState, ExpertToServer, ServerToAgent, ServerToExpert, Signal,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A client WebSocket over plain TCP.
pub type Ws = WebSocketStream<TcpStream>;

/// Longest wait for one expected frame.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// Read buffer of each client socket. Signaling frames are about a kilobyte; the library's
/// default of 128 KiB, filled on every read, would cost 2.5 GiB for 20 000 sockets.
const CLIENT_READ_BUFFER: usize = 8 * 1024;

/// The body of the relayed SDP: a typical one-video-track offer (a frame of about 650 bytes).
/// The expert answers with the same text, so both legs carry the same bytes.
pub const SDP_BODY: &str = "s=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:Fq3b\r\na=ice-pwd:Xq2tF9aJ0c7vL1mN4pR6sT8u\r\na=ice-options:trickle\r\n\
a=fingerprint:sha-256 3A:5F:9C:21:7B:44:E0:D2:8A:1F:6C:93:B5:07:E4:2D:\
C8:59:10:AF:36:7E:D1:4B:92:05:6A:F3:88:2C:BE:71\r\na=setup:actpass\r\na=mid:0\r\n\
a=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\n\
a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";

/// HTTP client of the JSON API.
#[derive(Clone, Debug)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// A client of the server at `base` (`http://host:port`, no trailing slash).
    pub fn new(base: &str) -> Result<Self, LoadError> {
        // The server is on loopback: never go through a proxy named in the environment.
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|source| LoadError::Http {
                path: base.into(),
                source,
            })?;
        Ok(Self {
            base: base.trim_end_matches('/').into(),
            http,
        })
    }

    /// POSTs JSON; a status other than 2xx is an error carrying the response body.
    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &impl Serialize,
    ) -> Result<T, LoadError> {
        let http = |source| LoadError::Http {
            path: path.into(),
            source,
        };
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.map_err(http)?;
        let status = res.status();
        let body = res.text().await.map_err(http)?;
        if !status.is_success() {
            return Err(LoadError::Status {
                path: path.into(),
                status,
                body,
            });
        }
        serde_json::from_str(&body)
            .map_err(|e| LoadError::Unexpected(format!("POST {path}: {e}: {body}")))
    }

    /// Registers an agent and returns its bearer token.
    pub async fn register(&self, name: &str) -> Result<String, LoadError> {
        let req = RegisterAgentRequest { name: name.into() };
        let reg: RegisterAgentResponse = self.post("/api/agents", None, &req).await?;
        Ok(reg.agent_token)
    }

    /// Creates an invitation; `has_password` only tells the console to ask for one (the
    /// agent checks it, never the server).
    pub async fn invite(
        &self,
        token: &str,
        has_password: bool,
    ) -> Result<InvitationCreated, LoadError> {
        let req = CreateInvitationRequest {
            has_password,
            ..Default::default()
        };
        self.post("/api/invitations", Some(token), &req).await
    }

    pub async fn redeem(&self, code: &str) -> Result<RedeemResponse, LoadError> {
        let req = RedeemRequest {
            code: code.into(),
            expert_name: "Load expert".into(),
        };
        self.post("/api/redeem", None, &req).await
    }
}

/// One agent and one expert connected to the same accepted session.
#[derive(Debug)]
pub struct Pair {
    pub agent: Ws,
    pub expert: Ws,
    pub session: SessionId,
}

/// Everything needed to open sessions on one server.
#[derive(Clone, Debug)]
pub struct Client {
    pub api: Api,
    ws_base: String,
    server: SocketAddr,
    sources: Vec<IpAddr>,
}

impl Client {
    /// A client of the server at `base`. WebSockets leave from the `sources` addresses in
    /// turn (each has its own range of ephemeral ports), or from the system's choice when
    /// there are none.
    pub fn new(base: &url::Url, sources: Vec<IpAddr>) -> Result<Self, LoadError> {
        let server = base
            .socket_addrs(|| None)
            .map_err(LoadError::io(format!("resolve {base}")))?
            .into_iter()
            .next()
            .ok_or_else(|| LoadError::Unexpected(format!("{base} has no address")))?;
        let root = base.as_str().trim_end_matches('/');
        Ok(Self {
            api: Api::new(root)?,
            ws_base: root.replacen("http", "ws", 1),
            server,
            sources,
        })
    }

    /// Opens a WebSocket to `path` from the `n`-th source address, with Nagle's algorithm off
    /// as browsers do.
    pub async fn connect(
        &self,
        path: &str,
        bearer: Option<&str>,
        n: usize,
    ) -> Result<Ws, LoadError> {
        let mut req = format!("{}{path}", self.ws_base).into_client_request()?;
        if let Some(token) = bearer {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| LoadError::Unexpected(format!("agent token: {e}")))?;
            req.headers_mut().insert("authorization", value);
        }
        let socket = match self.server {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        }
        .map_err(LoadError::io("create a socket"))?;
        if !self.sources.is_empty() {
            let source = self.sources[n % self.sources.len()];
            socket
                .bind(SocketAddr::new(source, 0))
                .map_err(LoadError::io(format!("bind a socket to {source}")))?;
        }
        let stream = socket
            .connect(self.server)
            .await
            .map_err(LoadError::io(format!("connect to {}", self.server)))?;
        stream
            .set_nodelay(true)
            .map_err(LoadError::io("set TCP_NODELAY"))?;
        let config = WebSocketConfig::default().read_buffer_size(CLIENT_READ_BUFFER);
        let (ws, _) =
            tokio_tungstenite::client_async_with_config(req, stream, Some(config)).await?;
        Ok(ws)
    }

    /// Registers agent `i` and connects it; returns its token and its welcomed WebSocket.
    pub async fn open_agent(&self, i: usize) -> Result<(String, Ws), LoadError> {
        let token = self.api.register(&format!("Novice {i}")).await?;
        let mut agent = self.connect("/ws/agent", Some(&token), 2 * i).await?;
        wait_for(&mut agent, |m| matches!(m, ServerToAgent::Welcome { .. })).await?;
        Ok((token, agent))
    }

    /// Registers agent `i`, connects it, creates and redeems an invitation, accepts the
    /// session on the agent's side and connects the expert.
    pub async fn open_pair(&self, i: usize) -> Result<Pair, LoadError> {
        let api = &self.api;
        let (token, mut agent) = self.open_agent(i).await?;
        let invitation = api.invite(&token, false).await?;
        let redeemed = api.redeem(&invitation.code).await?;
        let session = redeemed.session_id;
        wait_for(
            &mut agent,
            |m| matches!(m, ServerToAgent::SessionRequest { session_id, .. } if *session_id == session),
        )
        .await?;
        let consent = AgentToServer::Consent {
            session_id: session,
            accept: true,
        };
        send_json(&mut agent, &consent).await?;

        let mut expert = self.connect("/ws/expert", None, 2 * i + 1).await?;
        let hello = ExpertToServer::Hello {
            ticket: redeemed.ticket,
            resume: None,
        };
        send_json(&mut expert, &hello).await?;
        // The expert may connect before the agent's answer is handled, and then hears
        // `waiting` first.
        wait_for(&mut expert, |m| {
            matches!(
                m,
                ServerToExpert::Consent {
                    state: ConsentState::Accepted,
                    ..
                }
            )
        })
        .await?;
        Ok(Pair {
            agent,
            expert,
            session,
        })
    }
}

pub async fn send_json(ws: &mut Ws, msg: &impl Serialize) -> Result<(), LoadError> {
    let text = serde_json::to_string(msg)?;
    ws.send(Message::Text(text.into())).await?;
    Ok(())
}

/// The next JSON text frame, within [`FRAME_TIMEOUT`].
pub async fn recv_json<T: DeserializeOwned>(ws: &mut Ws) -> Result<T, LoadError> {
    loop {
        let frame = tokio::time::timeout(FRAME_TIMEOUT, ws.next())
            .await
            .map_err(|_| LoadError::Timeout(FRAME_TIMEOUT))?;
        match frame {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str())
                    .map_err(|e| LoadError::Unexpected(format!("{e}: {text}")))
            }
            Some(Ok(Message::Close(_))) | None => return Err(LoadError::Closed),
            Some(Err(err)) => return Err(err.into()),
            Some(Ok(_)) => continue,
        }
    }
}

/// Reads frames until one matches.
pub async fn wait_for<T: DeserializeOwned>(
    ws: &mut Ws,
    wanted: impl Fn(&T) -> bool,
) -> Result<T, LoadError> {
    loop {
        let msg = recv_json(ws).await?;
        if wanted(&msg) {
            return Ok(msg);
        }
    }
}

/// An agent's keep-alive: a ping answered with a pong.
pub async fn ping(agent: &mut Ws) -> Result<(), LoadError> {
    send_json(agent, &AgentToServer::Ping).await?;
    wait_for(agent, |m| matches!(m, ServerToAgent::Pong)).await?;
    Ok(())
}

/// SDP number `seq`: [`SDP_BODY`] after a version and origin line.
fn sdp(seq: u64) -> String {
    format!("v=0\r\no=- {seq} 2 IN IP4 127.0.0.1\r\n{SDP_BODY}")
}

/// Bytes of the frame carrying an offer from the agent.
pub fn offer_frame_len() -> usize {
    let msg = AgentToServer::Signal {
        session_id: SessionId::new_random(),
        signal: Signal::Offer { sdp: sdp(0) },
    };
    serde_json::to_string(&msg).map_or(0, |text| text.len())
}

/// The agent sends offer `seq`, the expert reads it and answers, the agent reads the answer.
/// Returns when the expert and then the agent had their frame; each must be relayed verbatim.
pub async fn round_trip(pair: &mut Pair, seq: u64) -> Result<(Instant, Instant), LoadError> {
    let sdp = sdp(seq);
    let offer = Signal::Offer { sdp: sdp.clone() };
    let msg = AgentToServer::Signal {
        session_id: pair.session,
        signal: offer.clone(),
    };
    send_json(&mut pair.agent, &msg).await?;
    let got: ServerToExpert = recv_json(&mut pair.expert).await?;
    let at_expert = Instant::now();
    if got != (ServerToExpert::Signal { signal: offer }) {
        return Err(LoadError::Unexpected(format!(
            "the expert got {got:?} instead of offer {seq}"
        )));
    }

    let answer = Signal::Answer { sdp };
    let msg = ExpertToServer::Signal {
        signal: answer.clone(),
    };
    send_json(&mut pair.expert, &msg).await?;
    let got: ServerToAgent = recv_json(&mut pair.agent).await?;
    let at_agent = Instant::now();
    let expected = ServerToAgent::Signal {
        session_id: pair.session,
        signal: answer,
    };
    if got != expected {
        return Err(LoadError::Unexpected(format!(
            "the agent got {got:?} instead of answer {seq}"
        )));
    }
    Ok((at_expert, at_agent))
}
