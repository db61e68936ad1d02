//! Property tests of every parser of bytes a peer controls: the signaling frames in both
//! directions, the data-channel messages and the TURN stream framing.
//!
//! Whatever arrives, parsing returns a value or an error and never panics; what parses says the
//! same thing once passed on (serialised and parsed again), and every well-formed message
//! round-trips. Case counts are bounded so that the whole file runs in a few seconds.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use protocol::api::IceServer;
use protocol::data::{ControlState, DataMessage, HexBytes, InputEvent, MouseButton, PakeRefusal};
use protocol::ids::{InvitationId, SessionId};
use protocol::signal::{
    AgentToServer, ConsentState, ControlEvent, EndReason, ExpertToServer, ServerToAgent,
    ServerToExpert, SessionStats, Signal,
};
use protocol::turn_stream::{frame_for_stream, FrameError, StreamDecoder, MAX_FRAME_LEN};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Debug;
use uuid::Uuid;

const CASES: u32 = 1024;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        ..ProptestConfig::default()
    }
}

// ---- arbitrary JSON, shaped like our frames often enough to reach past the tag ----

/// Names our frames use, so that generated objects often have the right keys.
const KEYS: &[&str] = &[
    "type",
    "kind",
    "session_id",
    "invitation_id",
    "signal",
    "sdp",
    "candidate",
    "sdpMid",
    "sdpMLineIndex",
    "accept",
    "stats",
    "fps",
    "kbps",
    "rtt_ms",
    "event",
    "agent_name",
    "expert_name",
    "ice_servers",
    "urls",
    "username",
    "credential",
    "answer_by",
    "offered_by_desk",
    "reason",
    "code",
    "message",
    "ticket",
    "state",
    "novice_name",
    "from",
    "text",
    "button",
    "down",
    "x",
    "y",
    "dx",
    "dy",
    "key",
    "share",
    "mac",
    "ok",
    "tries_left",
];

/// Tag values and enum names our frames use.
const WORDS: &[&str] = &[
    "consent",
    "signal",
    "hang_up",
    "ping",
    "pong",
    "stats",
    "control",
    "welcome",
    "session_request",
    "session_ended",
    "invitation_declined",
    "error",
    "hello",
    "offer",
    "answer",
    "candidate",
    "end_of_candidates",
    "requested",
    "granted",
    "refused",
    "stopped",
    "pending",
    "waiting",
    "accepted",
    "novice_hung_up",
    "peer_gone",
    "chat",
    "bye",
    "control_request",
    "control_release",
    "input",
    "move",
    "button",
    "wheel",
    "key",
    "left",
    "middle",
    "right",
    "Escape",
    "pake",
    "pake_confirm",
    "pake_result",
    "mismatch",
    "malformed",
    "locked",
    "timeout",
    "password_mismatch",
    "invitation_closed",
    "0b6f2a64-4f7e-4b3c-9a57-0d2c1c9a1e11",
];

fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_owned),
        any::<String>(),
    ]
}

fn json_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u32..4000).prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |f| {
            serde_json::Number::from_f64(f).map(Value::Number)
        }),
        prop::sample::select(vec![1e39, -1.0, 0.5, 4_294_967_296.0, 1e300]).prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(),
        json_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        4 => prop::sample::select(KEYS).prop_map(str::to_owned),
                        1 => any::<String>(),
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Parses `bytes` as a `T`; whatever parses must say the same thing once passed on.
fn parses_stably<T>(bytes: &[u8]) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    if let Ok(parsed) = serde_json::from_slice::<T>(bytes) {
        round_trips(&parsed)?;
    }
    Ok(())
}

fn round_trips<T>(message: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let text = serde_json::to_string(message)
        .map_err(|e| TestCaseError::fail(format!("{message:?} does not serialise: {e}")))?;
    let again: T = serde_json::from_str(&text)
        .map_err(|e| TestCaseError::fail(format!("{text} does not parse back: {e}")))?;
    prop_assert_eq!(&again, message, "{}", text);
    Ok(())
}

fn every_frame_parses_stably(bytes: &[u8]) -> Result<(), TestCaseError> {
    parses_stably::<AgentToServer>(bytes)?;
    parses_stably::<ServerToAgent>(bytes)?;
    parses_stably::<ExpertToServer>(bytes)?;
    parses_stably::<ServerToExpert>(bytes)?;
    if let Ok(message) = DataMessage::parse(bytes) {
        round_trips(&message)?;
    }
    Ok(())
}

// ---- well-formed messages ----

fn session_id() -> impl Strategy<Value = SessionId> {
    any::<u128>().prop_map(|n| SessionId(Uuid::from_u128(n)))
}

fn invitation_id() -> impl Strategy<Value = InvitationId> {
    any::<u128>().prop_map(|n| InvitationId(Uuid::from_u128(n)))
}

fn signal() -> impl Strategy<Value = Signal> {
    prop_oneof![
        any::<String>().prop_map(|sdp| Signal::Offer { sdp }),
        any::<String>().prop_map(|sdp| Signal::Answer { sdp }),
        (
            any::<String>(),
            any::<Option<String>>(),
            any::<Option<u16>>()
        )
            .prop_map(|(candidate, sdp_mid, sdp_mline_index)| Signal::Candidate {
                candidate,
                sdp_mid,
                sdp_mline_index,
            }),
        Just(Signal::EndOfCandidates),
    ]
}

fn end_reason() -> impl Strategy<Value = EndReason> {
    prop::sample::select(vec![
        EndReason::NoviceHungUp,
        EndReason::ExpertHungUp,
        EndReason::Declined,
        EndReason::ConsentTimeout,
        EndReason::PeerGone,
        EndReason::Revoked,
        EndReason::ServerShutdown,
        EndReason::NotRecorded,
        EndReason::VideoUnsupported,
        EndReason::PasswordMismatch,
        EndReason::InvitationClosed,
    ])
}

fn stats() -> impl Strategy<Value = SessionStats> {
    (0f32..=f32::MAX, any::<u32>(), any::<Option<u32>>())
        .prop_map(|(fps, kbps, rtt_ms)| SessionStats { fps, kbps, rtt_ms })
}

fn control_event() -> impl Strategy<Value = ControlEvent> {
    prop::sample::select(vec![
        ControlEvent::Requested,
        ControlEvent::Granted,
        ControlEvent::Refused,
        ControlEvent::Stopped,
    ])
}

fn agent_to_server() -> impl Strategy<Value = AgentToServer> {
    let control = control_event();
    prop_oneof![
        (session_id(), any::<bool>())
            .prop_map(|(session_id, accept)| AgentToServer::Consent { session_id, accept }),
        (session_id(), signal())
            .prop_map(|(session_id, signal)| AgentToServer::Signal { session_id, signal }),
        session_id().prop_map(|session_id| AgentToServer::HangUp {
            session_id,
            reason: None,
        }),
        Just(AgentToServer::Ping),
        (session_id(), stats())
            .prop_map(|(session_id, stats)| AgentToServer::Stats { session_id, stats }),
        (session_id(), control)
            .prop_map(|(session_id, event)| AgentToServer::Control { session_id, event }),
    ]
}

fn ice_server() -> impl Strategy<Value = IceServer> {
    (
        prop::collection::vec(any::<String>(), 0..3),
        any::<Option<String>>(),
        any::<Option<String>>(),
    )
        .prop_map(|(urls, username, credential)| IceServer {
            urls,
            username,
            credential,
        })
}

fn server_to_agent() -> impl Strategy<Value = ServerToAgent> {
    prop_oneof![
        any::<String>().prop_map(|agent_name| ServerToAgent::Welcome { agent_name }),
        (
            session_id(),
            invitation_id(),
            any::<String>(),
            prop::collection::vec(ice_server(), 0..3),
            any::<i64>(),
            any::<Option<String>>(),
            any::<bool>(),
        )
            .prop_map(
                |(session_id, invitation_id, expert_name, ice_servers, answer_by, desk, again)| {
                    ServerToAgent::SessionRequest {
                        session_id,
                        invitation_id,
                        expert_name,
                        ice_servers,
                        answer_by,
                        offered_by_desk: desk,
                        again,
                    }
                }
            ),
        (session_id(), signal())
            .prop_map(|(session_id, signal)| ServerToAgent::Signal { session_id, signal }),
        (session_id(), end_reason())
            .prop_map(|(session_id, reason)| ServerToAgent::SessionEnded { session_id, reason }),
        (invitation_id(), any::<String>()).prop_map(|(invitation_id, expert_name)| {
            ServerToAgent::InvitationDeclined {
                invitation_id,
                expert_name,
            }
        }),
        (session_id(), control_event())
            .prop_map(|(session_id, event)| ServerToAgent::ControlRecorded { session_id, event }),
        Just(ServerToAgent::Pong),
        (any::<String>(), any::<String>())
            .prop_map(|(code, message)| ServerToAgent::Error { code, message }),
    ]
}

fn expert_to_server() -> impl Strategy<Value = ExpertToServer> {
    prop_oneof![
        (any::<String>(), any::<Option<String>>())
            .prop_map(|(ticket, resume)| ExpertToServer::Hello { ticket, resume }),
        signal().prop_map(|signal| ExpertToServer::Signal { signal }),
        Just(ExpertToServer::HangUp),
        Just(ExpertToServer::Ping),
    ]
}

fn server_to_expert() -> impl Strategy<Value = ServerToExpert> {
    prop_oneof![
        (
            prop::sample::select(vec![ConsentState::Waiting, ConsentState::Accepted]),
            any::<String>(),
            any::<Option<String>>(),
            prop::collection::vec(ice_server(), 0..3),
        )
            .prop_map(|(state, novice_name, resume, ice_servers)| {
                ServerToExpert::Consent {
                    state,
                    novice_name,
                    resume,
                    ice_servers,
                }
            }),
        signal().prop_map(|signal| ServerToExpert::Signal { signal }),
        (end_reason(), any::<String>())
            .prop_map(|(reason, message)| ServerToExpert::SessionEnded { reason, message }),
        Just(ServerToExpert::Pong),
        (any::<String>(), any::<String>())
            .prop_map(|(code, message)| ServerToExpert::Error { code, message }),
    ]
}

fn mouse_button() -> impl Strategy<Value = MouseButton> {
    prop::sample::select(vec![
        MouseButton::Left,
        MouseButton::Middle,
        MouseButton::Right,
    ])
}

fn input_event() -> impl Strategy<Value = InputEvent> {
    prop_oneof![
        (any::<u32>(), any::<u32>()).prop_map(|(x, y)| InputEvent::Move { x, y }),
        (mouse_button(), any::<bool>(), any::<u32>(), any::<u32>())
            .prop_map(|(button, down, x, y)| InputEvent::Button { button, down, x, y }),
        (any::<i32>(), any::<i32>()).prop_map(|(dx, dy)| InputEvent::Wheel { dx, dy }),
        (any::<String>(), any::<bool>()).prop_map(|(key, down)| InputEvent::Key { key, down }),
    ]
}

fn data_message() -> impl Strategy<Value = DataMessage> {
    prop_oneof![
        (any::<String>(), any::<String>())
            .prop_map(|(from, text)| DataMessage::Chat { from, text }),
        Just(DataMessage::Bye),
        Just(DataMessage::ControlRequest),
        Just(DataMessage::ControlRelease),
        (
            prop::sample::select(vec![
                ControlState::Pending,
                ControlState::Granted,
                ControlState::Refused,
                ControlState::Stopped,
            ]),
            any::<String>()
        )
            .prop_map(|(state, message)| DataMessage::Control { state, message }),
        input_event().prop_map(|event| DataMessage::Input { event }),
        prop::collection::vec(any::<u8>(), 65).prop_map(|bytes| {
            let mut share = [0u8; 65];
            share.copy_from_slice(&bytes);
            DataMessage::Pake {
                share: HexBytes(share),
            }
        }),
        any::<[u8; 32]>().prop_map(|mac| DataMessage::PakeConfirm { mac: HexBytes(mac) }),
        (
            any::<bool>(),
            prop::option::of(prop::sample::select(vec![
                PakeRefusal::Mismatch,
                PakeRefusal::Malformed,
                PakeRefusal::Locked,
                PakeRefusal::Timeout,
            ])),
            any::<Option<u32>>()
        )
            .prop_map(|(ok, reason, tries_left)| DataMessage::PakeResult {
                ok,
                reason,
                tries_left
            }),
    ]
}

// ---- TURN stream messages ----

/// A STUN message: a header with the magic cookie, and `attributes` (whose length is rounded
/// down to a multiple of four).
fn stun_message() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 2]>(),
        any::<[u8; 12]>(),
        prop::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(kind, transaction, mut attributes)| {
            attributes.truncate(attributes.len() / 4 * 4);
            let mut message = vec![kind[0] & 0x3f, kind[1]];
            message.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
            message.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
            message.extend_from_slice(&transaction);
            message.extend(attributes);
            message
        })
}

/// A ChannelData message on a channel a client may bind, without padding.
fn channel_data() -> impl Strategy<Value = Vec<u8>> {
    (
        0x4000u16..=0x4FFF,
        prop::collection::vec(any::<u8>(), 0..1500),
    )
        .prop_map(|(channel, data)| {
            let mut message = channel.to_be_bytes().to_vec();
            message.extend_from_slice(&(data.len() as u16).to_be_bytes());
            message.extend(data);
            message
        })
}

fn datagram() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![stun_message(), channel_data()]
}

/// Bytes that often start like a TURN message, so that decoding gets past the first check.
fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2000),
        (
            datagram(),
            prop::collection::vec(any::<u8>(), 0..64),
            any::<usize>()
        )
            .prop_map(|(mut bytes, noise, at)| {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, noise);
                bytes
            }),
    ]
}

/// Splits `bytes` into reads at the given cut points.
fn reads(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([bytes.len()]) {
        out.push(bytes[start..cut].to_vec());
        start = cut;
    }
    out
}

/// Feeds `reads` to a decoder, taking every message after each read, until the end or the
/// first error.
fn decode(reads: &[Vec<u8>]) -> (Vec<Vec<u8>>, Option<FrameError>) {
    let mut decoder = StreamDecoder::default();
    let mut frames = Vec::new();
    for read in reads {
        decoder.handle_bytes(read);
        loop {
            match decoder.poll_frame() {
                Ok(Some(frame)) => frames.push(frame.to_vec()),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_crash_a_frame_parser(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        every_frame_parses_stably(&bytes)?;
    }

    #[test]
    fn arbitrary_json_never_crashes_a_frame_parser_and_what_parses_passes_on_unchanged(value in json_value()) {
        every_frame_parses_stably(value.to_string().as_bytes())?;
    }

    #[test]
    fn frames_with_a_known_type_and_arbitrary_fields_parse_stably(
        tag in prop::sample::select(WORDS),
        tag_key in prop::sample::select(vec!["type", "kind"]),
        fields in prop::collection::vec((prop::sample::select(KEYS), json_value()), 0..6),
    ) {
        let mut object: serde_json::Map<String, Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        object.insert(tag_key.to_owned(), Value::from(tag));
        every_frame_parses_stably(Value::Object(object).to_string().as_bytes())?;
    }

    #[test]
    fn a_reported_frame_rate_is_finite_and_not_negative_or_refused(fps in json_number(), kbps in json_number()) {
        let frame = serde_json::json!({
            "type": "stats",
            "session_id": "0b6f2a64-4f7e-4b3c-9a57-0d2c1c9a1e11",
            "stats": { "fps": fps, "kbps": kbps },
        });
        if let Ok(AgentToServer::Stats { stats, .. }) = serde_json::from_value::<AgentToServer>(frame.clone()) {
            prop_assert!(stats.fps.is_finite() && stats.fps >= 0.0, "{} gave {:?}", frame, stats);
            round_trips(&AgentToServer::Stats { session_id: SessionId(Uuid::nil()), stats })?;
        }
    }

    #[test]
    fn well_formed_signaling_frames_round_trip(
        a in agent_to_server(),
        b in server_to_agent(),
        c in expert_to_server(),
        d in server_to_expert(),
    ) {
        round_trips(&a)?;
        round_trips(&b)?;
        round_trips(&c)?;
        round_trips(&d)?;
    }

    #[test]
    fn well_formed_data_channel_messages_round_trip(message in data_message()) {
        let bytes = serde_json::to_vec(&message).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if bytes.len() <= protocol::MAX_DATA_MESSAGE {
            prop_assert_eq!(DataMessage::parse(&bytes), Ok(message));
        } else {
            prop_assert!(DataMessage::parse(&bytes).is_err());
        }
    }

    #[test]
    fn a_share_or_confirmation_parses_only_as_exactly_its_length_of_hex(
        digits in "[0-9a-fA-FxX ]{0,140}",
        kind in prop::sample::select(vec![("pake", "share", 65usize), ("pake_confirm", "mac", 32)]),
    ) {
        let (tag, field, bytes) = kind;
        let text = serde_json::json!({ "type": tag, field: digits }).to_string();
        let parsed = DataMessage::parse(text.as_bytes());
        let hex = digits.len() == 2 * bytes && digits.chars().all(|c| c.is_ascii_hexdigit());
        prop_assert_eq!(parsed.is_ok(), hex, "{} gave {:?}", text, parsed);
        if let Ok(message) = parsed {
            round_trips(&message)?;
        }
    }

    #[test]
    fn pointer_coordinates_parse_only_as_screen_pixels(x in json_number(), y in json_number()) {
        let text = serde_json::json!({
            "type": "input",
            "event": { "kind": "button", "button": "left", "down": true, "x": x, "y": y },
        })
        .to_string();
        let pixel = |v: &Value| v.as_u64().is_some_and(|n| u32::try_from(n).is_ok());
        let parsed = DataMessage::parse(text.as_bytes());
        prop_assert_eq!(parsed.is_ok(), pixel(&x) && pixel(&y), "{} gave {:?}", text, parsed);
    }

    #[test]
    fn oversized_data_channel_messages_are_refused_unread(
        extra in 1usize..4096,
        fill in prop::sample::select(vec![b' ', b'{', b'"', b'a']),
    ) {
        let bytes = vec![fill; protocol::MAX_DATA_MESSAGE + extra];
        let refused = DataMessage::parse(&bytes);
        prop_assert!(refused.as_ref().is_err_and(|e| e.contains("limit")), "{:?}", refused);
    }

    #[test]
    fn any_stream_decodes_into_messages_of_bounded_size_then_stops_at_an_error(
        bytes in stream_bytes(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let (frames, error) = decode(&reads(&bytes, &cuts));
        let mut taken = 0;
        for frame in &frames {
            prop_assert!(frame.len() <= MAX_FRAME_LEN);
            // What comes out is one whole datagram: it goes back on a stream as it came.
            let again = frame_for_stream(frame);
            prop_assert!(again.is_ok(), "{:?}", again);
            let again = again.unwrap_or_default();
            prop_assert_eq!(&again[..frame.len()], &frame[..]);
            prop_assert_eq!(bytes.get(taken..taken + frame.len()), Some(&frame[..]));
            taken += again.len();
        }
        prop_assert!(taken <= bytes.len());
        // How the stream was cut into reads changes nothing.
        prop_assert_eq!(decode(std::slice::from_ref(&bytes)), (frames, error));
    }

    #[test]
    fn framed_datagrams_come_out_whole_whatever_the_reads(
        datagrams in prop::collection::vec(datagram(), 0..6),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut stream = Vec::new();
        for datagram in &datagrams {
            let framed = frame_for_stream(datagram);
            prop_assert!(framed.is_ok(), "{:?}", framed);
            let framed = framed.unwrap_or_default();
            prop_assert_eq!(framed.len() % 4, 0);
            stream.extend(framed);
        }
        prop_assert_eq!(decode(&reads(&stream, &cuts)), (datagrams, None));
    }

    #[test]
    fn arbitrary_datagrams_go_on_a_stream_whole_or_not_at_all(datagram in stream_bytes()) {
        if let Ok(framed) = frame_for_stream(&datagram) {
            prop_assert!(framed.len() <= MAX_FRAME_LEN);
            let (frames, error) = decode(&[framed]);
            prop_assert_eq!(error, None);
            prop_assert_eq!(frames.len(), 1);
            // The datagram itself, less any padding it carried.
            prop_assert!(datagram.starts_with(&frames[0]));
        }
    }
}
