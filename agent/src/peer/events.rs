//! Turns what the WebRTC stack reports (callbacks, data-channel messages, RTCP from the browser)
//! into [`PeerEvent`]s on one channel, so that the rest of the agent has one place to listen.

use super::recovery::PathState;
use super::wire;
use super::PeerEvent;
use protocol::data::DataMessage;
use protocol::signal::Signal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState,
};

/// The sending half of the event channel, shared by the stack's callbacks and the reader tasks.
///
/// Sends wait for room rather than drop: a lost candidate or `Closed` would leave the session
/// hanging. The agent must therefore keep draining its receiver.
#[derive(Clone)]
pub(crate) struct Events {
    tx: mpsc::Sender<PeerEvent>,
    /// `Closed` is reported once, whichever of the stack's states or our own `close` comes first.
    closed: Arc<AtomicBool>,
    /// While the path is up: media sent outside it would only be dropped by the stack.
    connected: Arc<AtomicBool>,
    /// Set at the first `Connected`; the path coming back after that is not news to the agent.
    was_connected: Arc<AtomicBool>,
    /// The path's ups and downs, for [`super::recovery`].
    path: mpsc::UnboundedSender<PathState>,
}

impl Events {
    pub(crate) fn new(tx: mpsc::Sender<PeerEvent>, path: mpsc::UnboundedSender<PathState>) -> Self {
        Self {
            tx,
            closed: Arc::new(AtomicBool::new(false)),
            connected: Arc::new(AtomicBool::new(false)),
            was_connected: Arc::new(AtomicBool::new(false)),
            path,
        }
    }

    /// The signaling connection is back after a drop.
    pub(crate) fn signaling_back(&self) {
        let _ = self.path.send(PathState::SignalingBack);
    }

    pub(crate) fn network_changed(&self) {
        let _ = self.path.send(PathState::NetworkChanged);
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    pub(crate) async fn emit(&self, event: PeerEvent) {
        match &event {
            PeerEvent::Connected => self.connected.store(true, Ordering::Release),
            PeerEvent::Closed { reason } => {
                self.connected.store(false, Ordering::Release);
                if self.closed.swap(true, Ordering::AcqRel) {
                    return;
                }
                tracing::info!(%reason, "peer connection ended");
            }
            _ => {}
        }
        // The agent dropped its receiver: nobody is left to tell.
        let _ = self.tx.send(event).await;
    }

    pub(crate) async fn close(&self, reason: &str) {
        self.emit(PeerEvent::Closed {
            reason: reason.to_owned(),
        })
        .await;
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => {
                tracing::debug!(candidate = %init.candidate, "local ICE candidate");
                self.emit(PeerEvent::Signal(wire::candidate_signal(init)))
                    .await;
            }
            Err(e) => tracing::warn!("dropping a local ICE candidate that cannot be encoded: {e}"),
        }
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.emit(PeerEvent::Signal(Signal::EndOfCandidates)).await;
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(%state, "peer connection state");
        match state {
            RTCPeerConnectionState::Connected => {
                let _ = self.path.send(PathState::Up);
                if self.was_connected.swap(true, Ordering::AcqRel) {
                    // Back after an ICE restart: the browser's decoder needs a fresh start.
                    tracing::info!("the path to the expert is back");
                    self.connected.store(true, Ordering::Release);
                    self.emit(PeerEvent::KeyframeRequest).await;
                } else {
                    self.emit(PeerEvent::Connected).await;
                }
            }
            // Lost or failed: `recovery` restarts ICE, or ends the session if that cannot help.
            RTCPeerConnectionState::Disconnected | RTCPeerConnectionState::Failed => {
                self.connected.store(false, Ordering::Release);
                let _ = self.path.send(PathState::Lost);
            }
            RTCPeerConnectionState::Closed => self.close("the connection was closed").await,
            _ => {}
        }
    }
}

/// Reads the data channel until it closes, passing on every well-formed message.
pub(crate) async fn read_data_channel(channel: Arc<dyn DataChannel>, events: Events) {
    while let Some(event) = channel.poll().await {
        match event {
            DataChannelEvent::OnOpen => tracing::debug!("data channel open"),
            DataChannelEvent::OnMessage(message) => match DataMessage::parse(&message.data) {
                Ok(message) => events.emit(PeerEvent::Data(message)).await,
                // The console is not trusted: a bad message is the console's problem, not ours.
                Err(e) => tracing::warn!("dropping a data-channel message from the expert: {e}"),
            },
            DataChannelEvent::OnClose => break,
            _ => {}
        }
    }
    tracing::debug!("data channel closed");
}

/// Reads the browser's RTCP feedback on our video track and reports keyframe requests.
pub(crate) async fn read_video_feedback(track: Arc<dyn TrackLocal>, events: Events) {
    while let Some(event) = track.poll().await {
        match event {
            TrackLocalEvent::OnRtcpPacket(packets) if wire::is_keyframe_request(&packets) => {
                events.emit(PeerEvent::KeyframeRequest).await;
            }
            _ => {}
        }
    }
}
