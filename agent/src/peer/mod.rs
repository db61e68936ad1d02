//! The agent's side of one WebRTC session with the expert's browser.
//!
//! The agent is the offerer: [`Peer::start`] creates the connection with one send-only video
//! track, offered as H.264 and VP8 (the browser's answer picks, see [`PeerEvent::Negotiated`]),
//! and one reliable, ordered data channel labelled [`protocol::data::CHANNEL_LABEL`], and emits
//! the offer. Everything the other side needs to see (the offer, trickled candidates,
//! end of candidates) comes out as [`PeerEvent::Signal`] for the signaling connection to relay;
//! what the browser sends back goes into [`Peer::handle_signal`].
//!
//! * `wire`: pure translations between protocol messages and the stack's types.
//! * `events`: the bridge from the stack's callbacks and streams to [`PeerEvent`].
//! * `feedback`: lets the browser's keyframe requests, and the congestion controller's
//!   estimates, through the stack's RTCP interceptors.
//! * `sending`: what the answer settled for the video (codec, payload type, header
//!   extensions) and the packetizer that turns frames into RTP packets for it.
//! * `estimate`: the congestion controller: what the path carries, from the browser's
//!   transport-wide feedback; `queue_delay`, its delay signal.
//! * `recovery`: ICE restart when the network path breaks.
//! * `retransmission`: one resent copy of a lost packet per round trip, however often the
//!   browser asks.
//! * `turn_tcp`: TURN over TCP and TLS, which the stack lacks, through loopback shims.
//! * `error`: [`PeerError`].
//!
//! The WebRTC stack is `webrtc` (webrtc-rs), which runs its own driver task per connection over
//! a sans-IO core; this module only configures it and translates. Send-side congestion control
//! runs in the stack's interceptors: transport-wide sequence numbers on every packet, the
//! browser's feedback into our estimator (`estimate`), the stack's pacer releasing packets at
//! the estimate; the estimate comes out as
//! [`Peer::target_bitrate`] for the encoder to follow.

mod error;
mod estimate;
mod events;
mod feedback;
mod queue_delay;
mod recovery;
mod retransmission;
mod sending;
mod turn_tcp;
mod wire;

pub use error::PeerError;
pub use turn_tcp::{FrameError, TurnTrust};
pub use wire::VideoCodec;

use events::Events;
use protocol::data::{DataMessage, CHANNEL_LABEL};
use protocol::signal::Signal;
use rtc::data_channel::RTCDataChannelInit;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::interceptor::{CongestionControlBuilder, PacerBuilder, Slot, TwccSenderBuilder};
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp::extension::playout_delay_extension::PlayoutDelayExtension;
use rtc::rtp::extension::HeaderExtension;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::peer_connection::{
    register_default_interceptors, MediaEngine, PeerConnection, PeerConnectionBuilder,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCSessionDescription, RTCStatsReport,
    RTCStatsReportEntry, Registry, SettingEngineBuilder, StatsSelector,
};
use webrtc::rtp_transceiver::RtpSender;

/// How many events may wait for the agent before the stack's callbacks wait too.
const EVENT_CAPACITY: usize = 256;

/// Where the congestion controller starts before the browser's first feedback, in bits/s: a
/// desktop's first keyframe leaves within a second on a 1 Mbit/s link, and the estimate moves
/// from there within a few round trips.
const INITIAL_BITRATE: f64 = 1_000_000.0;
/// The lowest estimate the encoder is asked to follow: below it a desktop is unreadable anyway.
pub const MIN_BITRATE: u32 = 100_000;
/// Packets the pacer may hold: two seconds of a 5 Mbit/s stream. Past that, new packets are
/// refused, which the browser's NACK and keyframe requests repair.
const PACER_QUEUE: usize = 1_000;

/// What a session needs to know about the network.
#[derive(Clone, Debug)]
pub struct PeerConfig {
    /// STUN and TURN servers, used as given (the server hands out short-lived TURN credentials
    /// with each session).
    pub ice_servers: Vec<protocol::api::IceServer>,
    /// Local addresses to open UDP sockets on, one host candidate each. Empty means every
    /// interface except loopback and link-local, which is what a real session wants; tests pin
    /// it to `127.0.0.1` so that no packet leaves the machine.
    pub local_ips: Vec<IpAddr>,
    /// Whom a TURN server reached over TLS (`turns:`) must have its certificate from.
    pub turn_trust: TurnTrust,
    /// The most the congestion controller may estimate, in bits/s: the encoder's configured
    /// bitrate, which a fast link reaches and never exceeds.
    pub max_bitrate: u32,
}

impl Default for PeerConfig {
    fn default() -> Self {
        Self {
            ice_servers: Vec::new(),
            local_ips: Vec::new(),
            turn_trust: TurnTrust::default(),
            max_bitrate: crate::media::MediaConfig::default().bitrate_bps,
        }
    }
}

/// What happened on the session, in the order it happened.
#[derive(Debug)]
pub enum PeerEvent {
    /// To relay to the expert through the signaling server: the offer, trickled candidates and
    /// end-of-candidates.
    Signal(Signal),
    /// The browser's answer chose the codec the video must be encoded in. Reported once, before
    /// [`PeerEvent::Connected`].
    Negotiated { codec: VideoCodec },
    /// ICE and DTLS are up: media can flow. Reported once; a path restored by ICE restart is
    /// reported as a keyframe request.
    Connected,
    /// A well-formed message from the console. Malformed and oversized ones are logged and
    /// dropped.
    Data(DataMessage),
    /// The browser asked for a keyframe (PLI or FIR): the encoder should send an IDR next.
    KeyframeRequest,
    /// The connection failed, was lost or was closed; reported once.
    Closed { reason: String },
}

/// What [`Peer::link_stats`] read of the path to the browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkStats {
    /// The round-trip time as the stack last measured it: the selected ICE candidate pair's
    /// current RTT (STUN consent checks), else the RTT the browser's RTCP receiver reports give
    /// for the video. `None` before anything was measured.
    pub round_trip: Option<Duration>,
    /// RTP packets and their bytes the stack has really sent for the video so far (after the
    /// pacer, retransmissions included): what left, rather than what was handed over.
    pub video_sent: (u64, u64),
}

/// One WebRTC session with the expert's browser.
///
/// Its event receiver must be drained: the stack waits when it is full.
pub struct Peer {
    connection: Arc<dyn PeerConnection>,
    video: Arc<TrackLocalStaticRTP>,
    video_sender: Arc<dyn RtpSender>,
    video_ssrc: u32,
    /// Known once the browser's answer settled the codec; video before that is refused.
    sending: OnceLock<tokio::sync::Mutex<sending::Sending>>,
    /// The congestion controller's latest estimate, in bits/s.
    target_bitrate: watch::Receiver<u32>,
    /// The last round-trip time measured, for the retransmission filter and the estimator.
    round_trip_ms: retransmission::SharedRoundTrip,
    /// The share of video the browser last reported lost, for the estimator.
    reported_loss: estimate::SharedLoss,
    /// The browser's candidates that overtook its answer on the way, applied after it; `None`
    /// once the answer is in.
    early_candidates: Mutex<Option<Vec<RTCIceCandidateInit>>>,
    /// Set when every local socket is on loopback: the browser's candidates elsewhere are then
    /// unreachable, and checks towards them are skipped.
    loopback_only: bool,
    channel: Arc<dyn DataChannel>,
    events: Events,
    /// Reader tasks ended by [`Peer::close`] and on drop.
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// What carries TURN over TCP and TLS for the stack; stopped by [`Peer::close`], and on drop.
    turn_shims: Mutex<Vec<turn_tcp::TurnShim>>,
}

impl Peer {
    /// Creates the connection, its video track and data channel, and emits the offer as the
    /// first event.
    pub async fn start(config: PeerConfig) -> Result<(Peer, mpsc::Receiver<PeerEvent>), PeerError> {
        let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
        let (path_tx, path_rx) = mpsc::unbounded_channel();
        let events = Events::new(tx, path_tx);
        let loopback_only =
            !config.local_ips.is_empty() && config.local_ips.iter().all(IpAddr::is_loopback);

        let mut media = MediaEngine::default();
        for codec in wire::OFFERED {
            media
                .register_codec(wire::codec_parameters(codec), RtpCodecKind::Video)
                .map_err(PeerError::Setup)?;
        }
        // Asks the browser to show each frame as soon as it is decoded (see `send_video`).
        media
            .register_header_extension(
                RTCRtpHeaderExtensionCapability {
                    uri: no_playout_delay().uri().into_owned(),
                },
                RtpCodecKind::Video,
                None,
            )
            .map_err(PeerError::Setup)?;
        // NACK retransmission, PLI/FIR feedback, receiver reports and transport-wide feedback
        // (whose header extension and `transport-cc` feedback they register), then send-side
        // congestion control over that feedback: sequence numbers on what leaves, GCC, a pacer.
        let max_bitrate = f64::from(config.max_bitrate.max(MIN_BITRATE));
        let initial = INITIAL_BITRATE.min(max_bitrate);
        let (estimates, target_bitrate) = watch::channel(initial as u32);
        let round_trip_ms = retransmission::SharedRoundTrip::default();
        let reported_loss = estimate::SharedLoss::default();
        let interceptors = register_default_interceptors(Registry::new(), &mut media)
            .map_err(PeerError::Setup)?
            .with(
                Slot::CongestionControl,
                CongestionControlBuilder::new(estimate::LinkEstimator::new(
                    initial,
                    f64::from(MIN_BITRATE),
                    max_bitrate,
                    Arc::clone(&round_trip_ms),
                    Arc::clone(&reported_loss),
                ))
                .build(),
            )
            .with(Slot::TwccSender, TwccSenderBuilder::new().build())
            .with(
                Slot::Pacer,
                PacerBuilder::new()
                    .with_target_bitrate(initial)
                    .with_queue_limit(PACER_QUEUE)
                    .build(),
            )
            .with(
                Slot::from(retransmission::SLOT),
                retransmission::RetransmissionFilter::new(Arc::clone(&round_trip_ms)),
            )
            .with(
                Slot::from(feedback::SLOT),
                feedback::FeedbackForwarder::new(estimates),
            );

        // The stack reaches TURN servers over UDP only; those over TCP and TLS through shims.
        let (ice_servers, turn_shims) =
            turn_tcp::start_shims(&config.ice_servers, &config.turn_trust).await;
        let connection = PeerConnectionBuilder::new()
            .with_configuration(
                RTCConfigurationBuilder::new()
                    .with_ice_servers(wire::ice_servers(&ice_servers))
                    .build(),
            )
            .with_media_engine(media)
            // An ICE restart binds new sockets on the interfaces the machine has by then: after
            // a change of network the old ones are bound to an address that is gone.
            //
            // No multicast DNS: the stack would bind 0.0.0.0:5353 and join 224.0.0.251 whatever
            // `--local-ip` says, and a host without a multicast route (`No such device`) could
            // not start a session at all. Nothing needs it: the agent's own candidates carry
            // addresses, and a browser that hides its host addresses behind `.local` names is
            // still reached, as its connectivity checks arrive from those addresses and become
            // peer-reflexive candidates (besides its server-reflexive and relay ones).
            //
            // Those peer-reflexive candidates are the browser's host addresses, proven reachable
            // by its own check, so a pair with one is nominated as soon as it works, like a
            // host pair; the stack's default makes them wait a second, half of a relay pair's
            // two, and on a busy machine the relay pair had won that race.
            .with_setting_engine(
                SettingEngineBuilder::new()
                    .with_discard_local_candidates_during_ice_restart(true)
                    .with_multicast_dns_mode(MulticastDnsMode::Disabled)
                    .with_prflx_acceptance_min_wait(Some(Duration::ZERO))
                    .build(),
            )
            .with_interceptor_registry(interceptors)
            .with_handler(Arc::new(events.clone()))
            .with_udp_addrs(bind_addrs(&config.local_ips))
            .build()
            .await
            .map_err(PeerError::Setup)?;
        let connection: Arc<dyn PeerConnection> = Arc::new(connection);

        let video_ssrc = rand::random::<u32>();
        // Bound to the connection as the H.264 track; a VP8 answer renames its codec before
        // the answer is applied (see `handle_answer`). Packets are made by `sending`.
        let video = Arc::new(TrackLocalStaticRTP::new(desktop_track(
            video_ssrc,
            wire::OFFERED[0],
        )));
        let transceiver = connection
            .add_transceiver_from_track(
                Arc::clone(&video) as Arc<dyn TrackLocal>,
                Some(RTCRtpTransceiverInit {
                    direction: RTCRtpTransceiverDirection::Sendonly,
                    streams: vec!["desktop".to_owned()],
                    send_encodings: vec![],
                }),
            )
            .await
            .map_err(PeerError::Setup)?;
        // Every codec in the offer, not only the track's.
        transceiver
            .set_codec_preferences(wire::OFFERED.map(wire::codec_parameters).to_vec())
            .await
            .map_err(PeerError::Setup)?;
        let video_sender = transceiver
            .sender()
            .await
            .map_err(PeerError::Setup)?
            .ok_or(PeerError::Setup(
                webrtc::error::Error::ErrRTPSenderNotExisted,
            ))?;

        let channel = connection
            .create_data_channel(
                CHANNEL_LABEL,
                Some(RTCDataChannelInit {
                    ordered: true,
                    ..Default::default()
                }),
            )
            .await
            .map_err(PeerError::Setup)?;

        let offer = connection
            .create_offer(None)
            .await
            .map_err(PeerError::Setup)?;
        // Emitted before it is applied: applying starts gathering, and the browser must see the
        // offer before the first candidate.
        events
            .emit(PeerEvent::Signal(Signal::Offer {
                sdp: offer.sdp.clone(),
            }))
            .await;
        connection
            .set_local_description(offer)
            .await
            .map_err(PeerError::Setup)?;

        let reader = tokio::spawn(events::read_data_channel(
            Arc::clone(&channel),
            events.clone(),
        ));
        let recovery = tokio::spawn(recovery::run(
            Arc::clone(&connection),
            events.clone(),
            path_rx,
        ));
        let peer = Peer {
            connection,
            video,
            video_sender,
            video_ssrc,
            sending: OnceLock::new(),
            target_bitrate,
            round_trip_ms,
            reported_loss,
            early_candidates: Mutex::new(Some(Vec::new())),
            loopback_only,
            channel,
            events,
            tasks: Mutex::new(vec![reader, recovery]),
            turn_shims: Mutex::new(turn_shims),
        };
        Ok((peer, rx))
    }

    /// The agent's signaling connection came back after a drop: a lost path is restarted at
    /// once, since the restart offered while it was away went nowhere.
    pub fn signaling_reconnected(&self) {
        self.events.signaling_back();
    }

    /// An address of this machine's connections went away (it joined another network): the
    /// path to the browser is lost with it and is restarted as soon as signaling is back.
    pub fn network_changed(&self) {
        self.events.network_changed();
    }

    /// Applies the browser's answer or one of its candidates. Candidates that arrive before the
    /// answer are kept until it arrives.
    pub async fn handle_signal(&self, signal: Signal) -> Result<(), PeerError> {
        match signal {
            Signal::Answer { sdp } => self.handle_answer(sdp).await,
            Signal::Candidate {
                candidate,
                sdp_mid,
                sdp_mline_index,
            } => {
                if self.loopback_only
                    && !wire::candidate_address(&candidate).is_some_and(|ip| ip.is_loopback())
                {
                    tracing::debug!(%candidate, "skipping a candidate off loopback");
                    return Ok(());
                }
                if wire::is_mdns_candidate(&candidate) {
                    // Its address shows up as a peer-reflexive candidate when its checks arrive.
                    tracing::debug!(%candidate, "skipping a candidate named by mDNS");
                    return Ok(());
                }
                let candidate = wire::candidate_init(candidate, sdp_mid, sdp_mline_index);
                if let Some(early) = lock(&self.early_candidates).as_mut() {
                    early.push(candidate);
                    return Ok(());
                }
                self.add_candidate(candidate).await
            }
            // Connectivity checks end on their own; nothing to apply.
            Signal::EndOfCandidates => Ok(()),
            Signal::Offer { .. } => Err(PeerError::UnexpectedSignal("offer")),
        }
    }

    async fn add_candidate(&self, candidate: RTCIceCandidateInit) -> Result<(), PeerError> {
        self.connection
            .add_ice_candidate(candidate)
            .await
            .map_err(|source| PeerError::Negotiation {
                what: "ICE candidate",
                source,
            })
    }

    async fn handle_answer(&self, sdp: String) -> Result<(), PeerError> {
        let negotiation = |source| PeerError::Negotiation {
            what: "answer",
            source,
        };
        // Read before the answer is applied: the stack binds the track's feedback and
        // congestion control to the codec the track names when the answer is applied.
        let chosen = wire::answered_video_codec(&sdp);
        let answer = RTCSessionDescription::answer(sdp).map_err(negotiation)?;
        let first_answer = self.sending.get().is_none();
        if first_answer {
            let codec = chosen.ok_or(PeerError::NoCommonCodec)?;
            if codec != wire::OFFERED[0] {
                let renamed = TrackLocalStaticRTP::new(desktop_track(self.video_ssrc, codec));
                self.video_sender
                    .replace_track(Arc::new(renamed))
                    .await
                    .map_err(negotiation)?;
            }
        }
        self.connection
            .set_remote_description(answer)
            .await
            .map_err(negotiation)?;
        let parameters = self
            .video_sender
            .get_parameters()
            .await
            .map_err(negotiation)?;
        let settled = sending::Sending::from_parameters(&parameters, self.video_ssrc)
            .ok_or(PeerError::NoCommonCodec)?;
        let codec = settled.codec();
        if first_answer && self.sending.set(tokio::sync::Mutex::new(settled)).is_ok() {
            tracing::info!(%codec, "the expert's browser chose the video codec");
            self.events.emit(PeerEvent::Negotiated { codec }).await;
            // The track is bound to the connection only now, so its feedback can be read.
            let feedback = tokio::spawn(events::read_video_feedback(
                Arc::clone(&self.video) as Arc<dyn TrackLocal>,
                self.events.clone(),
            ));
            lock(&self.tasks).push(feedback);
        }
        let early = lock(&self.early_candidates).take().unwrap_or_default();
        for candidate in early {
            self.add_candidate(candidate).await?;
        }
        Ok(())
    }

    /// Sends one encoded frame lasting `duration`: an Annex-B H.264 access unit (SPS and PPS
    /// before each IDR), or a VP8 frame. A frame in another codec than the one of
    /// [`PeerEvent::Negotiated`] is refused. Returns the number of RTP packets handed to the
    /// stack.
    pub async fn send_video(
        &self,
        frame: &[u8],
        codec: VideoCodec,
        duration: Duration,
    ) -> Result<usize, PeerError> {
        let Some(sending) = self.sending.get().filter(|_| self.events.is_connected()) else {
            return Err(PeerError::NotConnected);
        };
        let mut sending = sending.lock().await;
        if sending.codec() != codec {
            // Encoded before the encoder switched to the answer's codec.
            return Err(PeerError::OtherCodec {
                frame: codec,
                negotiated: sending.codec(),
            });
        }
        let packets = sending
            .packetize(frame, duration)
            .map_err(|e| self.send_error(e))?;
        let count = packets.len();
        // Only what the answer accepted: the stack drops a packet carrying anything else.
        let extensions: &[HeaderExtension] = if sending.playout_delay() {
            &[no_playout_delay()]
        } else {
            &[]
        };
        for packet in packets {
            self.video
                .write_rtp_with_extensions(packet, extensions)
                .await
                .map_err(|e| self.send_error(e))?;
        }
        Ok(count)
    }

    /// The congestion controller's estimate of what the path to the browser carries, in bits/s;
    /// changes as the browser's feedback arrives.
    pub fn target_bitrate(&self) -> watch::Receiver<u32> {
        self.target_bitrate.clone()
    }

    /// Sends one message to the console.
    pub async fn send_data(&self, message: &DataMessage) -> Result<(), PeerError> {
        // A tagged enum of strings always serializes.
        let text = serde_json::to_string(message).unwrap_or_default();
        self.channel
            .send_text(&text)
            .await
            .map_err(|e| self.send_error(e))
    }

    /// Waits until what was sent on the data channel has left (the browser acknowledged it),
    /// for at most `limit`: a last message before the connection closes (why the session ended)
    /// then reaches the console.
    pub async fn flush_data(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            match self.channel.outstanding_bytes().await {
                Ok(0) | Err(_) => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    /// How the path to the browser is doing, from one statistics report of the stack.
    pub async fn link_stats(&self) -> LinkStats {
        let report = self
            .connection
            .get_stats(Instant::now(), StatsSelector::None)
            .await;
        let round_trip = round_trip_time(&report);
        if let Some(rtt) = round_trip {
            let ms = u32::try_from(rtt.as_millis()).unwrap_or(u32::MAX);
            self.round_trip_ms
                .store(ms, std::sync::atomic::Ordering::Relaxed);
        }
        let lost = report.iter().find_map(|entry| match entry {
            RTCStatsReportEntry::RemoteInboundRtp(remote)
                if remote.received_rtp_stream_stats.rtp_stream_stats.ssrc == self.video_ssrc =>
            {
                Some(remote.fraction_lost)
            }
            _ => None,
        });
        if let Some(lost) = lost.filter(|f| f.is_finite()) {
            // A share: saturates into 0..=1 000 000 millionths.
            let millionths = (lost.clamp(0.0, 1.0) * 1e6) as u32;
            self.reported_loss
                .store(millionths, std::sync::atomic::Ordering::Relaxed);
        }
        let video_sent = report
            .outbound_rtp_streams()
            .filter(|s| s.sent_rtp_stream_stats.rtp_stream_stats.ssrc == self.video_ssrc)
            .fold((0, 0), |(packets, bytes), s| {
                (
                    packets + s.sent_rtp_stream_stats.packets_sent,
                    bytes + s.sent_rtp_stream_stats.bytes_sent,
                )
            });
        LinkStats {
            round_trip,
            video_sent,
        }
    }

    /// A failure to send is the connection's end, not an error of its own, once it has closed.
    fn send_error(&self, error: webrtc::error::Error) -> PeerError {
        match error {
            webrtc::error::Error::ErrDataChannelNotOpen => PeerError::NotConnected,
            _ if !self.events.is_connected() => PeerError::NotConnected,
            other => PeerError::Send(other),
        }
    }

    /// Ends the session: the browser sees the connection close. Reports `Closed` if nothing
    /// else did first.
    pub async fn close(&self) {
        // Reported first, so that media still on its way is refused as `NotConnected` instead of
        // failing inside a connection that is shutting down.
        self.events.close("the agent ended the session").await;
        self.stop_tasks();
        if let Err(e) = self.connection.close().await {
            tracing::warn!("closing the peer connection: {e}");
        }
        // After the connection, so that its last TURN requests could still go out.
        let shims = std::mem::take(&mut *lock(&self.turn_shims));
        for shim in shims {
            shim.stop().await;
        }
    }

    fn stop_tasks(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // The connection's own drop stops its driver; our readers hold clones of its parts.
        self.stop_tasks();
    }
}

/// Locks state that stays consistent even if a holder panicked; never held across an await.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One UDP socket per configured address, or the wildcard the stack expands into one per usable
/// interface.
fn bind_addrs(local_ips: &[IpAddr]) -> Vec<SocketAddr> {
    if local_ips.is_empty() {
        vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)]
    } else {
        local_ips.iter().map(|ip| SocketAddr::new(*ip, 0)).collect()
    }
}

/// The round-trip time in a stats report: the selected candidate pair's (or, before the
/// transport names one, the nominated pair's) `currentRoundTripTime`, else the video's
/// `remote-inbound-rtp` `roundTripTime`. Zero means not measured.
fn round_trip_time(report: &RTCStatsReport) -> Option<Duration> {
    let positive =
        |secs: f64| (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs));
    let selected = report
        .transport()
        .map(|t| t.selected_candidate_pair_id.as_str())
        .filter(|id| !id.is_empty());
    let pair = report
        .candidate_pairs()
        .filter(|pair| match selected {
            Some(id) => pair.stats.id == id,
            None => pair.nominated,
        })
        .find_map(|pair| positive(pair.current_round_trip_time));
    pair.or_else(|| {
        report.iter().find_map(|entry| match entry {
            RTCStatsReportEntry::RemoteInboundRtp(remote) => positive(remote.round_trip_time),
            _ => None,
        })
    })
}

/// The playout-delay header extension with a zero range: a live desktop is shown the moment a
/// frame is decoded, never buffered for smoothness.
fn no_playout_delay() -> HeaderExtension {
    HeaderExtension::PlayoutDelay(PlayoutDelayExtension::new(0, 0))
}

/// The desktop's video track of one SSRC, named as sent in `codec`.
fn desktop_track(ssrc: u32, codec: VideoCodec) -> MediaStreamTrack {
    MediaStreamTrack::new(
        "desktop".to_owned(),
        "desktop-video".to_owned(),
        "desktop".to_owned(),
        RtpCodecKind::Video,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: wire::codec_parameters(codec).rtp_codec,
            ..Default::default()
        }],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_can_be_shared_between_tasks() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Peer>();
    }

    #[test]
    fn no_address_means_every_interface() {
        assert_eq!(
            bind_addrs(&[]),
            [SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)]
        );
        assert_eq!(
            bind_addrs(&[IpAddr::V4(Ipv4Addr::LOCALHOST)]),
            [SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)]
        );
    }
}
