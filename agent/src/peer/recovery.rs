//! Recovery of a broken network path by ICE restart (RFC 8445 §2.4, W3C `restartIce`).
//!
//! When the connection to the browser is lost (the novice's network changed, a firewall or NAT
//! dropped the mapping), the agent as offerer restarts ICE: fresh credentials, candidates
//! gathered again on the interfaces the machine has now, including the TURN relay, and a new
//! offer through the signaling server. Neither person does anything. A restart that has not
//! brought the path back is repeated; after [`GIVE_UP_AFTER`] the session ends.
//!
//! A lost path is noticed two ways: the stack reports the connection disconnected or failed,
//! or the selected candidate pair stops answering its consent checks (RFC 7675) for
//! [`STALL_AFTER`]. The second is needed because the stack counts a pair alive while anything
//! arrives from the remote address, and after a break the browser's checks still arrive through
//! the relay while our media goes the dead way.
//!
//! A congested path is not a dead one: its checks and their answers queue behind the video or
//! are lost with it, yet the browser's feedback on the video (receiver reports, transport-wide
//! feedback, many a second) keeps arriving on the same pair. While the pair receives anything,
//! unanswered checks restart nothing; the congestion controller deals with the queue.
//!
//! [`Recovery`] decides when (pure, simulated time in its tests); [`run`] is its driver.

use super::events::Events;
use protocol::signal::Signal;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::time::sleep_until;
use webrtc::peer_connection::{PeerConnection, StatsSelector};

/// How long after a restart another is tried if the path is still down: gathering (a TURN
/// allocation) and checks take a few seconds.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(8);
/// How long a lost path may stay lost before the session ends.
pub(crate) const GIVE_UP_AFTER: Duration = Duration::from_secs(40);
/// How long the selected pair may go without a check answered, while checks are sent every
/// two seconds, before its path counts as lost.
pub(crate) const STALL_AFTER: Duration = Duration::from_secs(5);
/// How often the selected pair's checks are looked at.
pub(crate) const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Connectivity checks on the selected (nominated) pair so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Checks {
    pub(crate) sent: u64,
    pub(crate) answered: u64,
    /// Packets the pair received, of any kind.
    pub(crate) received: u64,
}

/// What the connection reports about its path, and the signaling connection coming back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathState {
    Up,
    Lost,
    /// The agent reconnected to the signaling server: an offer made while it was away (the
    /// novice's network changed under both) never reached the browser.
    SignalingBack,
    /// An address the machine's connections used has left it (the laptop joined another
    /// network): the path is gone too, long before its checks go unanswered for long enough to
    /// tell. The restart waits for signaling to be back, as an offer now would go nowhere.
    NetworkChanged,
}

/// What to do about the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Restart,
    GiveUp,
}

#[derive(Debug, Default)]
pub(crate) struct Recovery {
    /// When the path was lost, while it is.
    lost_since: Option<Instant>,
    next_restart: Option<Instant>,
    /// Set once the path has been up: losing it before that is a failed first connection,
    /// which a restart does not cure.
    was_up: bool,
    /// The checks last seen answered, and when the answers last grew.
    answered: Option<(Checks, Instant)>,
}

impl Recovery {
    pub(crate) fn handle_state(&mut self, state: PathState, now: Instant) -> Option<Action> {
        match state {
            PathState::Up => {
                self.was_up = true;
                self.lost_since = None;
                self.next_restart = None;
                self.answered = None;
                None
            }
            PathState::Lost if !self.was_up => Some(Action::GiveUp),
            PathState::Lost if self.lost_since.is_none() => {
                self.lost_since = Some(now);
                self.next_restart = Some(now + RETRY_AFTER);
                Some(Action::Restart)
            }
            // Disconnected then failed: the restart under way goes on.
            PathState::Lost => None,
            PathState::SignalingBack if self.lost_since.is_some() => {
                self.next_restart = Some(now + RETRY_AFTER);
                Some(Action::Restart)
            }
            PathState::SignalingBack => None,
            PathState::NetworkChanged if self.was_up && self.lost_since.is_none() => {
                self.lost_since = Some(now);
                self.next_restart = Some(now + RETRY_AFTER);
                None
            }
            PathState::NetworkChanged => None,
        }
    }

    /// The selected pair's checks as the stack counts them, looked at every [`PROBE_EVERY`]
    /// while the path is up.
    pub(crate) fn handle_checks(&mut self, checks: Checks, now: Instant) -> Option<Action> {
        if !self.was_up || self.lost_since.is_some() {
            return None;
        }
        match self.answered {
            // Answers grew, anything else arrived on the pair, or another pair was selected:
            // the path works.
            Some((seen, _))
                if checks.answered != seen.answered
                    || checks.received > seen.received
                    || checks.sent < seen.sent =>
            {
                self.answered = Some((checks, now));
                None
            }
            Some((seen, since)) if checks.sent > seen.sent && now >= since + STALL_AFTER => {
                self.handle_state(PathState::Lost, now)
            }
            Some(_) => None,
            None => {
                self.answered = Some((checks, now));
                None
            }
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Option<Action> {
        let lost_since = self.lost_since?;
        if now >= lost_since + GIVE_UP_AFTER {
            self.lost_since = None;
            self.next_restart = None;
            return Some(Action::GiveUp);
        }
        match self.next_restart {
            Some(at) if now >= at => {
                self.next_restart = Some(now + RETRY_AFTER);
                Some(Action::Restart)
            }
            _ => None,
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let give_up = self.lost_since.map(|at| at + GIVE_UP_AFTER);
        match (self.next_restart, give_up) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Follows the path states the connection reports and restarts ICE or ends the session.
pub(crate) async fn run(
    connection: Arc<dyn PeerConnection>,
    events: Events,
    mut states: mpsc::UnboundedReceiver<PathState>,
) {
    let mut recovery = Recovery::default();
    let mut probe = tokio::time::interval(PROBE_EVERY);
    loop {
        let timeout = recovery.poll_timeout();
        let action = tokio::select! {
            state = states.recv() => match state {
                Some(state) => recovery.handle_state(state, Instant::now()),
                None => return,
            },
            _ = sleep_until(timeout.unwrap_or_else(Instant::now).into()), if timeout.is_some() => {
                recovery.handle_timeout(Instant::now())
            }
            _ = probe.tick() => match selected_pair_checks(connection.as_ref()).await {
                Some(checks) => recovery.handle_checks(checks, Instant::now()),
                None => None,
            },
        };
        match action {
            Some(Action::Restart) => {
                tracing::info!("the path to the expert was lost; restarting ICE");
                if let Err(e) = restart(connection.as_ref(), &events).await {
                    tracing::warn!("ICE restart failed: {e}");
                }
            }
            Some(Action::GiveUp) => {
                events
                    .close("no network path to the expert could be established or kept")
                    .await;
                return;
            }
            None => {}
        }
    }
}

/// Checks sent and answered on the nominated pair, if there is one.
async fn selected_pair_checks(connection: &dyn PeerConnection) -> Option<Checks> {
    let report = connection
        .get_stats(Instant::now(), StatsSelector::None)
        .await;
    report
        .candidate_pairs()
        .filter(|pair| pair.nominated)
        .map(|pair| Checks {
            sent: pair.requests_sent + pair.consent_requests_sent,
            answered: pair.responses_received,
            received: pair.packets_received,
        })
        .max_by_key(|checks| checks.answered)
}

/// A new offer with fresh ICE credentials, sent before it is applied (as the first offer is).
async fn restart(connection: &dyn PeerConnection, events: &Events) -> webrtc::error::Result<()> {
    connection.restart_ice().await?;
    let offer = connection.create_offer(None).await?;
    events
        .emit(super::PeerEvent::Signal(Signal::Offer {
            sdp: offer.sdp.clone(),
        }))
        .await;
    connection.set_local_description(offer).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_path_is_restarted_at_once_and_again_until_it_is_back() {
        let t0 = Instant::now();
        let mut r = Recovery::default();
        assert_eq!(r.handle_state(PathState::Up, t0), None);
        assert_eq!(r.poll_timeout(), None);

        assert_eq!(r.handle_state(PathState::Lost, t0), Some(Action::Restart));
        // Failed after disconnected: no second restart on top of the first.
        assert_eq!(r.handle_state(PathState::Lost, t0), None);
        assert_eq!(r.poll_timeout(), Some(t0 + RETRY_AFTER));
        assert_eq!(r.handle_timeout(t0 + RETRY_AFTER / 2), None);
        assert_eq!(r.handle_timeout(t0 + RETRY_AFTER), Some(Action::Restart));

        let back = t0 + RETRY_AFTER + Duration::from_secs(1);
        assert_eq!(r.handle_state(PathState::Up, back), None);
        assert_eq!(r.poll_timeout(), None);
        assert_eq!(r.handle_timeout(back + GIVE_UP_AFTER), None);
    }

    #[test]
    fn a_lost_path_is_restarted_again_as_soon_as_signaling_is_back() {
        let t0 = Instant::now();
        let mut r = Recovery::default();
        assert_eq!(r.handle_state(PathState::SignalingBack, t0), None);
        r.handle_state(PathState::Up, t0);
        assert_eq!(
            r.handle_state(PathState::SignalingBack, t0),
            None,
            "path up: nothing to do"
        );
        assert_eq!(r.handle_state(PathState::Lost, t0), Some(Action::Restart));
        let back = t0 + Duration::from_secs(3);
        assert_eq!(
            r.handle_state(PathState::SignalingBack, back),
            Some(Action::Restart)
        );
        assert_eq!(r.poll_timeout(), Some(back + RETRY_AFTER));
        // Still ends at the same time if nothing helps.
        assert_eq!(r.handle_timeout(t0 + GIVE_UP_AFTER), Some(Action::GiveUp));
    }

    #[test]
    fn after_a_network_change_the_path_is_restarted_once_signaling_is_back() {
        let t0 = Instant::now();
        let mut r = Recovery::default();
        assert_eq!(r.handle_state(PathState::NetworkChanged, t0), None);
        assert_eq!(
            r.poll_timeout(),
            None,
            "before the first connection: nothing to recover"
        );
        r.handle_state(PathState::Up, t0);
        assert_eq!(r.handle_state(PathState::NetworkChanged, t0), None);
        // The checks that still count the old pair alive do not undo it.
        let checks = Checks {
            sent: 9,
            answered: 9,
            received: 100,
        };
        assert_eq!(r.handle_checks(checks, t0), None);
        let back = t0 + Duration::from_millis(700);
        assert_eq!(
            r.handle_state(PathState::SignalingBack, back),
            Some(Action::Restart)
        );
        // The stack noticing the loss later starts no second restart.
        assert_eq!(r.handle_state(PathState::Lost, back), None);
        assert_eq!(r.poll_timeout(), Some(back + RETRY_AFTER));
        assert_eq!(
            r.handle_state(PathState::Up, back + Duration::from_secs(1)),
            None
        );
        assert_eq!(r.poll_timeout(), None);
    }

    #[test]
    fn a_network_change_while_signaling_stays_away_is_retried_and_given_up() {
        let t0 = Instant::now();
        let mut r = Recovery::default();
        r.handle_state(PathState::Up, t0);
        r.handle_state(PathState::NetworkChanged, t0);
        assert_eq!(r.handle_timeout(t0 + RETRY_AFTER), Some(Action::Restart));
        assert_eq!(r.handle_timeout(t0 + GIVE_UP_AFTER), Some(Action::GiveUp));
    }

    #[test]
    fn a_path_that_stays_lost_ends_the_session() {
        let t0 = Instant::now();
        let mut r = Recovery::default();
        r.handle_state(PathState::Up, t0);
        r.handle_state(PathState::Lost, t0);
        let mut restarts = 0;
        let gave_up_at = loop {
            let now = r.poll_timeout().expect("a timer while the path is lost");
            match r.handle_timeout(now) {
                Some(Action::Restart) => restarts += 1,
                Some(Action::GiveUp) => break now,
                None => {}
            }
        };
        assert_eq!(gave_up_at, t0 + GIVE_UP_AFTER);
        assert!(restarts >= 2, "{restarts} restarts before giving up");
        assert_eq!(r.poll_timeout(), None);
    }

    #[test]
    fn a_pair_whose_checks_go_unanswered_is_restarted() {
        let t0 = Instant::now();
        let mut r = Recovery::default();
        r.handle_state(PathState::Up, t0);
        let checks = |sent, answered| Checks {
            sent,
            answered,
            received: answered,
        };
        let at = |secs| t0 + Duration::from_secs(secs);
        assert_eq!(r.handle_checks(checks(10, 10), at(1)), None);
        assert_eq!(r.handle_checks(checks(11, 11), at(2)), None);
        // Checks go out, nothing comes back.
        assert_eq!(r.handle_checks(checks(12, 11), at(4)), None);
        assert_eq!(r.handle_checks(checks(13, 11), at(6)), None);
        assert_eq!(
            r.handle_checks(checks(14, 11), at(7)),
            Some(Action::Restart)
        );
        // The restart is under way: no second one from the same stall.
        assert_eq!(r.handle_checks(checks(15, 11), at(8)), None);
    }

    #[test]
    fn an_idle_or_newly_selected_pair_is_not_a_stall() {
        let t0 = Instant::now();
        let mut r = Recovery::default();
        r.handle_state(PathState::Up, t0);
        let checks = |sent, answered| Checks {
            sent,
            answered,
            received: answered,
        };
        let at = |secs| t0 + Duration::from_secs(secs);
        r.handle_checks(checks(5, 5), at(0));
        // No checks sent for a while: nothing to judge.
        assert_eq!(r.handle_checks(checks(5, 5), at(30)), None);
        // Another pair, with counts of its own.
        assert_eq!(r.handle_checks(checks(2, 1), at(31)), None);
        assert_eq!(r.handle_checks(checks(3, 2), at(40)), None);
    }

    #[test]
    fn a_congested_pair_that_still_receives_feedback_is_not_restarted() {
        let t0 = Instant::now();
        let mut r = Recovery::default();
        r.handle_state(PathState::Up, t0);
        let at = |secs| t0 + Duration::from_secs(secs);
        let checks = |sent, received| Checks {
            sent,
            answered: 10,
            received,
        };
        r.handle_checks(checks(10, 500), at(0));
        // Answers stop, the browser's feedback keeps coming: a queue, not a break.
        for second in 1..20 {
            assert_eq!(
                r.handle_checks(checks(10 + second, 500 + 40 * second), at(second)),
                None
            );
        }
        // Then nothing arrives at all: that is a break.
        assert_eq!(r.handle_checks(checks(30, 1260), at(20)), None);
        assert_eq!(
            r.handle_checks(checks(33, 1260), at(25)),
            Some(Action::Restart)
        );
    }

    #[test]
    fn a_first_connection_that_fails_is_not_restarted() {
        let mut r = Recovery::default();
        assert_eq!(
            r.handle_state(PathState::Lost, Instant::now()),
            Some(Action::GiveUp)
        );
    }
}
