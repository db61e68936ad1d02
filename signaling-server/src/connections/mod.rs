//! The server's own accept loop: HTTP/1 connections with deadlines and caps, so that idle,
//! slow or numerous connections cannot exhaust the server.
//!
//! * Each accepted connection is admitted against a cap per client address and a cap on all
//!   connections ([`occupancy`]); over either it is closed at once. The total cap comes from
//!   the open-file limit less a reserve (see [`crate::limits`]), so the database, established
//!   sessions and `/health` always find a free descriptor.
//! * A driver task per connection serves it with hyper and closes it when its [`timer`]
//!   expires: a request head or body that takes too long, or a keep-alive connection idle too
//!   long. Upgraded WebSockets leave the driver but keep their place until they close.
//! * Accept errors (out of descriptors included) are logged and retried after a short pause;
//!   the loop never spins and never ends before shutdown.
//! * On shutdown the loop stops accepting, asks every connection to finish its request in
//!   flight and close, and returns once every driver is done.

pub mod occupancy;
pub mod timer;

use crate::config::ServerConfig;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use occupancy::{Admission, Occupancy, Refusal};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use timer::ConnectionTimer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;
use tower::ServiceExt;

/// Pause after an accept error such as running out of descriptors, before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Refused connections and accept errors are logged at most this often.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The deadlines and caps of connections, from the configuration.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Time for a whole request head, and then for its body.
    pub header_timeout: Duration,
    /// Time a keep-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Time an expert's WebSocket has to present its ticket.
    pub ws_auth_timeout: Duration,
    /// Connections one client address (IPv6: one /64) may hold.
    pub max_per_address: usize,
    /// Connections the server holds in all.
    pub max_total: usize,
}

impl ConnectionLimits {
    /// The limits `config` sets; the total cap derived from the current open-file limit unless
    /// given.
    pub fn from_config(config: &ServerConfig) -> Self {
        Self {
            header_timeout: Duration::from_secs(config.header_timeout_secs),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs),
            ws_auth_timeout: Duration::from_secs(config.ws_auth_timeout_secs),
            max_per_address: config.max_connections_per_address as usize,
            max_total: crate::limits::connection_budget(
                config.max_connections,
                config.reserved_files,
            ),
        }
    }
}

/// Accepts connections on `listener` and serves `router` on them until `stop` turns true,
/// then waits for every connection's driver to finish.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: &ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        max_connections = limits.max_total,
        max_per_address = limits.max_per_address,
        header_timeout = ?limits.header_timeout,
        idle_timeout = ?limits.idle_timeout,
        "connection limits"
    );
    let occupancy = Occupancy::new(limits.max_total, limits.max_per_address);
    let (done, mut all_done) = mpsc::channel::<()>(1);
    let mut refusals = Throttle::default();
    let mut errors = Throttle::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stopping| *stopping) => break,
        };
        match accepted {
            Ok((stream, peer)) => match occupancy.admit(peer.ip()) {
                Ok(admission) => {
                    let driver = Driver {
                        peer,
                        router: router.clone(),
                        header_timeout: limits.header_timeout,
                        idle_timeout: limits.idle_timeout,
                        stop: stop.clone(),
                        _done: done.clone(),
                    };
                    tokio::spawn(driver.run(stream, admission));
                }
                Err(refusal) => {
                    // Closed before anything is read: the descriptor is free again at once.
                    drop(stream);
                    if let Some(also) = refusals.ready(Instant::now()) {
                        let (held, reason) = match refusal {
                            Refusal::Full => (limits.max_total, "the server holds its maximum of connections (--max-connections)"),
                            Refusal::AddressFull => (limits.max_per_address, "one client address holds its maximum of connections (--max-connections-per-address)"),
                        };
                        tracing::warn!(
                            held,
                            refused_since_last_report = also,
                            "connection refused: {reason}"
                        );
                    }
                }
            },
            Err(err) if is_connection_error(&err) => {}
            Err(err) => {
                if let Some(also) = errors.ready(Instant::now()) {
                    tracing::error!(
                        error = %err,
                        held = occupancy.total(),
                        errors_since_last_report = also,
                        "cannot accept connections; retrying shortly"
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    _ = stop.wait_for(|stopping| *stopping) => break,
                }
            }
        }
    }
    drop(listener);
    drop(done);
    // Resolves once every driver has dropped its sender.
    let _ = all_done.recv().await;
}

/// Errors of one connection that came and went before it was accepted.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Lets a repeated event be logged once per [`LOG_EVERY`], counting the others.
#[derive(Debug, Default)]
struct Throttle {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    /// `Some(events suppressed since the last report)` when this one is to be logged.
    fn ready(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.duration_since(last) < LOG_EVERY => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

/// A connection's timer, shared by its socket, its request and response bodies and its driver.
#[derive(Debug)]
struct Watched {
    timer: Mutex<ConnectionTimer>,
    changed: Notify,
}

impl Watched {
    fn update(&self, change: impl FnOnce(&mut ConnectionTimer)) {
        let mut timer = self.timer.lock().unwrap_or_else(PoisonError::into_inner);
        let before = timer.poll_timeout();
        change(&mut timer);
        if timer.poll_timeout() != before {
            self.changed.notify_one();
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.timer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .poll_timeout()
    }

    fn expired(&self, now: Instant) -> bool {
        self.timer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .expired(now)
    }
}

/// What serves one connection.
struct Driver {
    peer: SocketAddr,
    router: Router,
    header_timeout: Duration,
    idle_timeout: Duration,
    stop: watch::Receiver<bool>,
    /// Dropped when the driver ends; shutdown waits for all of them.
    _done: mpsc::Sender<()>,
}

impl Driver {
    async fn run(mut self, stream: TcpStream, admission: Admission) {
        let watched = Arc::new(Watched {
            timer: Mutex::new(ConnectionTimer::new(
                Instant::now(),
                self.header_timeout,
                self.idle_timeout,
            )),
            changed: Notify::new(),
        });
        let io = TokioIo::new(WatchedIo {
            stream,
            watched: Arc::clone(&watched),
            _admission: admission,
        });
        let service = {
            let (watched, router, peer) = (Arc::clone(&watched), self.router.clone(), self.peer);
            service_fn(move |request: hyper::Request<Incoming>| {
                let watched = Arc::clone(&watched);
                watched.update(|timer| timer.handle_request(Instant::now()));
                let mut request =
                    request.map(|body| Body::new(Tracked::new(body, &watched, End::Request)));
                request.extensions_mut().insert(ConnectInfo(peer));
                let response = router.clone().oneshot(request);
                async move {
                    let response = response.await?;
                    Ok::<_, Infallible>(
                        response.map(|body| Body::new(Tracked::new(body, &watched, End::Response))),
                    )
                }
            })
        };
        let conn = http1::Builder::new()
            .keep_alive(true)
            .serve_connection(io, service)
            .with_upgrades();
        tokio::pin!(conn);
        let mut stopping = false;
        loop {
            let deadline = watched.deadline();
            let changed = watched.changed.notified();
            tokio::select! {
                served = conn.as_mut() => {
                    if let Err(err) = served {
                        tracing::debug!(error = %err, "connection ended with an error");
                    }
                    break;
                }
                _ = self.stop.wait_for(|stopping| *stopping), if !stopping => {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
                _ = sleep_until(deadline) => {
                    if watched.expired(Instant::now()) {
                        tracing::debug!("closing a connection that kept the server waiting");
                        break;
                    }
                }
                _ = changed => {}
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The socket of an admitted connection: reads tell its timer, and it keeps its place in the
/// counts until it is dropped, after an upgrade too.
struct WatchedIo {
    stream: TcpStream,
    watched: Arc<Watched>,
    _admission: Admission,
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.watched
                .update(|timer| timer.handle_read(Instant::now()));
        }
        polled
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Which end of an exchange a [`Tracked`] body reports.
#[derive(Clone, Copy, Debug)]
enum End {
    Request,
    Response,
}

/// A request or response body that tells the connection's timer when it is over: read to its
/// end, or dropped.
struct Tracked<B> {
    inner: B,
    end: End,
    watched: Option<Arc<Watched>>,
}

impl<B: HttpBody> Tracked<B> {
    fn new(inner: B, watched: &Arc<Watched>, end: End) -> Self {
        let mut tracked = Self {
            inner,
            end,
            watched: Some(Arc::clone(watched)),
        };
        if tracked.inner.is_end_stream() {
            tracked.finish();
        }
        tracked
    }
}

impl<B> Tracked<B> {
    fn finish(&mut self) {
        if let Some(watched) = self.watched.take() {
            match self.end {
                End::Request => watched.update(ConnectionTimer::handle_body_end),
                End::Response => {
                    watched.update(|timer| timer.handle_response_end(Instant::now()));
                }
            }
        }
    }
}

impl<B> Drop for Tracked<B> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<B: HttpBody + Unpin> HttpBody for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || this.inner.is_end_stream() {
            this.finish();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
