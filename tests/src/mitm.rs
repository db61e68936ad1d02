//! A signaling server turned against its users, for the tests that prove the agent refuses it:
//! the man in the middle that the password check bound to both DTLS certificates exists to
//! stop (docs/pake.md, docs/security.md).
//!
//! [`Interceptor`] stands between the agent and the real server. It passes every HTTP request
//! and every signaling frame on unchanged, except the WebRTC negotiation of a session: there it
//! terminates both connections itself, with certificates of its own, as a server operator who
//! rewrites the fingerprints in the SDP it relays would. To the agent it answers as if it were
//! the browser; to the browser it offers as if it were the agent; and it relays the data
//! channel between the two, message for message, so the password check runs end to end through
//! it with the right password typed. It also tries its luck: with the browser's first message
//! it slips a control request, an input event and a chat line to the agent. It counts the video
//! packets the agent sends it, and keeps every message it relayed.

use anyhow::{anyhow, Context, Result};
use axum::extract::ws::{Message as AxumMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use rtc::data_channel::RTCDataChannelInit;
use rtc::ice::mdns::MulticastDnsMode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceCandidateInit, RTCPeerConnectionIceEvent, RTCSessionDescription, SettingEngineBuilder,
};

/// What the interceptor saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// RTP packets of the agent's video that reached the interceptor.
    pub video_packets: AtomicU64,
    /// Data-channel messages from the agent, as relayed to the browser.
    pub from_agent: Mutex<Vec<String>>,
    /// Data-channel messages from the browser, as relayed to the agent.
    pub from_browser: Mutex<Vec<String>>,
    /// Sessions whose negotiation it took over.
    pub sessions: AtomicU64,
}

/// The interceptor: give the agent [`Interceptor::url`] as its server.
pub struct Interceptor {
    url: String,
    seen: Arc<Seen>,
    task: JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    http: reqwest::Client,
    seen: Arc<Seen>,
}

impl Interceptor {
    /// Listens on a free loopback port in front of the server at `upstream`.
    pub async fn start(upstream: &str) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let seen = Arc::new(Seen::default());
        let shared = Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            seen: Arc::clone(&seen),
        };
        let app = Router::new()
            .route("/ws/agent", get(agent_socket))
            .fallback(forward)
            .with_state(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, seen, task })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn seen(&self) -> &Seen {
        &self.seen
    }

    /// The agent's video packets that reached the interceptor so far.
    pub fn video_packets(&self) -> u64 {
        self.seen.video_packets.load(Ordering::Relaxed)
    }
}

impl Drop for Interceptor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Any HTTP request, passed to the server and its answer back, unchanged.
async fn forward(State(shared): State<Shared>, req: Request) -> Response {
    let result: Result<Response> = async {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await?;
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let mut out = shared
            .http
            .request(parts.method.clone(), format!("{}{path}", shared.upstream))
            .body(body);
        for name in ["authorization", "content-type"] {
            if let Some(value) = parts.headers.get(name) {
                out = out.header(name, value.clone());
            }
        }
        let answer = out.send().await?;
        let status = StatusCode::from_u16(answer.status().as_u16())?;
        let content_type = answer.headers().get("content-type").cloned();
        let bytes = answer.bytes().await?;
        let mut response = (status, bytes).into_response();
        if let Some(content_type) = content_type {
            response.headers_mut().insert("content-type", content_type);
        }
        Ok(response)
    }
    .await;
    result.unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())
}

/// The agent's signaling WebSocket: opened to the server with the agent's credential, and
/// pumped both ways through [`Mitm`].
async fn agent_socket(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let auth = headers.get("authorization").cloned();
    let mut url = format!(
        "{}/ws/agent",
        shared.upstream.replacen("http://", "ws://", 1)
    );
    if let Some(query) = query {
        url.push('?');
        url.push_str(&query);
    }
    let Ok(mut request) = url.into_client_request() else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    if let Some(auth) = auth {
        request.headers_mut().insert("authorization", auth);
    }
    let upstream = match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => ws,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            return StatusCode::from_u16(response.status().as_u16())
                .unwrap_or(StatusCode::BAD_GATEWAY)
                .into_response()
        }
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    upgrade.on_upgrade(move |socket| async move {
        if let Err(e) = pump(socket, upstream, shared.seen).await {
            eprintln!("interceptor: the agent's connection ended: {e:#}");
        }
    })
}

type Upstream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn pump(agent: WebSocket, server: Upstream, seen: Arc<Seen>) -> Result<()> {
    let (mut to_agent_ws, mut from_agent_ws) = agent.split();
    let (mut to_server_ws, mut from_server_ws) = server.split();
    let (to_agent, mut to_agent_rx) = mpsc::unbounded_channel::<String>();
    let (to_server, mut to_server_rx) = mpsc::unbounded_channel::<String>();
    let mitm = Arc::new(Mitm {
        to_agent: to_agent.clone(),
        to_server: to_server.clone(),
        seen,
        legs: tokio::sync::Mutex::new(None),
    });
    loop {
        tokio::select! {
            frame = from_agent_ws.next() => match frame {
                Some(Ok(AxumMessage::Text(text))) => {
                    if let Some(out) = mitm.handle_agent_frame(text.as_str()).await? {
                        let _ = to_server.send(out);
                    }
                }
                Some(Ok(AxumMessage::Close(_))) | None | Some(Err(_)) => return Ok(()),
                Some(Ok(_)) => {}
            },
            frame = from_server_ws.next() => match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    if let Some(out) = mitm.handle_server_frame(text.as_str()).await? {
                        let _ = to_agent.send(out);
                    }
                }
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return Ok(()),
                Some(Ok(_)) => {}
            },
            Some(text) = to_agent_rx.recv() => to_agent_ws.send(AxumMessage::Text(text.into())).await?,
            Some(text) = to_server_rx.recv() => to_server_ws.send(WsMessage::Text(text.into())).await?,
        }
    }
}

/// The interceptor's two connections of one session.
struct Legs {
    /// Towards the agent: answers its offer, with the interceptor's own certificate.
    agent_side: Arc<dyn PeerConnection>,
    /// Towards the browser: offers to it, with another certificate of the interceptor's.
    browser_side: Arc<dyn PeerConnection>,
}

struct Mitm {
    to_agent: mpsc::UnboundedSender<String>,
    to_server: mpsc::UnboundedSender<String>,
    seen: Arc<Seen>,
    legs: tokio::sync::Mutex<Option<Legs>>,
}

fn signal_frame(session: &Value, signal: Value) -> String {
    json!({ "type": "signal", "session_id": session, "signal": signal }).to_string()
}

fn candidate_init(signal: &Value) -> RTCIceCandidateInit {
    RTCIceCandidateInit {
        candidate: signal["candidate"].as_str().unwrap_or_default().to_owned(),
        sdp_mid: signal["sdpMid"].as_str().map(str::to_owned),
        sdp_mline_index: signal["sdpMLineIndex"]
            .as_u64()
            .and_then(|i| u16::try_from(i).ok()),
        ..Default::default()
    }
}

impl Mitm {
    /// A frame from the agent: negotiation is taken over, the rest passes on.
    async fn handle_agent_frame(&self, text: &str) -> Result<Option<String>> {
        let frame: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        if frame["type"] != "signal" {
            return Ok(Some(text.to_owned()));
        }
        let session = &frame["session_id"];
        let signal = &frame["signal"];
        let mut legs = self.legs.lock().await;
        match signal["kind"].as_str() {
            Some("offer") if legs.is_none() => {
                let sdp = signal["sdp"].as_str().unwrap_or_default().to_owned();
                let (new, answer, offer) = self.take_over(session, sdp).await?;
                *legs = Some(new);
                self.seen.sessions.fetch_add(1, Ordering::Relaxed);
                let _ = self.to_agent.send(signal_frame(
                    session,
                    json!({ "kind": "answer", "sdp": answer }),
                ));
                Ok(Some(signal_frame(
                    session,
                    json!({ "kind": "offer", "sdp": offer }),
                )))
            }
            Some("candidate") => {
                if let Some(legs) = legs.as_ref() {
                    let _ = legs
                        .agent_side
                        .add_ice_candidate(candidate_init(signal))
                        .await;
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// A frame from the server: the browser's negotiation is for the interceptor.
    async fn handle_server_frame(&self, text: &str) -> Result<Option<String>> {
        let frame: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        if frame["type"] != "signal" {
            return Ok(Some(text.to_owned()));
        }
        let signal = &frame["signal"];
        let legs = self.legs.lock().await;
        if let Some(legs) = legs.as_ref() {
            match signal["kind"].as_str() {
                Some("answer") => {
                    let sdp = signal["sdp"].as_str().unwrap_or_default().to_owned();
                    legs.browser_side
                        .set_remote_description(RTCSessionDescription::answer(sdp)?)
                        .await?;
                }
                Some("candidate") => {
                    let _ = legs
                        .browser_side
                        .add_ice_candidate(candidate_init(signal))
                        .await;
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// Answers the agent's `offer` and makes an offer of its own for the browser; returns both
    /// connections, the answer and the offer.
    async fn take_over(&self, session: &Value, offer: String) -> Result<(Legs, String, String)> {
        let (agent_channel_tx, agent_channel) = watch::channel(None);
        let (browser_open_tx, browser_open) = watch::channel(false);

        let agent_side: Arc<dyn PeerConnection> = Arc::new(
            connection(Arc::new(AgentSide {
                to_agent: self.to_agent.clone(),
                session: session.clone(),
                seen: Arc::clone(&self.seen),
                channel: agent_channel_tx,
            }))
            .await?,
        );
        let browser_side: Arc<dyn PeerConnection> = Arc::new(
            connection(Arc::new(BrowserSide {
                to_server: self.to_server.clone(),
                session: session.clone(),
            }))
            .await?,
        );
        let browser_channel = browser_side
            .create_data_channel(
                "assist",
                Some(RTCDataChannelInit {
                    ordered: true,
                    ..Default::default()
                }),
            )
            .await?;

        // The agent's channel to the browser's, once both are there.
        tokio::spawn(relay_from_agent(
            agent_channel.clone(),
            Arc::clone(&browser_channel),
            browser_open.clone(),
            Arc::clone(&self.seen),
        ));
        // The browser's channel to the agent's, with the interceptor's own additions.
        tokio::spawn(relay_from_browser(
            Arc::clone(&browser_channel),
            browser_open_tx,
            agent_channel,
            Arc::clone(&self.seen),
        ));

        agent_side
            .set_remote_description(RTCSessionDescription::offer(offer)?)
            .await?;
        let answer = agent_side.create_answer(None).await?;
        agent_side.set_local_description(answer.clone()).await?;
        let own_offer = browser_side.create_offer(None).await?;
        browser_side
            .set_local_description(own_offer.clone())
            .await?;
        Ok((
            Legs {
                agent_side,
                browser_side,
            },
            answer.sdp,
            own_offer.sdp,
        ))
    }
}

/// A WebRTC connection of the interceptor's, on loopback, with its own certificate.
async fn connection(handler: Arc<dyn PeerConnectionEventHandler>) -> Result<impl PeerConnection> {
    let mut media = MediaEngine::default();
    media.register_default_codecs()?;
    Ok(PeerConnectionBuilder::new()
        .with_media_engine(media)
        .with_setting_engine(
            SettingEngineBuilder::new()
                .with_multicast_dns_mode(MulticastDnsMode::Disabled)
                .build(),
        )
        .with_handler(handler)
        .with_udp_addrs(vec!["127.0.0.1:0"])
        .build()
        .await?)
}

/// The agent's messages to the browser.
async fn relay_from_agent(
    mut agent_channel: watch::Receiver<Option<Arc<dyn DataChannel>>>,
    browser: Arc<dyn DataChannel>,
    mut browser_open: watch::Receiver<bool>,
    seen: Arc<Seen>,
) {
    let channel = agent_channel
        .wait_for(Option::is_some)
        .await
        .map(|c| c.clone());
    let Ok(Some(channel)) = channel else {
        return;
    };
    while let Some(event) = channel.poll().await {
        match event {
            DataChannelEvent::OnMessage(message) => {
                let text = String::from_utf8_lossy(&message.data).into_owned();
                if let Ok(mut all) = seen.from_agent.lock() {
                    all.push(text.clone());
                }
                let opened = browser_open.wait_for(|open| *open).await.map(|_| ());
                if opened.is_err() {
                    return;
                }
                let _ = browser.send_text(&text).await;
            }
            DataChannelEvent::OnClose => return,
            _ => {}
        }
    }
}

/// The browser's messages to the agent; with the first, what the interceptor would like the
/// agent to do for it.
async fn relay_from_browser(
    browser: Arc<dyn DataChannel>,
    open: watch::Sender<bool>,
    mut agent_channel: watch::Receiver<Option<Arc<dyn DataChannel>>>,
    seen: Arc<Seen>,
) {
    let mut first = true;
    while let Some(event) = browser.poll().await {
        match event {
            DataChannelEvent::OnOpen => {
                let _ = open.send(true);
            }
            DataChannelEvent::OnMessage(message) => {
                let text = String::from_utf8_lossy(&message.data).into_owned();
                if let Ok(mut all) = seen.from_browser.lock() {
                    all.push(text.clone());
                }
                let agent = agent_channel
                    .wait_for(Option::is_some)
                    .await
                    .map(|c| c.clone());
                let Ok(Some(agent)) = agent else {
                    return;
                };
                let _ = agent.send_text(&text).await;
                if std::mem::take(&mut first) {
                    for injected in [
                        json!({ "type": "control_request" }),
                        json!({ "type": "input", "event": { "kind": "move", "x": 10, "y": 10 } }),
                        json!({ "type": "chat", "from": "Eve", "text": "injected by the relay" }),
                    ] {
                        let _ = agent.send_text(&injected.to_string()).await;
                    }
                }
            }
            DataChannelEvent::OnClose => return,
            _ => {}
        }
    }
}

/// The connection towards the agent: its candidates go to the agent, its data channel and
/// video come from the agent.
struct AgentSide {
    to_agent: mpsc::UnboundedSender<String>,
    session: Value,
    seen: Arc<Seen>,
    channel: watch::Sender<Option<Arc<dyn DataChannel>>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for AgentSide {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let _ = self.to_agent.send(signal_frame(
                &self.session,
                json!({
                    "kind": "candidate",
                    "candidate": init.candidate,
                    "sdpMid": init.sdp_mid,
                    "sdpMLineIndex": init.sdp_mline_index,
                }),
            ));
        }
    }

    async fn on_data_channel(&self, data_channel: Arc<dyn DataChannel>) {
        let _ = self.channel.send(Some(data_channel));
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let seen = Arc::clone(&self.seen);
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(_) = event {
                    seen.video_packets.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
}

/// The connection towards the browser: its candidates go to the server, as the agent's.
struct BrowserSide {
    to_server: mpsc::UnboundedSender<String>,
    session: Value,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for BrowserSide {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let _ = self.to_server.send(signal_frame(
                &self.session,
                json!({
                    "kind": "candidate",
                    "candidate": init.candidate,
                    "sdpMid": init.sdp_mid,
                    "sdpMLineIndex": init.sdp_mline_index,
                }),
            ));
        }
    }
}

/// The `a=fingerprint` lines of an SDP description, for the test to show they were replaced.
pub fn fingerprints(sdp: &str) -> Vec<String> {
    sdp.lines()
        .filter_map(|l| l.trim().strip_prefix("a=fingerprint:"))
        .map(str::to_owned)
        .collect()
}

/// Fails unless `seen` holds a message of `kind` from the agent.
pub fn agent_said(seen: &Seen, kind: &str) -> Result<Value> {
    let all = seen
        .from_agent
        .lock()
        .map_err(|_| anyhow!("the interceptor's record is poisoned"))?;
    all.iter()
        .filter_map(|t| serde_json::from_str::<Value>(t).ok())
        .find(|v| v["type"] == kind)
        .with_context(|| format!("the agent sent no {kind:?}; it sent {all:?}"))
}
