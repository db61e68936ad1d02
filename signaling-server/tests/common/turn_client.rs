//! A TURN client over UDP for tests and benchmarks: webrtc-rs's sans-IO one (`rtc::turn`), the
//! same the agent uses, driven with a blocking socket. It allocates, asks for permissions,
//! sends to a peer through the relay and reads what the peer sends back.

#![allow(dead_code)] // each test binary uses a different part of it

use bytes::BytesMut;
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use rtc::turn::client::{Client, ClientConfig, Event};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// How long the client waits for one answer of the server.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// One allocation on a TURN server.
pub struct TurnClient {
    client: Client,
    socket: UdpSocket,
    local: SocketAddr,
    /// The relayed address the server allocated.
    pub relayed: SocketAddr,
    received: VecDeque<(SocketAddr, Vec<u8>)>,
}

impl TurnClient {
    /// Allocates on `server` with `username`/`password`. `Ok(Err(reason))` when the server
    /// refuses the allocation (its error code is in `reason`).
    pub fn allocate(
        server: SocketAddr,
        username: &str,
        password: &str,
    ) -> Result<std::result::Result<Self, String>> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let local = socket.local_addr()?;
        let client = Client::new(
            ClientConfig {
                turn_serv_addr: server.to_string(),
                local_addr: local,
                transport_protocol: TransportProtocol::UDP,
                username: username.to_owned(),
                password: password.to_owned(),
                ..Default::default()
            },
            rtc::crypto::default_provider()?,
        )?;
        let mut turn = TurnClient {
            client,
            socket,
            local,
            relayed: local,
            received: VecDeque::new(),
        };
        turn.client.allocate(Instant::now())?;
        let allocated = turn.wait_for(|e| match e {
            Event::AllocateResponse(_, addr) => Some(Ok(*addr)),
            Event::AllocateError(_, e) => Some(Err(e.to_string())),
            _ => None,
        })?;
        Ok(allocated.map(|relayed| {
            turn.relayed = relayed;
            turn
        }))
    }

    /// Asks for a permission to `peer`: `Ok(Err(reason))` when the server refuses it.
    pub fn create_permission(
        &mut self,
        peer: SocketAddr,
    ) -> Result<std::result::Result<(), String>> {
        self.client
            .relay(self.relayed)?
            .create_permission(Instant::now(), peer)?;
        self.wait_for(|e| match e {
            Event::CreatePermissionResponse(..) => Some(Ok(())),
            Event::CreatePermissionError(_, e) => Some(Err(e.to_string())),
            _ => None,
        })
    }

    /// Drives the client until `pick` finds its answer among the events.
    pub fn wait_for<T>(&mut self, pick: impl Fn(&Event) -> Option<T>) -> Result<T> {
        let deadline = Instant::now() + ANSWER_WITHIN;
        while Instant::now() < deadline {
            self.flush()?;
            self.read_one(Duration::from_millis(20))?;
            self.client.handle_timeout(Instant::now())?;
            while let Some(event) = self.client.poll_event() {
                if let Event::DataIndicationOrChannelData(_, from, data) = &event {
                    self.received.push_back((*from, data.to_vec()));
                } else if let Some(result) = pick(&event) {
                    return Ok(result);
                }
            }
        }
        Err("the TURN server did not answer within 10 s".into())
    }

    fn flush(&mut self) -> Result<()> {
        while let Some(out) = self.client.poll_write() {
            self.socket.send_to(&out.message, out.transport.peer_addr)?;
        }
        Ok(())
    }

    fn read_one(&mut self, limit: Duration) -> Result<()> {
        self.socket
            .set_read_timeout(Some(limit.max(Duration::from_micros(1))))?;
        let mut buf = vec![0; 2048];
        match self.socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                self.client.handle_read(TaggedBytesMut {
                    now: Instant::now(),
                    transport: TransportContext {
                        local_addr: self.local,
                        peer_addr: from,
                        transport_protocol: TransportProtocol::UDP,
                        ecn: None,
                    },
                    message: BytesMut::from(&buf[..n]),
                })?;
                Ok(())
            }
            Err(e) if is_timeout(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends `data` to `peer` through the relay (a permission must be in place).
    pub fn send(&mut self, peer: SocketAddr, data: &[u8]) -> Result<()> {
        let now = Instant::now();
        self.client.relay(self.relayed)?.send_to(now, data, peer)?;
        self.client.handle_timeout(now)?;
        self.flush()
    }

    /// The next packet relayed to this client, if one comes before `limit`.
    pub fn recv(&mut self, limit: Duration) -> Result<Option<Vec<u8>>> {
        let deadline = Instant::now() + limit;
        loop {
            while let Some(event) = self.client.poll_event() {
                if let Event::DataIndicationOrChannelData(_, from, data) = event {
                    self.received.push_back((from, data.to_vec()));
                }
            }
            if let Some((_, data)) = self.received.pop_front() {
                return Ok(Some(data));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.read_one(deadline - now)?;
            self.flush()?;
        }
    }
}

pub fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
