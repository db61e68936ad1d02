//! `agent invite`: create an invitation, print it, and serve the sessions that come through it.
//!
//! The invitation's secret ([`InvitationSecret`]) is drawn here and never sent to the server:
//! it goes into the link's fragment, the short code and the invitation file, and the agent keeps
//! its own record of the invitation ([`HeldInvitation`]) to judge every request by. Frames leave
//! only after [`Command::ShareScreen`], which the session emits once the expert's browser has
//! passed the password check, and input is injected only then too.
//!
//! [`serve_sessions`] is the driver around the pure [`crate::session::Session`], shared with
//! `agent online` ([`crate::online`]): it owns the signaling connection, the terminal, the
//! WebRTC peer and the media pipeline, feeds every event to the session, and carries out the
//! commands it returns, one session after another until the novice quits. Capture starts only
//! on `Command::StartSharing`, which the session emits only after the novice said yes. While a
//! session is live it measures the connection every [`REPORT_INTERVAL`] for the session to
//! report.

use crate::control::inject::Injector;
use crate::control::watch::{EscapeEdge, EscapeWatcher};
use crate::frontend::terminal::{open_with, say};
use crate::frontend::window::WindowAction;
use crate::frontend::{Frontend, Input};
use crate::invitation::clipboard::Clipboard;
use crate::invitation::file::{self as invitation_file, InvitationFile};
use crate::invitation::mail;
use crate::invitation::record::HeldInvitation;
use crate::invitation::secret::InvitationSecret;
use crate::media::{MediaConfig, Pipeline};
use crate::peer::{Peer, PeerConfig, PeerError, PeerEvent, TurnTrust};
use crate::pointer::{self, PointerWatcher};
use crate::quality::{self, SendCounters, Snapshot, REPORT_INTERVAL};
use crate::server_api::ServerApi;
use crate::session::{Command, PeerNews, Session, DEFAULT_ANSWER_TIME};
use crate::signal_client::{self, SignalEvent};
use crate::trace::Trace;
use anyhow::Context;
use protocol::api::{
    CreateInvitationRequest, DirectInvitationRequest, FailedChecks, InvitationCreated,
};
use protocol::data::DataMessage;
use protocol::ids::InvitationId;
use protocol::mail::utc;
use protocol::signal::ServerToAgent;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How long the data channel's last messages may take to be acknowledged before the connection
/// closes (a loaded machine may need more than a round trip).
const FLUSH_BEFORE_CLOSE: Duration = Duration::from_secs(2);

/// How the screen is shared in each session, for `agent invite` and `agent online` alike.
#[derive(Clone, Debug)]
pub struct ShareOptions {
    pub media: MediaConfig,
    pub local_ips: Vec<IpAddr>,
    /// Whom TURN servers over TLS must have their certificates from.
    pub turn_trust: TurnTrust,
    /// Where to write the timing trace, if anywhere.
    pub trace_timings: Option<PathBuf>,
}

/// How the driver talks about the server connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Waiting for the helper of one invitation: the connection only matters during a session.
    Invitation(InvitationId),
    /// An enrolled machine waiting for its support desk: being reachable is the point, so the
    /// novice hears when the connection drops and when it is back.
    Desk,
    /// Waiting for one expert's answer to a direct invitation: a decline ends the run.
    Direct(InvitationId),
    /// The novice's window: invitations are made from it while it is open.
    Window,
}

/// Options of `agent invite`.
#[derive(Clone, Debug)]
pub struct InviteOptions {
    pub expires_in: Option<Duration>,
    pub password: Option<String>,
    pub share: ShareOptions,
    /// Where to save the invitation as a file, if anywhere.
    pub save: Option<PathBuf>,
    /// Open the mail program with the invitation: `Some("")` without a recipient.
    pub email: Option<String>,
    /// Put the link on the clipboard.
    pub copy: bool,
    /// Have the server e-mail the invitation to this address.
    pub send_to: Option<String>,
    /// The program that opens `mailto:` addresses (`xdg-open`).
    pub open_with: String,
}

/// The desktop being shared: the peer, the capture pipeline and the task feeding one to the
/// other, and the input side for remote control when this display supports it.
struct Sharing {
    peer: Arc<Peer>,
    events: mpsc::Receiver<PeerEvent>,
    pipeline: Pipeline,
    pump: JoinHandle<()>,
    /// Passes the congestion controller's estimates to the encoder.
    rate: JoinHandle<()>,
    /// Tells the console where the novice's pointer is and what it looks like; with the
    /// watcher, absent when the display cannot report it.
    pointer: Option<(PointerWatcher, JoinHandle<()>)>,
    input: Option<ControlIo>,
    /// What the pump sent, and the totals at the last report.
    sent: Arc<SendCounters>,
    last_report: Snapshot,
    /// Whether frames may leave: set once the expert's browser passed the password check.
    showing: watch::Sender<bool>,
}

/// Injects the expert's input and watches the novice's Escape key.
struct ControlIo {
    injector: Injector,
    escapes: mpsc::Receiver<EscapeEdge>,
    /// Input dropped because it aimed at the novice's own window.
    refusals: mpsc::Receiver<()>,
    _watcher: EscapeWatcher,
}

impl ControlIo {
    fn open(display: Option<&str>) -> anyhow::Result<Self> {
        let mut injector = Injector::start(display)?;
        let refusals = injector
            .take_refusals()
            .ok_or_else(|| anyhow::anyhow!("the injector's refusals were taken"))?;
        let (watcher, escapes) = EscapeWatcher::start(display)?;
        Ok(Self {
            injector,
            escapes,
            refusals,
            _watcher: watcher,
        })
    }
}

impl Sharing {
    /// The expert's browser passed the password check: frames go out from now on, starting
    /// with a keyframe.
    fn show(&self) {
        if !self.showing.send_replace(true) {
            self.pipeline.request_keyframe();
        }
    }

    /// The novice paused sharing: no frame leaves, no input lands, until [`Sharing::show`].
    fn hide(&self) {
        self.showing.send_replace(false);
    }

    /// Whether frames (and so input) are let through.
    fn is_showing(&self) -> bool {
        *self.showing.borrow()
    }

    async fn stop(self) {
        if let Some(input) = &self.input {
            input.injector.release_all();
        }
        self.pump.abort();
        self.rate.abort();
        if let Some((_watcher, task)) = &self.pointer {
            task.abort();
        }
        self.pipeline.stop();
        // The last words on the data channel (a bye, the password check's result) go first.
        self.peer.flush_data(FLUSH_BEFORE_CLOSE).await;
        self.peer.close().await;
    }
}

/// Creates an invitation with a link: the server makes the link and the short code, and the
/// secret drawn here goes after them, where only the novice and the expert see it. Returns the
/// invitation as the novice sends it, the agent's own record of it, and its secret.
pub async fn create_link_invitation(
    api: &ServerApi,
    expires_in: Option<Duration>,
    password: Option<&str>,
    email_to: Option<String>,
) -> anyhow::Result<(InvitationCreated, HeldInvitation, InvitationSecret)> {
    let secret = InvitationSecret::generate(&mut rand::rngs::OsRng);
    let mut inv = api
        .create_invitation(&CreateInvitationRequest {
            expires_in_secs: expires_in.map(|d| d.as_secs()),
            has_password: password.is_some(),
            password: None,
            email_to,
        })
        .await
        .context("cannot create the invitation")?;
    inv.link = secret.link(&inv.link);
    inv.short_code = secret.short_code(&inv.short_code);
    let held = HeldInvitation::link(inv.id, &secret, password, instant_of(inv.expires_at));
    Ok((inv, held, secret))
}

pub async fn run(api: ServerApi, opts: InviteOptions) -> anyhow::Result<()> {
    let (inv, held, secret) = create_link_invitation(
        &api,
        opts.expires_in,
        opts.password.as_deref(),
        opts.send_to.clone(),
    )
    .await?;
    print_invitation(&inv, api.base());
    // Held for the whole run: on X, the clipboard's contents live in the program that copied.
    let _clipboard = if opts.copy {
        match Clipboard::copy(opts.share.media.display.as_deref(), &inv.link) {
            Ok(clipboard) => {
                say("  Copied the link to the clipboard.");
                Some(clipboard)
            }
            Err(err) => {
                say(&format!("  {err}"));
                None
            }
        }
    } else {
        None
    };
    if let Some(path) = &opts.save {
        save_invitation(&api, &inv, path)?;
        say(&format!(
            "  Saved as:   {} (send this file; double-clicking it opens the invitation)",
            path.display()
        ));
    }
    match (&inv.emailed_to, &inv.email_error) {
        (Some(to), _) => {
            say(&format!("  E-mailed to: {to}"));
            say(&format!(
                "  The server's e-mail cannot hold the secret part of the link: tell your helper the secret code {} another way (phone, chat); the page asks for it.",
                secret.grouped()
            ));
        }
        (None, Some(error)) => say(&format!("  Not e-mailed: {error}")),
        (None, None) => {}
    }
    if let Some(to) = &opts.email {
        let (subject, body) = mail::compose(api.name(), &inv);
        let address = mail::mailto(Some(to.as_str()).filter(|t| !t.is_empty()), &subject, &body);
        match open_with(&opts.open_with, &address) {
            Ok(()) => {
                say("  Opened your mail program with the invitation: add your helper and send it.")
            }
            Err(err) => say(&format!(
                "  Could not start {} to open your mail program ({err}); send the link above by e-mail yourself.",
                opts.open_with
            )),
        }
    }
    serve_sessions(
        &api,
        &opts.share,
        Presence::Invitation(inv.id),
        vec![held],
        &mut Frontend::terminal(),
    )
    .await
}

/// `agent invite --to LOGIN`: sends an invitation straight to one expert of this machine's
/// support desk, then waits for their answer and serves the session if they accept.
pub async fn run_direct(
    api: ServerApi,
    to: &str,
    expires_in: Option<Duration>,
    share: &ShareOptions,
) -> anyhow::Result<()> {
    let sent = api
        .invite_directly(&DirectInvitationRequest {
            to: to.trim().into(),
            expires_in_secs: expires_in.map(|d| d.as_secs()),
        })
        .await
        .context("cannot send the invitation")?;
    let presence = if sent.to.online {
        "online now"
    } else {
        "offline; they will see it when they open the support desk"
    };
    say(&format!(
        "Sent an invitation to {} ({presence}).",
        sent.to.name
    ));
    say(&format!(
        "  Valid until {} UTC. Waiting for their answer; type /quit to stop.",
        utc(sent.expires_at)
    ));
    let held = HeldInvitation::direct(sent.id, instant_of(sent.expires_at));
    serve_sessions(
        &api,
        share,
        Presence::Direct(sent.id),
        vec![held],
        &mut Frontend::terminal(),
    )
    .await
}

/// The moment of Unix time `unix` on this machine's monotonic clock.
fn instant_of(unix: i64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let left = Duration::from_secs(u64::try_from(unix - now).unwrap_or(0));
    Instant::now() + left
}

/// Connects to the server as `api`'s agent and answers every session request through the
/// novice, one session after another, until the novice quits. `held` are the invitations this
/// program made, which it judges requests by.
pub async fn serve_sessions(
    api: &ServerApi,
    share: &ShareOptions,
    presence: Presence,
    held: Vec<HeldInvitation>,
    front: &mut Frontend,
) -> anyhow::Result<()> {
    let trace = share
        .trace_timings
        .as_deref()
        .map(Trace::create)
        .transpose()
        .context("cannot create the timing trace file")?;

    // Each program hears of its own invitation's sessions; the desk's hears of the rest.
    let serves = match presence {
        Presence::Invitation(id) | Presence::Direct(id) => Some(id),
        Presence::Desk | Presence::Window => None,
    };
    let (to_server, mut from_server) = signal_client::spawn(api.base(), api.token(), serves);
    // What the window made and keeps: the last invitation, the clipboard holding its link.
    let mut made = Made::default();
    let mut session = Session::new(api.name()).serving_desk(api.organisation().is_some());
    for invitation in held {
        session = session.holding(invitation);
    }
    if let Presence::Direct(id) = presence {
        session = session.waiting_for_answer(id);
    }
    let mut sharing: Option<Sharing> = None;
    let mut reports = tokio::time::interval(REPORT_INTERVAL);
    reports.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Whether the last thing heard from the connection was that it dropped.
    let mut offline = false;

    loop {
        let deadline = session.poll_timeout();
        tokio::select! {
            event = from_server.recv() => match event {
                Some(SignalEvent::Message(msg)) => {
                    if matches!(msg, ServerToAgent::Welcome { .. }) && offline {
                        offline = false;
                        if let Some(s) = &sharing {
                            s.peer.signaling_reconnected();
                        }
                        if presence == Presence::Desk {
                            front.say("Connected to the server again; your support desk can reach you.");
                        } else if session.is_live() {
                            front.say("Connected to the server again.");
                        }
                    }
                    let answer_time = answer_time(&msg);
                    if let ServerToAgent::SessionRequest { invitation_id, .. } = &msg {
                        if api.revoked_here(*invitation_id) {
                            session.handle_revoked(*invitation_id);
                        }
                    }
                    session.handle_server(msg, Instant::now(), answer_time);
                }
                Some(SignalEvent::Disconnected(dropped)) => {
                    if (session.is_live() || presence == Presence::Desk) && !offline {
                        front.say(&format!("Lost the connection to the server ({}); reconnecting...", dropped.reason));
                    }
                    if dropped.network_changed {
                        if let Some(s) = &sharing {
                            s.peer.network_changed();
                        }
                    }
                    offline = true;
                }
                Some(SignalEvent::Unauthorized) => {
                    if let Some(s) = sharing.take() {
                        s.stop().await;
                    }
                    if api.organisation().is_some() {
                        return Err(api.enrolment_refused().into());
                    }
                    anyhow::bail!("the server refused this agent's credential; run the agent again to register anew");
                }
                None => anyhow::bail!("the signaling connection task stopped"),
            },
            _ = reports.tick(), if sharing.is_some() => {
                if let Some(s) = &mut sharing {
                    let link = s.peer.link_stats().await;
                    if let Some(rtt) = link.round_trip {
                        s.pipeline.rate_control().round_trip(rtt);
                    }
                    let now = s.sent.snapshot(Instant::now(), link.video_sent);
                    session.handle_stats(quality::measure(s.last_report, now, link.round_trip));
                    s.last_report = now;
                }
            }
            input = front.next() => match input {
                Input::Line(line) => session.handle_line(&line),
                Input::Window(action) => {
                    carry_out(action, api, share, &mut session, front, &mut made).await;
                }
                Input::Gone => session.quit(),
            },
            event = next_sharing_event(&mut sharing) => match event {
                SharingEvent::Escape(EscapeEdge::Down(at)) => session.handle_local_escape(true, at),
                SharingEvent::Escape(EscapeEdge::Up(at)) => session.handle_local_escape(false, at),
                SharingEvent::InputRefused => session.handle_input_refused(),
                SharingEvent::Peer(event) => match event {
                PeerEvent::Signal(s) => session.handle_peer(PeerNews::Signal(s), Instant::now()),
                PeerEvent::Negotiated { codec } => {
                    if let Some(s) = &sharing {
                        s.pipeline.set_codec(codec);
                    }
                }
                PeerEvent::Connected => {
                    if let Some(s) = &sharing {
                        s.pipeline.request_keyframe();
                    }
                    session.handle_peer(PeerNews::Connected, Instant::now());
                }
                PeerEvent::Data(d) => session.handle_peer(PeerNews::Data(d), Instant::now()),
                PeerEvent::KeyframeRequest => {
                    if let Some(s) = &sharing {
                        s.pipeline.request_keyframe();
                    }
                }
                PeerEvent::Closed { reason } => {
                    session.handle_peer(PeerNews::Closed(reason), Instant::now());
                    if !session.is_live() {
                        if let Some(s) = sharing.take() {
                            s.stop().await;
                        }
                    }
                }
            }},
            _ = tokio::signal::ctrl_c() => session.handle_interrupt(),
            _ = sleep_until(deadline) => session.handle_timeout(Instant::now()),
        }

        while let Some(cmd) = session.poll_command() {
            match cmd {
                Command::Tell(notice) => front.tell(&notice).await,
                Command::ToServer(msg) => {
                    if to_server.send(msg).await.is_err() {
                        anyhow::bail!("the signaling connection task stopped");
                    }
                }
                Command::StartSharing { ice_servers, .. } => {
                    match start_sharing(ice_servers, share, trace.clone()).await {
                        Ok(s) => {
                            // The first report covers a whole interval of sharing.
                            reports.reset();
                            if s.input.is_none() {
                                session.set_control_unavailable(
                                    "input cannot be injected on this display",
                                );
                            }
                            sharing = Some(s);
                        }
                        Err(err) => {
                            front
                                .error(format!("Cannot share the screen: {err:#}"))
                                .await;
                            session.handle_peer(PeerNews::Closed(err.to_string()), Instant::now());
                        }
                    }
                }
                Command::ShareScreen => {
                    if let Some(s) = &sharing {
                        s.show();
                    }
                }
                Command::Pause(paused) => {
                    if let Some(s) = &sharing {
                        if paused {
                            s.hide();
                        } else {
                            s.show();
                        }
                    }
                }
                Command::ReportFailures {
                    invitation,
                    failed_attempts,
                    locked,
                } => {
                    let api = api.clone();
                    tokio::spawn(async move {
                        let report = FailedChecks {
                            failed_attempts,
                            locked,
                        };
                        if let Err(err) = api.report_failed_checks(invitation, &report).await {
                            tracing::warn!(error = %err, "could not tell the server of a failed password check");
                        }
                    });
                }
                Command::ToPeer(signal) => {
                    if let Some(s) = &sharing {
                        match s.peer.handle_signal(signal).await {
                            Ok(()) => {}
                            Err(PeerError::NoCommonCodec) => {
                                tracing::warn!("{}", PeerError::NoCommonCodec);
                                session.handle_peer(PeerNews::VideoUnsupported, Instant::now());
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "peer refused a negotiation message");
                            }
                        }
                    }
                }
                Command::ToExpert(msg) => {
                    if let Some(s) = &sharing {
                        if let Err(err) = s.peer.send_data(&msg).await {
                            front
                                .error(format!("Could not send the message: {err}"))
                                .await;
                        }
                    }
                }
                Command::Inject(event) => {
                    // Never before the password check passed, whatever the session says.
                    let shown = sharing.as_ref().filter(|s| s.is_showing());
                    if let Some(input) = shown.and_then(|s| s.input.as_ref()) {
                        if let Some(trace) = &trace {
                            trace.input_received(&event);
                        }
                        input.injector.inject(event);
                    }
                }
                Command::ReleaseInput => {
                    if let Some(input) = sharing.as_ref().and_then(|s| s.input.as_ref()) {
                        input.injector.release_all();
                    }
                }
                Command::StopSharing => {
                    if let Some(s) = sharing.take() {
                        s.stop().await;
                    }
                    front.say("Your screen is no longer shared.");
                }
                Command::Quit => {
                    if let Some(s) = sharing.take() {
                        s.stop().await;
                    }
                    // Give the hang-up a moment to leave before the connection drops.
                    drop(to_server);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Ok(());
                }
            }
        }
    }
}

fn print_invitation(inv: &InvitationCreated, server: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let minutes = (inv.expires_at - now).max(0) / 60;
    say("Invitation created. Send your helper the link (or read them the short code):");
    say(&format!("  Link:       {}", inv.link));
    say(&format!(
        "  Short code: {}  (to read out: your helper opens {server}/i and types it)",
        inv.short_code
    ));
    say(&format!(
        "  Expires in: {} h {} min{}",
        minutes / 60,
        minutes % 60,
        if inv.has_password {
            " (password protected)"
        } else {
            ""
        }
    ));
    say("Waiting for your helper to open it. Type /quit to stop.");
}

/// Writes the invitation file, signed with this agent's credential.
fn save_invitation(api: &ServerApi, inv: &InvitationCreated, path: &Path) -> anyhow::Result<()> {
    let file = InvitationFile {
        server: api.base().to_owned(),
        id: inv.id,
        link: inv.link.clone(),
        short_code: inv.short_code.clone(),
        from: api.name().to_owned(),
        created_at: inv.created_at,
        expires_at: inv.expires_at,
        has_password: inv.has_password,
    };
    let page = invitation_file::render(&file, &invitation_file::key_for(api.token()))?;
    std::fs::write(path, page)
        .with_context(|| format!("cannot save the invitation as {}", path.display()))
}

/// How long the novice gets for a request: the server's deadline, read against this clock.
fn answer_time(msg: &ServerToAgent) -> Duration {
    let ServerToAgent::SessionRequest { answer_by, .. } = msg else {
        return DEFAULT_ANSWER_TIME;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match u64::try_from(answer_by - now) {
        Ok(secs) if secs > 0 => Duration::from_secs(secs).min(DEFAULT_ANSWER_TIME * 10),
        _ => DEFAULT_ANSWER_TIME,
    }
}

async fn start_sharing(
    ice_servers: Vec<protocol::api::IceServer>,
    opts: &ShareOptions,
    trace: Option<Trace>,
) -> anyhow::Result<Sharing> {
    let (pipeline, mut frames) =
        Pipeline::start(opts.media.clone()).context("cannot capture the screen")?;
    let (peer, events) = match Peer::start(PeerConfig {
        ice_servers,
        local_ips: opts.local_ips.clone(),
        turn_trust: opts.turn_trust.clone(),
        max_bitrate: opts.media.bitrate_bps,
    })
    .await
    {
        Ok(p) => p,
        Err(e) => {
            pipeline.stop();
            return Err(e).context("cannot open a WebRTC connection");
        }
    };
    let peer = Arc::new(peer);
    let max_fps = opts.media.max_fps;
    let sent = Arc::new(SendCounters::default());
    let (showing, shown) = watch::channel(false);
    let pump = {
        let peer = Arc::clone(&peer);
        let sent = Arc::clone(&sent);
        tokio::spawn(async move {
            // The RTP clock advances by one frame interval per frame, whatever the pause
            // before it: a frame after an idle screen then looks late to the browser and is
            // shown at once, instead of being held to match a gap in its timestamps.
            let interval = Duration::from_secs(1) / max_fps.max(1);
            // The screen's size as the console last heard it; said again until it is heard,
            // since the data channel opens after the first frames.
            let mut announced = None;
            while let Some(frame) = frames.recv().await {
                // Nothing of the screen leaves before the expert's browser passed the password
                // check: not a frame, not its size.
                if !*shown.borrow() {
                    continue;
                }
                let screen = (frame.screen_width, frame.screen_height);
                if announced != Some(screen) {
                    let said = DataMessage::Screen {
                        width: screen.0,
                        height: screen.1,
                    };
                    if peer.send_data(&said).await.is_ok() {
                        announced = Some(screen);
                    }
                }
                match peer.send_video(&frame.data, frame.codec, interval).await {
                    Ok(packets) => {
                        sent.frame_handed_over(packets);
                        if let Some(trace) = &trace {
                            trace.frame_sent(&frame);
                        }
                    }
                    Err(err) => tracing::debug!(error = %err, "frame not sent"),
                }
            }
        })
    };
    // The pointer goes as its own small messages, under the same gate as the frames.
    let interval = Duration::from_secs(1) / max_fps.max(1);
    let pointer = match PointerWatcher::start(opts.media.display.as_deref(), interval) {
        Ok((watcher, observed)) => {
            let peer = Arc::clone(&peer);
            let task = tokio::spawn(pointer::forward(observed, showing.subscribe(), move |m| {
                pointer::send_to(Arc::clone(&peer), m)
            }));
            Some((watcher, task))
        }
        Err(err) => {
            tracing::warn!(error = %err, "the novice's pointer is not shown to the expert");
            None
        }
    };
    let input = match ControlIo::open(opts.media.display.as_deref()) {
        Ok(io) => Some(io),
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), "remote control is unavailable");
            None
        }
    };
    let rate = {
        let mut estimates = peer.target_bitrate();
        let control = pipeline.rate_control();
        tokio::spawn(async move {
            loop {
                control.estimate(*estimates.borrow_and_update());
                if estimates.changed().await.is_err() {
                    break;
                }
            }
        })
    };
    let last_report = sent.snapshot(Instant::now(), peer.link_stats().await.video_sent);
    Ok(Sharing {
        peer,
        events,
        pipeline,
        pump,
        rate,
        pointer,
        input,
        sent,
        last_report,
        showing,
    })
}

/// What happened while the desktop is shared.
enum SharingEvent {
    Peer(PeerEvent),
    /// The display's Escape key, for the novice's hold-Esc stop.
    Escape(EscapeEdge),
    /// The expert's input aimed at the novice's own window and was dropped.
    InputRefused,
}

/// The next event of the shared desktop; never, when nothing is shared.
async fn next_sharing_event(sharing: &mut Option<Sharing>) -> SharingEvent {
    let Some(s) = sharing else {
        return std::future::pending().await;
    };
    let (escapes, refusals) = match s.input.as_mut() {
        Some(io) => (Some(&mut io.escapes), Some(&mut io.refusals)),
        None => (None, None),
    };
    tokio::select! {
        event = s.events.recv() => SharingEvent::Peer(event.unwrap_or(PeerEvent::Closed {
            reason: "the connection ended".into(),
        })),
        edge = next_or_never(escapes) => SharingEvent::Escape(edge),
        () = next_or_never(refusals) => SharingEvent::InputRefused,
    }
}

/// The next message on `channel`; never, when there is none or it closed.
async fn next_or_never<T>(channel: Option<&mut mpsc::Receiver<T>>) -> T {
    match channel {
        Some(channel) => match channel.recv().await {
            Some(item) => item,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// Sleeps until `deadline`; forever when there is none.
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// What the window made and keeps for the run: the last invitation, which the sending buttons
/// act on, and the clipboard holding its link (on X the contents live in the program that
/// copied).
#[derive(Default)]
struct Made {
    last: Option<InvitationCreated>,
    clipboard: Option<Clipboard>,
}

/// Carries out what the novice asked for in the window.
async fn carry_out(
    action: WindowAction,
    api: &ServerApi,
    share: &ShareOptions,
    session: &mut Session,
    front: &Frontend,
    made: &mut Made,
) {
    use novice_window::model::Sent;
    use novice_window::{Command, Update};
    use secrecy::ExposeSecret;
    match action {
        WindowAction::AnswerToSee { session: id, allow } => session.answer_to_see(id, allow),
        WindowAction::AnswerToControl { allow } => session.answer_to_control(allow),
        WindowAction::Do(Command::StopControl) => session.stop_control(),
        WindowAction::Do(Command::PauseSharing) => session.pause_sharing(),
        WindowAction::Do(Command::ResumeSharing) => session.resume_sharing(),
        WindowAction::Do(Command::EndSession) => session.end_session(),
        WindowAction::Do(Command::SendChat(text)) => session.chat(&text),
        WindowAction::Do(Command::CreateInvitation {
            password, expiry, ..
        }) => {
            let password = password.as_ref().map(|p| p.expose_secret().to_owned());
            match create_link_invitation(api, Some(expiry), password.as_deref(), None).await {
                Ok((inv, held, _secret)) => {
                    session.hold(held);
                    // For whoever started the agent from a terminal, as `agent invite` says it.
                    say(&format!(
                        "Invitation created: {}  (short code {})",
                        inv.link, inv.short_code
                    ));
                    front
                        .update(Update::InvitationCreated {
                            id: inv.id,
                            link: inv.link.clone(),
                            short_code: inv.short_code.clone(),
                            expires_at: novice_window::model::from_unix(inv.expires_at),
                            password_set: inv.has_password,
                        })
                        .await;
                    made.last = Some(inv);
                    made.clipboard = None;
                }
                Err(err) => front.error(format!("{err:#}")).await,
            }
        }
        WindowAction::Do(Command::ListInvitations) => list_invitations(api, front).await,
        WindowAction::Do(Command::ExpireNow(id)) => match api.revoke(id).await {
            Ok(_) => {
                session.handle_revoked(id);
                list_invitations(api, front).await;
            }
            Err(err) => {
                front
                    .error(format!("cannot expire the invitation: {err}"))
                    .await
            }
        },
        WindowAction::Do(Command::CopyLink) => {
            let Some(inv) = &made.last else { return };
            match Clipboard::copy(share.media.display.as_deref(), &inv.link) {
                Ok(clipboard) => {
                    made.clipboard = Some(clipboard);
                    front.update(Update::Sent(Sent::LinkCopied)).await;
                }
                Err(err) => front.error(err.to_string()).await,
            }
        }
        WindowAction::Do(Command::SaveInvitationFile) => {
            let Some(inv) = &made.last else { return };
            let path = invitation_file::default_path(inv.id);
            match save_invitation(api, inv, &path) {
                Ok(()) => front.update(Update::Sent(Sent::SavedAs(path))).await,
                Err(err) => front.error(format!("{err:#}")).await,
            }
        }
        WindowAction::Do(Command::EmailInvitation) => {
            let Some(inv) = &made.last else { return };
            let (subject, body) = mail::compose(api.name(), inv);
            let program = front.open_with().unwrap_or("xdg-open");
            match open_with(program, &mail::mailto(None, &subject, &body)) {
                Ok(()) => front.update(Update::Sent(Sent::MailProgramOpened)).await,
                Err(err) => {
                    front
                        .error(format!(
                            "Could not start {program} to open your mail program ({err})."
                        ))
                        .await
                }
            }
        }
        // Answers come resolved (above); the language the window switched by itself.
        WindowAction::Do(Command::Answer { .. } | Command::SwitchLanguage(_)) => {}
        WindowAction::Do(Command::SendToDeskExpert(login)) => {
            let request = DirectInvitationRequest {
                to: login.0.trim().into(),
                expires_in_secs: None,
            };
            match api.invite_directly(&request).await {
                Ok(sent) => {
                    session.hold(HeldInvitation::direct(sent.id, instant_of(sent.expires_at)));
                    front
                        .update(Update::Sent(Sent::ToDeskExpert {
                            name: sent.to.name,
                            online: sent.to.online,
                        }))
                        .await;
                }
                Err(err) => {
                    front
                        .error(format!("cannot send the invitation: {err}"))
                        .await
                }
            }
        }
    }
}

/// Sends the window every invitation of this machine.
async fn list_invitations(api: &ServerApi, front: &Frontend) {
    match api.invitations().await {
        Ok(all) => {
            let rows = all
                .iter()
                .map(novice_window::model::InvitationRow::from)
                .collect();
            front
                .update(novice_window::Update::InvitationsListed(rows))
                .await;
        }
        Err(err) => {
            front
                .error(format!("cannot list the invitations: {err}"))
                .await
        }
    }
}
