//! Separate hosts on one machine, for NAT-traversal tests: Linux network namespaces joined by
//! veth pairs to a router namespace, with a firewall in the router to cut the direct path.
//!
//! ```text
//!   novice (10.71.1.2) ──veth── router (10.71.1.1 | 10.71.2.1) ──veth── expert (10.71.2.2)
//! ```
//!
//! The router forwards between the two hosts until [`Network::block_direct_path`] drops every
//! forwarded packet; the router's own addresses (where the signaling server and its TURN service
//! listen) stay reachable from both. Addresses are fixed because each namespace has its own
//! network stack; names carry the process id and a counter so that tests can run side by side.
//! Dropping the network deletes the namespaces, and with them their links and rules.
//!
//! [`Network::shape`] makes the link between the hosts slow, far or lossy (see [`shaping`]).
//!
//! Needs root and `ip` (iproute2) and `iptables`; [`Network::create`] returns `None` with the
//! reason when they are missing, for the test to skip.

use anyhow::{anyhow, bail, Context, Result};
use std::ffi::OsStr;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The novice's host.
pub const NOVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 71, 1, 2);
/// The novice's host after [`Network::move_novice`], as after joining another network.
pub const NOVICE_MOVED_IP: Ipv4Addr = Ipv4Addr::new(10, 71, 1, 3);
/// The router's address on the novice's side.
pub const ROUTER_NOVICE_SIDE: Ipv4Addr = Ipv4Addr::new(10, 71, 1, 1);
/// The expert's host.
pub const EXPERT_IP: Ipv4Addr = Ipv4Addr::new(10, 71, 2, 2);
/// The router's address on the expert's side.
pub const ROUTER_EXPERT_SIDE: Ipv4Addr = Ipv4Addr::new(10, 71, 2, 1);

pub mod shaping;
pub use shaping::{LinkCounters, LinkProfile, ShapedLink};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// One network namespace: a host with its own interfaces, routes and firewall.
#[derive(Debug)]
pub struct Namespace {
    name: String,
}

impl Namespace {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `program` to run inside this namespace (through `ip netns exec`).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    /// Runs `program args` inside the namespace and fails with its error output if it fails.
    fn run(&self, program: &str, args: &[&str]) -> Result<()> {
        let mut command = self.command(program);
        command.args(args);
        run(&mut command)
    }

    /// A TCP connection from inside the namespace, for talking to a process that listens on its
    /// loopback (such as Chromium's DevTools). A socket stays in the namespace it was made in,
    /// so a short-lived thread enters the namespace, connects and hands the socket back.
    pub fn connect_tcp(&self, addr: SocketAddr) -> Result<std::net::TcpStream> {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || -> Result<std::net::TcpStream> {
            let file = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                .with_context(|| format!("entering the network namespace {path}"))?;
            let stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(10))
                .with_context(|| format!("connecting to {addr} in {path}"))?;
            stream.set_nonblocking(true)?;
            Ok(stream)
        })
        .join()
        .map_err(|_| anyhow!("the thread connecting inside the namespace panicked"))?
    }

    /// A UDP socket bound to `addr` inside the namespace, for tests that measure the network
    /// itself. Made by a short-lived thread that enters the namespace, as in
    /// [`Namespace::connect_tcp`].
    pub fn bind_udp(&self, addr: SocketAddr) -> Result<std::net::UdpSocket> {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || -> Result<std::net::UdpSocket> {
            let file = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                .with_context(|| format!("entering the network namespace {path}"))?;
            std::net::UdpSocket::bind(addr).with_context(|| format!("binding {addr} in {path}"))
        })
        .join()
        .map_err(|_| anyhow!("the thread binding inside the namespace panicked"))?
    }
}

/// Three namespaces: the novice's host, the expert's host, and the router between them.
#[derive(Debug)]
pub struct Network {
    pub novice: Namespace,
    pub expert: Namespace,
    pub router: Namespace,
}

impl Network {
    /// Builds the network, or says why it cannot be built here (not root, no `ip` or
    /// `iptables`): the caller skips its test with that reason.
    pub fn create() -> Result<std::result::Result<Network, String>> {
        if let Some(reason) = unavailable() {
            return Ok(Err(reason));
        }
        let prefix = format!(
            "assist{}x{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let namespace = |role: &str| -> Result<Namespace> {
            let name = format!("{prefix}{role}");
            run(Command::new("ip").args(["netns", "add", &name]))?;
            Ok(Namespace { name })
        };
        // Each one is deleted on drop even if a later step fails.
        let mut network = Partial::default();
        network.router = Some(namespace("r")?);
        network.novice = Some(namespace("n")?);
        network.expert = Some(namespace("e")?);
        let network = network.complete()?;
        network.wire()?;
        Ok(Ok(network))
    }

    fn wire(&self) -> Result<()> {
        let router = &self.router;
        for (host, link, router_ip, host_ip) in [
            (&self.novice, "tonovice", ROUTER_NOVICE_SIDE, NOVICE_IP),
            (&self.expert, "toexpert", ROUTER_EXPERT_SIDE, EXPERT_IP),
        ] {
            run(Command::new("ip").args([
                "-n",
                router.name(),
                "link",
                "add",
                link,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                host.name(),
            ]))?;
            let ip = |ns: &Namespace, args: &[&str]| {
                run(Command::new("ip").args(["-n", ns.name()]).args(args))
            };
            ip(
                router,
                &["addr", "add", &format!("{router_ip}/24"), "dev", link],
            )?;
            ip(router, &["link", "set", link, "up"])?;
            ip(
                host,
                &["addr", "add", &format!("{host_ip}/24"), "dev", "eth0"],
            )?;
            ip(host, &["link", "set", "eth0", "up"])?;
            ip(host, &["link", "set", "lo", "up"])?;
            ip(
                host,
                &["route", "add", "default", "via", &router_ip.to_string()],
            )?;
        }
        run(Command::new("ip").args(["-n", router.name(), "link", "set", "lo", "up"]))?;
        router.run("sysctl", &["-q", "-w", "net.ipv4.ip_forward=1"])
    }

    /// The router stops forwarding between the hosts: they can only reach the router itself.
    pub fn block_direct_path(&self) -> Result<()> {
        self.router
            .run("iptables", &["-w", "-A", "FORWARD", "-j", "DROP"])
    }

    /// The expert's host sends no UDP at all, as on networks that allow only web traffic:
    /// WebRTC there has only TURN over TCP.
    pub fn block_udp_from_expert(&self) -> Result<()> {
        self.expert.run(
            "iptables",
            &[
                "-w", "-A", "OUTPUT", "-o", "eth0", "-p", "udp", "-j", "DROP",
            ],
        )
    }

    /// The novice's network passes no UDP at all, to or from the novice's host, as on networks
    /// that allow only web traffic: WebRTC there has only TURN over TCP or TLS. The router drops
    /// it, as such a network's firewall would, so the novice's host sends without an error and
    /// its packets vanish.
    pub fn block_udp_from_novice(&self) -> Result<()> {
        for rule in [
            ["INPUT", "-i", "tonovice"],
            ["FORWARD", "-i", "tonovice"],
            ["OUTPUT", "-o", "tonovice"],
            ["FORWARD", "-o", "tonovice"],
        ] {
            let mut args = vec!["-w", "-I"];
            args.extend(rule);
            args.extend(["-p", "udp", "-j", "DROP"]);
            self.router.run("iptables", &args)?;
        }
        Ok(())
    }

    /// The novice's network lets no TCP connection out to `port` (the router drops it).
    pub fn block_tcp_port_from_novice(&self, port: u16) -> Result<()> {
        let port = port.to_string();
        for chain in ["INPUT", "FORWARD"] {
            self.router.run(
                "iptables",
                &[
                    "-w", "-I", chain, "-i", "tonovice", "-p", "tcp", "--dport", &port, "-j",
                    "DROP",
                ],
            )?;
        }
        Ok(())
    }

    /// The novice's host changes its address from [`NOVICE_IP`] to [`NOVICE_MOVED_IP`], as a
    /// laptop does when it moves to another network: every connection it had from the old
    /// address goes dead without a word.
    pub fn move_novice(&self) -> Result<()> {
        let (old, new) = (format!("{NOVICE_IP}/24"), format!("{NOVICE_MOVED_IP}/24"));
        // The new address must take over as primary when the old one goes, routes included.
        self.novice.run(
            "sysctl",
            &["-q", "-w", "net.ipv4.conf.eth0.promote_secondaries=1"],
        )?;
        self.novice
            .run("ip", &["addr", "add", &new, "dev", "eth0"])?;
        self.novice
            .run("ip", &["addr", "del", &old, "dev", "eth0"])?;
        self.novice.run(
            "ip",
            &[
                "route",
                "replace",
                "default",
                "via",
                &ROUTER_NOVICE_SIDE.to_string(),
            ],
        )
    }

    /// The novice's host loses its default route: it reaches only its own link (the router's
    /// address there, where the server and the TURN service listen), and has no route for
    /// multicast either.
    pub fn remove_novice_default_route(&self) -> Result<()> {
        self.novice.run("ip", &["route", "del", "default"])
    }

    /// The router forwards between the hosts again.
    pub fn open_direct_path(&self) -> Result<()> {
        self.router
            .run("iptables", &["-w", "-D", "FORWARD", "-j", "DROP"])
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for ns in [&self.novice, &self.expert, &self.router] {
            delete(ns);
        }
    }
}

/// Namespaces made so far while building a [`Network`].
#[derive(Default)]
struct Partial {
    router: Option<Namespace>,
    novice: Option<Namespace>,
    expert: Option<Namespace>,
}

impl Partial {
    fn complete(mut self) -> Result<Network> {
        match (self.router.take(), self.novice.take(), self.expert.take()) {
            (Some(router), Some(novice), Some(expert)) => Ok(Network {
                novice,
                expert,
                router,
            }),
            _ => bail!("a namespace of the test network is missing"),
        }
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        for ns in [&self.router, &self.novice, &self.expert]
            .into_iter()
            .flatten()
        {
            delete(ns);
        }
    }
}

fn delete(ns: &Namespace) {
    let _ = Command::new("ip")
        .args(["netns", "delete", &ns.name])
        .stderr(Stdio::null())
        .status();
}

/// Why namespaces cannot be made here, if they cannot.
fn unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("network namespaces need root".into());
    }
    for (tool, package) in [("ip", "iproute2"), ("iptables", "iptables")] {
        let found = Command::new(tool)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            return Some(format!(
                "{tool} is not installed (Debian package {package})"
            ));
        }
    }
    None
}

fn run(command: &mut Command) -> Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
