//! What the TURN relay costs: round-trip time and throughput of UDP between a client and a peer
//! on loopback, straight and through the embedded TURN service (and through coturn when it is
//! installed, for reference).
//!
//! The TURN client is webrtc-rs's sans-IO one (`rtc::turn`), the same the agent uses; it
//! allocates with a session credential, binds a channel to the peer and sends ChannelData, so
//! the relayed path is the one a relayed WebRTC session takes. The peer echoes for the round
//! trips and counts for the throughput.
//!
//! `cargo bench -p signaling-server --bench turn_relay`

#[path = "../tests/common/turn_client.rs"]
mod turn_client;

use secrecy::SecretString;
use signaling_server::clock::Clock;
use signaling_server::turn::credentials::TurnSecret;
use signaling_server::turn::live::LiveSessions;
use signaling_server::turn::service::{EmbeddedTurn, TurnServiceConfig};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "bench secret";
/// Round trips measured, after as many to warm up.
const ROUND_TRIPS: usize = 2000;
/// Payload of each packet: an RTP packet of a video frame is about this size.
const PACKET: usize = 1200;
/// Packets sent for each throughput figure.
const BURST: usize = 20_000;
/// Packets per pacing step.
const BURST_STEP: usize = 8;
/// Offered loads for the throughput, in Mbit/s: a desktop stream needs about 2.
const OFFERED_MBITS: [f64; 3] = [50.0, 200.0, 800.0];

use turn_client::{is_timeout, Result, TurnClient};

/// One way of reaching the peer.
trait Path {
    fn send(&mut self, data: &[u8]) -> Result<()>;
    /// The next packet from the peer, if one comes before `limit`.
    fn recv(&mut self, limit: Duration) -> Result<Option<Vec<u8>>>;
}

/// Straight from a socket to the peer.
struct Direct {
    socket: UdpSocket,
    peer: SocketAddr,
}

impl Path for Direct {
    fn send(&mut self, data: &[u8]) -> Result<()> {
        self.socket.send_to(data, self.peer)?;
        Ok(())
    }

    fn recv(&mut self, limit: Duration) -> Result<Option<Vec<u8>>> {
        self.socket.set_read_timeout(Some(limit))?;
        let mut buf = vec![0; 2048];
        match self.socket.recv_from(&mut buf) {
            Ok((n, _)) => Ok(Some(buf[..n].to_vec())),
            Err(e) if is_timeout(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Through a TURN allocation.
struct Relayed {
    client: TurnClient,
    peer: SocketAddr,
}

impl Relayed {
    fn connect(
        server: SocketAddr,
        username: &str,
        password: &str,
        peer: SocketAddr,
    ) -> Result<Self> {
        let mut client = TurnClient::allocate(server, username, password)?
            .map_err(|e| format!("allocation refused: {e}"))?;
        client
            .create_permission(peer)?
            .map_err(|e| format!("permission refused: {e}"))?;
        Ok(Relayed { client, peer })
    }
}

impl Path for Relayed {
    fn send(&mut self, data: &[u8]) -> Result<()> {
        self.client.send(self.peer, data)
    }

    fn recv(&mut self, limit: Duration) -> Result<Option<Vec<u8>>> {
        self.client.recv(limit)
    }
}

/// A peer that echoes every packet, on its own thread until `stop`.
fn echo_peer(stop: Arc<AtomicBool>) -> Result<SocketAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    socket.set_read_timeout(Some(Duration::from_millis(50)))?;
    let addr = socket.local_addr()?;
    std::thread::spawn(move || {
        let mut buf = vec![0; 2048];
        while !stop.load(Ordering::Relaxed) {
            if let Ok((n, from)) = socket.recv_from(&mut buf) {
                let _ = socket.send_to(&buf[..n], from);
            }
        }
    });
    Ok(addr)
}

/// A peer that counts what arrives: packets, and the first and last arrival.
struct Sink {
    addr: SocketAddr,
    packets: Arc<AtomicU64>,
    first_last_us: Arc<[AtomicU64; 2]>,
    started: Instant,
}

fn sink_peer(stop: Arc<AtomicBool>) -> Result<Sink> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    socket.set_read_timeout(Some(Duration::from_millis(50)))?;
    let sink = Sink {
        addr: socket.local_addr()?,
        packets: Arc::default(),
        first_last_us: Arc::new([AtomicU64::new(0), AtomicU64::new(0)]),
        started: Instant::now(),
    };
    let (packets, times, started) = (
        sink.packets.clone(),
        sink.first_last_us.clone(),
        sink.started,
    );
    std::thread::spawn(move || {
        let mut buf = vec![0; 2048];
        while !stop.load(Ordering::Relaxed) {
            if socket.recv_from(&mut buf).is_ok() {
                let at = started.elapsed().as_micros() as u64;
                if packets.fetch_add(1, Ordering::Relaxed) == 0 {
                    times[0].store(at, Ordering::Relaxed);
                }
                times[1].store(at, Ordering::Relaxed);
            }
        }
    });
    Ok(sink)
}

/// Median and 99th percentile round trip, in microseconds.
fn round_trips(path: &mut dyn Path) -> Result<(u128, u128)> {
    let payload = vec![0x5a; PACKET];
    let mut samples = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..2 * ROUND_TRIPS {
        let sent = Instant::now();
        path.send(&payload)?;
        if path.recv(Duration::from_secs(1))?.is_none() {
            return Err("a round trip got no answer within 1 s".into());
        }
        if i >= ROUND_TRIPS {
            samples.push(sent.elapsed().as_micros());
        }
    }
    samples.sort_unstable();
    Ok((
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    ))
}

/// Delivered Mbit/s and the share of packets lost, offering `mbits` Mbit/s in paced steps.
fn throughput(path: &mut dyn Path, sink: &Sink, mbits: f64) -> Result<(f64, f64)> {
    let payload = vec![0xa5; PACKET];
    let step = Duration::from_secs_f64((BURST_STEP * PACKET * 8) as f64 / (mbits * 1e6));
    let start = Instant::now();
    let steps = BURST / BURST_STEP;
    for n in 0..steps {
        for _ in 0..BURST_STEP {
            path.send(&payload)?;
        }
        // Lets the client read what the server sends (channel-bind answers) now and then.
        if n % 64 == 0 {
            path.recv(Duration::from_micros(1))?;
        }
        let due = start + step * (n as u32 + 1);
        while Instant::now() < due {
            std::hint::spin_loop();
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let packets = sink.packets.swap(0, Ordering::Relaxed);
    let first = sink.first_last_us[0].load(Ordering::Relaxed);
    let last = sink.first_last_us[1].load(Ordering::Relaxed);
    let secs = (last.saturating_sub(first)).max(1) as f64 / 1e6;
    let delivered = packets as f64 * PACKET as f64 * 8.0 / secs / 1e6;
    Ok((
        delivered,
        1.0 - packets as f64 / (steps * BURST_STEP) as f64,
    ))
}

/// Both measurements over one kind of path, as a table row.
fn measure(name: &str, connect: &dyn Fn(SocketAddr) -> Result<Box<dyn Path>>) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let echo = echo_peer(stop.clone())?;
    let (median, p99) = round_trips(connect(echo)?.as_mut())?;
    let mut row = format!("| {name} | {median} µs | {p99} µs |");
    for mbits in OFFERED_MBITS {
        let sink = sink_peer(stop.clone())?;
        let (delivered, loss) = throughput(connect(sink.addr)?.as_mut(), &sink, mbits)?;
        row += &format!(" {delivered:.0} Mbit/s, {:.1} % lost |", loss * 100.0);
    }
    stop.store(true, Ordering::Relaxed);
    println!("{row}");
    Ok(())
}

fn direct(peer: SocketAddr) -> Result<Box<dyn Path>> {
    Ok(Box::new(Direct {
        socket: UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?,
        peer,
    }))
}

fn main() -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let secret = TurnSecret::new(SecretString::from(SECRET), 3600);
    // The peers are on loopback, which the service refuses unless told otherwise.
    let config = TurnServiceConfig {
        allow_peers: vec!["127.0.0.0/8".parse()?],
        ..TurnServiceConfig::loopback()
    };
    let sessions = LiveSessions::default();
    sessions.open("bench");
    let embedded = runtime.block_on(EmbeddedTurn::start(
        &config,
        secret.clone(),
        Clock::default(),
        sessions,
    ))?;
    let server: SocketAddr = embedded.stun_url().trim_start_matches("stun:").parse()?;
    let now = Clock::default().now();

    println!("{ROUND_TRIPS} round trips of {PACKET}-byte packets, then {BURST} packets at each offered load; loopback");
    println!();
    let loads: String = OFFERED_MBITS
        .iter()
        .map(|m| format!(" {m:.0} Mbit/s offered |"))
        .collect();
    println!("| path | RTT median | RTT p99 |{loads}");
    println!(
        "| --- | --- | --- |{}",
        " --- |".repeat(OFFERED_MBITS.len())
    );
    measure("direct UDP", &direct)?;
    measure("embedded TURN (UDP, channel data)", &|peer| {
        let credential = secret.issue("bench", now);
        Ok(Box::new(Relayed::connect(
            server,
            &credential.username,
            &credential.password,
            peer,
        )?))
    })?;
    drop(embedded);

    match Coturn::start() {
        Some(coturn) => measure("coturn (UDP, channel data)", &|peer| {
            let credential = secret.issue("bench", now);
            Ok(Box::new(Relayed::connect(
                coturn.addr,
                &credential.username,
                &credential.password,
                peer,
            )?))
        })?,
        None => println!("(coturn is not installed: no reference row)"),
    }
    Ok(())
}

/// coturn on loopback with the same shared secret, killed on drop.
struct Coturn {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Coturn {
    fn start() -> Option<Self> {
        let port = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = std::env::temp_dir().join(format!("turn-bench-{}", std::process::id()));
        let child = std::process::Command::new("/usr/bin/turnserver")
            .args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1"])
            .arg(format!("--listening-port={port}"))
            .args([
                "--use-auth-secret",
                &format!("--static-auth-secret={SECRET}"),
            ])
            .args([
                "--realm=bench",
                "--no-tls",
                "--no-dtls",
                "--no-cli",
                "--allow-loopback-peers",
            ])
            .args(["--no-tcp", "--log-file=stdout", "--simple-log"])
            .arg(format!("--pidfile={}", dir.with_extension("pid").display()))
            .arg(format!("--userdb={}", dir.with_extension("db").display()))
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        std::thread::sleep(Duration::from_secs(1));
        Some(Self {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        })
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
