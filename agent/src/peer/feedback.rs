//! Lets the browser's keyframe requests through to the agent.
//!
//! The stack's interceptor chain ends inbound RTCP before the application unless an interceptor
//! marks a packet for delivery: reports feed its own statistics and NACK, and nothing else needs
//! them. A keyframe request is different, because only the encoder can answer it, so this marks
//! compound packets holding a PLI or FIR and lets everything else pass unmarked.

use super::wire;
use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use std::collections::VecDeque;
use std::time::Instant;

/// Where the forwarder sits in the chain (see `rtc::interceptor::Slot`): it only marks, so any
/// place does; this one is after the report interceptors have read the same packets.
pub(crate) const SLOT: usize = 12_500;

/// Marks inbound RTCP carrying PLI or FIR for delivery to the application.
#[derive(Default)]
pub(crate) struct KeyframeRequestForwarder {
    reads: VecDeque<TaggedPacket>,
    writes: VecDeque<TaggedPacket>,
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequestForwarder {
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

impl Interceptor for KeyframeRequestForwarder {
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
        let mut forwarder = KeyframeRequestForwarder::default();
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
}
