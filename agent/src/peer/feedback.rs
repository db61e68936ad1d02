//! Lets the browser's keyframe requests, and the congestion controller's estimates, through to
//! the agent.
//!
//! The stack's interceptor chain ends inbound RTCP before the application unless an interceptor
//! marks a packet for delivery: reports feed its own statistics and NACK, and nothing else needs
//! them. A keyframe request is different, because only the encoder can answer it, so this marks
//! compound packets holding a PLI or FIR and lets everything else pass unmarked.
//!
//! The congestion controller, nearer the wire, attaches each new estimate to the feedback packet
//! that produced it (`Attribute::TargetBitrateChanged`); this publishes it for the encoder.

use super::wire;
use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use std::collections::VecDeque;
use std::time::Instant;
use tokio::sync::watch;

/// Where the forwarder sits in the chain (see `rtc::interceptor::Slot`): application-ward of the
/// congestion controller and the pacer, so it sees their estimate, and after the report
/// interceptors have read the same packets.
pub(crate) const SLOT: usize = 12_500;

/// Marks inbound RTCP carrying PLI or FIR for delivery to the application, and publishes the
/// congestion controller's estimates.
pub(crate) struct FeedbackForwarder {
    estimates: watch::Sender<u32>,
    reads: VecDeque<TaggedPacket>,
    writes: VecDeque<TaggedPacket>,
}

impl FeedbackForwarder {
    pub(crate) fn new(estimates: watch::Sender<u32>) -> Self {
        Self {
            estimates,
            reads: VecDeque::new(),
            writes: VecDeque::new(),
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for FeedbackForwarder {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            if wire::is_keyframe_request(packets) {
                msg.message.add(Attribute::DeliverToApplication);
            }
        }
        if let Some(Attribute::TargetBitrateChanged { bits_per_second }) =
            msg.message.get(&Attribute::TargetBitrateChanged {
                bits_per_second: 0.0,
            })
        {
            // `as` saturates; the estimator's numbers are finite and positive.
            let estimate = *bits_per_second as u32;
            // Nobody listening is no error: the session is ending.
            self.estimates.send_replace(estimate);
        }
        self.reads.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.reads.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        self.writes.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.writes.pop_front()
    }
}

impl Interceptor for FeedbackForwarder {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::AttributedPacket;
    use rtc::rtcp;
    use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
    use rtc::rtcp::receiver_report::ReceiverReport;

    fn inbound(packets: Vec<Box<dyn rtcp::Packet>>) -> TaggedPacket {
        TaggedPacket {
            now: Instant::now(),
            transport: Default::default(),
            message: AttributedPacket::new(Packet::Rtcp(packets)),
        }
    }

    #[test]
    fn keyframe_requests_are_marked_and_reports_are_not() {
        let (estimates, _) = watch::channel(0);
        let mut forwarder = FeedbackForwarder::new(estimates);
        let handled = forwarder
            .handle_read(inbound(vec![
                Box::new(ReceiverReport::default()),
                Box::new(PictureLossIndication::default()),
            ]))
            .and_then(|()| {
                forwarder.handle_read(inbound(vec![Box::new(ReceiverReport::default())]))
            });
        assert!(handled.is_ok());
        let pli = forwarder.poll_read().expect("the PLI passes on");
        let report = forwarder.poll_read().expect("the report passes on");
        assert!(pli.message.has(&Attribute::DeliverToApplication));
        assert!(!report.message.has(&Attribute::DeliverToApplication));
    }

    #[test]
    fn estimates_are_published() {
        let (estimates, mut seen) = watch::channel(0);
        let mut forwarder = FeedbackForwarder::new(estimates);
        let mut packet = inbound(vec![Box::new(ReceiverReport::default())]);
        packet.message.add(Attribute::TargetBitrateChanged {
            bits_per_second: 640_000.0,
        });
        assert!(forwarder.handle_read(packet).is_ok());
        assert!(forwarder.poll_read().is_some(), "the packet passes on");
        assert!(seen.has_changed().unwrap_or(false));
        assert_eq!(*seen.borrow_and_update(), 640_000);
    }
}
