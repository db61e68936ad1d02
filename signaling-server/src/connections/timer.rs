//! When a connection has waited too long: the deadline of each phase of an HTTP/1 connection,
//! as a plain state machine that is told what happened and when (no clock, no IO).
//!
//! A connection starts waiting for a request head. Once the head is in, the request's body
//! must arrive within the same time; then the handler runs, without a deadline. When the
//! response has been sent the connection is idle until the first byte of its next request,
//! which starts the head deadline again. A slow sender (a header line every few seconds) and a
//! silent socket are therefore both closed, however many bytes they trickle in.

use std::time::Duration;
use tokio::time::Instant;

/// What the connection is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The rest of a request head, since `since`.
    Head { since: Instant },
    /// The rest of a request body, since its head arrived.
    Body { since: Instant },
    /// The handler's response: no deadline, the server is working.
    Handling,
    /// The next request, since the last response was sent.
    Idle { since: Instant },
}

/// The deadlines of one connection.
#[derive(Clone, Debug)]
pub struct ConnectionTimer {
    phase: Phase,
    header_timeout: Duration,
    idle_timeout: Duration,
}

impl ConnectionTimer {
    /// A connection accepted at `now`, waiting for its first request head.
    pub fn new(now: Instant, header_timeout: Duration, idle_timeout: Duration) -> Self {
        Self {
            phase: Phase::Head { since: now },
            header_timeout,
            idle_timeout,
        }
    }

    /// Bytes arrived from the client: on an idle connection they start the next request.
    pub fn handle_read(&mut self, now: Instant) {
        if let Phase::Idle { .. } = self.phase {
            self.phase = Phase::Head { since: now };
        }
    }

    /// A whole request head arrived; its body is awaited next.
    pub fn handle_request(&mut self, now: Instant) {
        self.phase = Phase::Body { since: now };
    }

    /// The request's body was read to its end, or left unread by the handler.
    pub fn handle_body_end(&mut self) {
        if let Phase::Body { .. } = self.phase {
            self.phase = Phase::Handling;
        }
    }

    /// The response has been handed over in full: the connection waits for the next request.
    pub fn handle_response_end(&mut self, now: Instant) {
        self.phase = Phase::Idle { since: now };
    }

    /// When the connection is to be closed unless something happens first; `None` while a
    /// handler is at work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Head { since } | Phase::Body { since } => Some(since + self.header_timeout),
            Phase::Idle { since } => Some(since + self.idle_timeout),
            Phase::Handling => None,
        }
    }

    /// Whether the connection has waited too long at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        self.poll_timeout().is_some_and(|deadline| now >= deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: Duration = Duration::from_secs(10);
    const IDLE: Duration = Duration::from_secs(60);

    fn secs(start: Instant, s: u64) -> Instant {
        start + Duration::from_secs(s)
    }

    #[test]
    fn a_silent_connection_expires_after_the_header_timeout() {
        let t0 = Instant::now();
        let timer = ConnectionTimer::new(t0, HEAD, IDLE);
        assert_eq!(timer.poll_timeout(), Some(secs(t0, 10)));
        assert!(!timer.expired(secs(t0, 9)));
        assert!(timer.expired(secs(t0, 10)));
    }

    #[test]
    fn trickled_header_bytes_do_not_extend_the_deadline() {
        let t0 = Instant::now();
        let mut timer = ConnectionTimer::new(t0, HEAD, IDLE);
        for s in 1..10 {
            timer.handle_read(secs(t0, s));
        }
        assert!(timer.expired(secs(t0, 10)));
    }

    #[test]
    fn the_body_has_the_header_timeout_from_the_end_of_the_head() {
        let t0 = Instant::now();
        let mut timer = ConnectionTimer::new(t0, HEAD, IDLE);
        timer.handle_request(secs(t0, 3));
        timer.handle_read(secs(t0, 8));
        assert_eq!(timer.poll_timeout(), Some(secs(t0, 13)));
        timer.handle_body_end();
        assert_eq!(timer.poll_timeout(), None);
        assert!(!timer.expired(secs(t0, 3600)));
    }

    #[test]
    fn an_idle_connection_gets_the_idle_timeout_then_the_header_timeout() {
        let t0 = Instant::now();
        let mut timer = ConnectionTimer::new(t0, HEAD, IDLE);
        timer.handle_request(secs(t0, 1));
        timer.handle_body_end();
        timer.handle_response_end(secs(t0, 2));
        assert_eq!(timer.poll_timeout(), Some(secs(t0, 62)));
        // The first byte of the next request starts its head's deadline.
        timer.handle_read(secs(t0, 50));
        assert_eq!(timer.poll_timeout(), Some(secs(t0, 60)));
        timer.handle_read(secs(t0, 55));
        assert_eq!(timer.poll_timeout(), Some(secs(t0, 60)));
    }

    #[test]
    fn a_body_left_unread_ends_with_the_request() {
        let t0 = Instant::now();
        let mut timer = ConnectionTimer::new(t0, HEAD, IDLE);
        timer.handle_request(t0);
        timer.handle_response_end(secs(t0, 1));
        // The unread body is dropped after the response began: it changes nothing.
        timer.handle_body_end();
        assert_eq!(timer.poll_timeout(), Some(secs(t0, 61)));
    }
}
