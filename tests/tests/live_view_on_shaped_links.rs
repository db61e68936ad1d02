//! The expert keeps a live picture of a busy screen over slow, far and lossy links, and over a
//! link whose rate drops and comes back in the middle of the session; and the agent sends
//! about what the link carries, not more.
//!
//! Real separate hosts (network namespaces, see `tests::netns`) with the router between them
//! shaping the link (`tests::netns::shaping`): a rate limit on the novice→expert direction, a
//! delay and random loss both ways. The first tests check those shapers themselves with plain
//! UDP, so that a failure of the product further down is not the harness's. Where namespaces
//! cannot be made (not root, no iproute2 or iptables) the tests fail, unless
//! `ASSIST_ALLOW_SKIP=1` allows skipping.
//!
//! What the expert sees is asserted, not how fast: a first picture within a generous bound,
//! at least one frame a second decoded in every five seconds, the session still live. Timing targets belong to the
//! benchmark (`tests/src/bin/bench/shaped_links.rs`).

use anyhow::{bail, Context, Result};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};
use tests::console::{frames_decoded, state};
use tests::netns::{LinkCounters, LinkProfile, Network, EXPERT_IP, NOVICE_IP};
use tests::shaping::ShapedSession;

/// This crate's delay line, built with this test.
const DELAY_LINE: &str = env!("CARGO_BIN_EXE_delay_line");
/// Generous: a busy 2-core machine runs the other tests' browsers and builds meanwhile.
const FIRST_PICTURE: Duration = Duration::from_secs(15);
/// Frames must be decoded in every slice this long...
const SLICE: Duration = Duration::from_secs(5);
/// ...at least this many: one a second. A picture that changes less often than that is not a
/// live view to whoever watches it, even if a frame trickles through now and then.
const MIN_FRAMES_PER_SLICE: u64 = 5;
/// What the agent may offer the link over a window, as a multiple of its rate.
const OFFERED_LIMIT: f64 = 1.5;

/// The network, or `None` after saying why the test cannot run here, where skipping is
/// allowed ([`tests::skip_allowed`]); elsewhere a missing tool fails the test.
fn network() -> Result<Option<Network>> {
    Ok(match Network::create()? {
        Ok(network) => Some(network),
        Err(reason) if tests::skip_allowed() => {
            eprintln!("SKIPPED: {reason}; this test builds separate hosts with network namespaces");
            None
        }
        Err(reason) => bail!(
            "{reason}: this test builds separate hosts with network namespaces \
             (ASSIST_ALLOW_SKIP=1 skips it)"
        ),
    })
}

fn delay_line() -> &'static Path {
    Path::new(DELAY_LINE)
}

// ---- the shapers on their own ----------------------------------------------------------------

/// Port the expert's host receives streams of datagrams on.
const PROBE_PORT: u16 = 7000;
/// Port the expert's host answers pings on.
const ECHO_PORT: u16 = 7001;
/// Bytes of each measurement datagram; 28 more with the IP and UDP headers.
const DATAGRAM: usize = 1200;

/// A socket on the expert's host that sends every datagram back, until `stop` is dropped.
fn echo(network: &Network) -> Result<std::sync::mpsc::Sender<()>> {
    let socket = network
        .expert
        .bind_udp(SocketAddr::from((EXPERT_IP, ECHO_PORT)))?;
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Err(std::sync::mpsc::TryRecvError::Empty) = stopped.try_recv() {
            if let Ok((n, from)) = socket.recv_from(&mut buf) {
                let _ = socket.send_to(&buf[..n], from);
            }
        }
    });
    Ok(stop)
}

/// A socket on the novice's host, connected to `port` on the expert's.
fn novice_socket(network: &Network, port: u16) -> Result<UdpSocket> {
    let socket = network.novice.bind_udp(SocketAddr::from((NOVICE_IP, 0)))?;
    socket.connect((EXPERT_IP, port))?;
    socket.set_read_timeout(Some(Duration::from_secs(2)))?;
    Ok(socket)
}

/// Round trip times of `count` pings, one at a time, from the novice's host to the echo.
fn round_trips(socket: &UdpSocket, count: u32) -> Result<Vec<Duration>> {
    let mut times = Vec::new();
    let mut buf = [0u8; 64];
    for i in 0..count {
        let sent = Instant::now();
        socket.send(&i.to_be_bytes())?;
        let n = socket.recv(&mut buf).context("an echo within 2 s")?;
        assert_eq!(&buf[..n], &i.to_be_bytes(), "echoes come back in order");
        times.push(sent.elapsed());
    }
    Ok(times)
}

/// What the expert's host received of a stream of datagrams.
#[derive(Debug, Default)]
struct Received {
    sequence: Vec<u32>,
    bytes: usize,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Received {
    /// Payload bits per second from the first datagram's arrival to the last one's.
    fn kbit_per_s(&self) -> f64 {
        match (self.first, self.last) {
            (Some(first), Some(last)) if last > first => {
                self.bytes as f64 * 8.0 / 1000.0 / (last - first).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

/// Sends numbered datagrams from the novice's host to the expert's at `kbit_per_s` for
/// `length`, and returns how many it sent and what arrived (the receiver stops one second
/// after the last arrival).
fn stream(network: &Network, kbit_per_s: f64, length: Duration) -> Result<(u32, Received)> {
    let receiver = network
        .expert
        .bind_udp(SocketAddr::from((EXPERT_IP, PROBE_PORT)))?;
    receiver.set_read_timeout(Some(Duration::from_secs(1)))?;
    let receiving = std::thread::spawn(move || {
        let mut got = Received::default();
        let mut buf = [0u8; 2048];
        // Waits for the first datagram, then stops after a second of silence.
        let give_up = Instant::now() + Duration::from_secs(10);
        loop {
            match receiver.recv(&mut buf) {
                Ok(n) => {
                    let now = Instant::now();
                    got.first.get_or_insert(now);
                    got.last = Some(now);
                    got.bytes += n;
                    got.sequence
                        .push(u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]));
                }
                Err(_) if got.first.is_some() || Instant::now() > give_up => break,
                Err(_) => {}
            }
        }
        got
    });
    let sender = novice_socket(network, PROBE_PORT)?;
    let gap = Duration::from_secs_f64(DATAGRAM as f64 * 8.0 / 1000.0 / kbit_per_s);
    let start = Instant::now();
    let mut sent = 0u32;
    let mut payload = vec![0u8; DATAGRAM];
    while start.elapsed() < length {
        // Catch up with the schedule, then sleep until the next datagram is due.
        while start + gap * sent <= Instant::now() {
            payload[..4].copy_from_slice(&sent.to_be_bytes());
            sender.send(&payload)?;
            sent += 1;
        }
        std::thread::sleep((start + gap * sent).saturating_duration_since(Instant::now()));
    }
    let received = receiving
        .join()
        .map_err(|_| anyhow::anyhow!("the receiving thread panicked"))?;
    Ok((sent, received))
}

#[test]
fn the_delay_line_adds_its_delay_to_every_round_trip_and_keeps_packets_in_order() -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    let _echo = echo(&network)?;
    let socket = novice_socket(&network, ECHO_PORT)?;
    let direct = round_trips(&socket, 20)?;
    let mut link = network.shape(
        delay_line(),
        LinkProfile {
            delay_ms: 40,
            ..LinkProfile::UNSHAPED
        },
    )?;
    let delayed = round_trips(&socket, 30)?;
    link.set(LinkProfile {
        delay_ms: 10,
        ..LinkProfile::UNSHAPED
    })?;
    let shorter = round_trips(&socket, 30)?;
    let ms = |times: &[Duration], p: f64| {
        let values: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
        tests::measure::percentile(&values, p).unwrap_or(f64::NAN)
    };
    eprintln!(
        "round trips, ms (min / median / max): unshaped {:.2} / {:.2} / {:.2}; 40 ms each way \
         {:.2} / {:.2} / {:.2}; 10 ms each way {:.2} / {:.2} / {:.2}",
        ms(&direct, 0.0),
        ms(&direct, 50.0),
        ms(&direct, 100.0),
        ms(&delayed, 0.0),
        ms(&delayed, 50.0),
        ms(&delayed, 100.0),
        ms(&shorter, 0.0),
        ms(&shorter, 50.0),
        ms(&shorter, 100.0),
    );
    assert!(
        ms(&delayed, 0.0) >= 80.0,
        "every round trip takes 2 × 40 ms"
    );
    assert!(ms(&delayed, 50.0) < 80.0 + 15.0, "and not much more");
    assert!(ms(&shorter, 0.0) >= 20.0, "the changed delay holds");
    assert!(ms(&shorter, 50.0) < 20.0 + 15.0, "and is in force at once");

    // A stream of 4 Mbit/s through the delay line arrives whole and in order.
    let (sent, received) = stream(&network, 4000.0, Duration::from_secs(1))?;
    let in_order = received.sequence.windows(2).all(|w| w[0] < w[1]);
    eprintln!(
        "through the delay line: {} of {sent} datagrams, in order: {in_order}",
        received.sequence.len()
    );
    assert_eq!(received.sequence.len(), sent as usize, "nothing is lost");
    assert!(in_order, "the delay line keeps the order");
    Ok(())
}

#[test]
fn the_rate_limit_holds_the_novice_to_the_link_rate_and_follows_a_step() -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    let profile = |rate_kbit| LinkProfile {
        rate_kbit: Some(rate_kbit),
        ..LinkProfile::UNSHAPED
    };
    let mut link = network.shape(delay_line(), profile(5000))?;
    let length = Duration::from_secs(2);
    let mut rows = Vec::new();
    // Twice what the link carries at 600 kbit/s; under what it carries at 5 Mbit/s.
    for (rate, offered) in [(5000, 3000.0), (600, 1200.0), (5000, 3000.0)] {
        link.set(profile(rate))?;
        let before = link.counters()?;
        let (sent, received) = stream(&network, offered, length)?;
        let after = link.counters()?;
        rows.push((rate, offered, sent, received, before, after));
    }
    for (rate, offered, sent, received, before, after) in &rows {
        eprintln!(
            "link {rate} kbit/s, offered {offered} kbit/s: {} of {sent} datagrams at {:.0} kbit/s; \
             the router counted {} bytes offered, passed {} bytes, dropped {} packets",
            received.sequence.len(),
            received.kbit_per_s(),
            after.offered_udp_bytes - before.offered_udp_bytes,
            after.sent_bytes - before.sent_bytes,
            after.dropped_packets - before.dropped_packets,
        );
    }
    for (rate, offered, sent, received, before, after) in rows {
        let rate = f64::from(rate);
        let got = received.kbit_per_s();
        assert!(
            got <= rate * 1.2,
            "{got:.0} kbit/s arrived over a {rate} kbit/s link"
        );
        assert!(
            got >= rate.min(offered) * 0.7,
            "{got:.0} kbit/s arrived of {offered} kbit/s over a {rate} kbit/s link"
        );
        assert_eq!(
            after.offered_udp_bytes - before.offered_udp_bytes,
            u64::from(sent) * (DATAGRAM as u64 + 28),
            "the router counts every byte the novice's host offered"
        );
        if offered > rate {
            assert!(
                after.dropped_packets > before.dropped_packets,
                "the limiter drops what does not fit"
            );
        }
    }
    Ok(())
}

#[test]
fn random_loss_drops_the_share_of_packets_it_is_set_to() -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    let _link = network.shape(
        delay_line(),
        LinkProfile {
            loss: 0.1,
            ..LinkProfile::UNSHAPED
        },
    )?;
    // 2 000 datagrams: the share lost is 10 % give or take 0.7 % (one standard deviation).
    let (sent, received) = stream(&network, 4800.0, Duration::from_secs(4))?;
    let lost = 1.0 - received.sequence.len() as f64 / f64::from(sent);
    eprintln!(
        "10 % loss: {} of {sent} datagrams arrived, {:.1} % lost",
        received.sequence.len(),
        lost * 100.0
    );
    assert!((0.07..=0.13).contains(&lost), "{:.1} % lost", lost * 100.0);
    Ok(())
}

// ---- the product on shaped links -------------------------------------------------------------

/// What was seen over one measuring window.
#[derive(Debug)]
struct Window {
    length: Duration,
    /// Frames the expert's browser decoded in each slice of [`SLICE`].
    decoded: Vec<u64>,
    /// The console's state at the end of each slice.
    states: Vec<String>,
    start: LinkCounters,
    end: LinkCounters,
}

impl Window {
    /// What the novice's host offered the link, in kbit/s.
    fn offered_kbit_per_s(&self) -> f64 {
        (self.end.offered_udp_bytes - self.start.offered_udp_bytes) as f64 * 8.0
            / 1000.0
            / self.length.as_secs_f64()
    }

    /// What the router passed on towards the expert, in kbit/s.
    fn passed_kbit_per_s(&self) -> f64 {
        (self.end.sent_bytes - self.start.sent_bytes) as f64 * 8.0
            / 1000.0
            / self.length.as_secs_f64()
    }
}

/// Watches the session for `slices` slices of [`SLICE`]: a measuring window, so it runs for
/// its length whatever happens.
async fn watch(session: &mut ShapedSession, slices: u32) -> Result<Window> {
    let start = session.link.counters()?;
    let began = tokio::time::Instant::now();
    let mut last = frames_decoded(&session.page).await?;
    let mut decoded = Vec::new();
    let mut states = Vec::new();
    for slice in 1..=slices {
        tokio::time::sleep_until(began + SLICE * slice).await;
        let now = frames_decoded(&session.page).await?;
        decoded.push(now.saturating_sub(last));
        last = now;
        states.push(state(&session.page).await?);
    }
    let length = began.elapsed();
    if let Some(status) = session.agent.try_exit_status()? {
        bail!("the agent exited during the window ({status})");
    }
    Ok(Window {
        length,
        decoded,
        states,
        start,
        end: session.link.counters()?,
    })
}

/// Prints what the window showed and returns what the expert should have seen but did not.
fn judge(what: &str, profile: LinkProfile, window: &Window, check_rate: bool) -> Vec<String> {
    let offered = window.offered_kbit_per_s();
    eprintln!(
        "{what} ({profile}): frames decoded per {}s slice {:?}, states {:?}; the agent offered \
         {offered:.0} kbit/s, the router passed {:.0} kbit/s and dropped {} packets over {:.1} s",
        SLICE.as_secs(),
        window.decoded,
        window.states,
        window.passed_kbit_per_s(),
        window.end.dropped_packets - window.start.dropped_packets,
        window.length.as_secs_f64(),
    );
    let mut failures = Vec::new();
    if window.decoded.iter().any(|&n| n < MIN_FRAMES_PER_SLICE) {
        failures.push(format!(
            "{what}: a {}s slice with fewer than {MIN_FRAMES_PER_SLICE} decoded frames: {:?}",
            SLICE.as_secs(),
            window.decoded
        ));
    }
    if window.states.iter().any(|s| s != "live") {
        failures.push(format!(
            "{what}: the console left the session: {:?}",
            window.states
        ));
    }
    if let (true, Some(rate)) = (check_rate, profile.rate_kbit) {
        let limit = f64::from(rate) * OFFERED_LIMIT;
        if offered > limit {
            failures.push(format!(
                "{what}: the agent offered {offered:.0} kbit/s to a {rate} kbit/s link, over \
                 {OFFERED_LIMIT} × its rate ({limit:.0}); it does not adapt to the link"
            ));
        }
    }
    failures
}

/// Starts a session on the profile, checks the first picture and watches it for 20 s.
async fn holds_up_on(profile: LinkProfile) -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    let mut session = ShapedSession::start(network, delay_line(), profile, &[]).await?;
    eprintln!(
        "{profile}: first picture {:.1} s after the novice allowed",
        session.first_picture.as_secs_f64()
    );
    let window = watch(&mut session, 4).await?;
    let mut failures = judge("over 20 s", profile, &window, true);
    if session.first_picture > FIRST_PICTURE {
        failures.push(format!(
            "the first picture took {:.1} s, over {FIRST_PICTURE:?}",
            session.first_picture.as_secs_f64()
        ));
    }
    if !failures.is_empty() {
        bail!("on a link of {profile}:\n{}", failures.join("\n"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_megabit_link_with_100_ms_and_2_percent_loss_keeps_a_live_picture() -> Result<()> {
    holds_up_on(LinkProfile {
        rate_kbit: Some(500),
        delay_ms: 50,
        loss: 0.02,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_megabit_link_with_80_ms_and_1_percent_loss_keeps_a_live_picture() -> Result<()> {
    holds_up_on(LinkProfile {
        rate_kbit: Some(1000),
        delay_ms: 40,
        loss: 0.01,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_picture_carries_on_when_the_link_drops_from_5_mbits_to_600_kbits_and_back(
) -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    let at = |rate_kbit| LinkProfile {
        rate_kbit: Some(rate_kbit),
        delay_ms: 20,
        loss: 0.0,
    };
    let mut session = ShapedSession::start(network, delay_line(), at(5000), &[]).await?;
    eprintln!(
        "first picture {:.1} s after the novice allowed",
        session.first_picture.as_secs_f64()
    );
    let mut failures = Vec::new();
    if session.first_picture > FIRST_PICTURE {
        failures.push(format!(
            "the first picture took {:.1} s, over {FIRST_PICTURE:?}",
            session.first_picture.as_secs_f64()
        ));
    }
    let fast = watch(&mut session, 2).await?;
    failures.extend(judge("at 5 Mbit/s", at(5000), &fast, true));

    session.link.set(at(600))?;
    // The first slice after the drop is the agent's to adapt in; the rate is judged after it.
    let adapting = watch(&mut session, 1).await?;
    failures.extend(judge(
        "the first 5 s at 600 kbit/s",
        at(600),
        &adapting,
        false,
    ));
    let slow = watch(&mut session, 3).await?;
    failures.extend(judge("the next 15 s at 600 kbit/s", at(600), &slow, true));

    session.link.set(at(5000))?;
    let back = watch(&mut session, 2).await?;
    failures.extend(judge("back at 5 Mbit/s", at(5000), &back, true));
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    Ok(())
}
