//! The hand-off of encoded frames from the media thread to async code.
//!
//! A bounded queue: when the consumer falls behind, the oldest frame goes, so a stalled sender
//! costs a few lost frames rather than ever-growing latency and memory. A keyframe makes every
//! frame queued before it useless (a decoder restarts from it), so pushing one discards them at
//! once. The producer is a plain thread, hence a `std` mutex that is never held across an
//! `.await`, and a `Notify` to wake the async side.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::EncodedFrame;

/// What became of a frame handed to [`FrameSender::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Queued, and every frame the receiver gets can still be decoded.
    Queued,
    /// Queued, but an older frame that later ones refer to was dropped to make room: the
    /// stream only decodes cleanly again from the next keyframe.
    DroppedOlder,
    /// Nobody will ever read it: the [`FrameReceiver`] is gone.
    ReceiverGone,
}

#[derive(Debug, Default)]
struct State {
    frames: VecDeque<EncodedFrame>,
    sender_gone: bool,
    receiver_gone: bool,
}

#[derive(Debug)]
struct Shared {
    capacity: usize,
    state: Mutex<State>,
    wake_receiver: Notify,
    dropped: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the queue half-updated, so carry on.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Creates a queue that holds at most `capacity` frames (at least one).
pub(crate) fn channel(capacity: usize) -> (FrameSender, FrameReceiver) {
    let shared = Arc::new(Shared {
        capacity: capacity.max(1),
        state: Mutex::default(),
        wake_receiver: Notify::new(),
        dropped: AtomicU64::new(0),
    });
    (
        FrameSender {
            shared: Arc::clone(&shared),
        },
        FrameReceiver { shared },
    )
}

/// The media thread's end of the queue; dropping it ends the stream for the receiver.
#[derive(Debug)]
pub(crate) struct FrameSender {
    shared: Arc<Shared>,
}

impl FrameSender {
    /// Queues `frame` without ever blocking, dropping older frames if the queue is full.
    pub fn send(&self, frame: EncodedFrame) -> Sent {
        let mut state = self.shared.lock();
        if state.receiver_gone {
            return Sent::ReceiverGone;
        }
        let mut sent = Sent::Queued;
        let discarded = if frame.keyframe {
            let superseded = state.frames.len();
            state.frames.clear();
            superseded
        } else if state.frames.len() >= self.shared.capacity {
            state.frames.pop_front();
            sent = Sent::DroppedOlder;
            1
        } else {
            0
        };
        state.frames.push_back(frame);
        drop(state);
        self.shared
            .dropped
            .fetch_add(discarded as u64, Ordering::Relaxed);
        self.shared.wake_receiver.notify_one();
        sent
    }
}

impl Drop for FrameSender {
    fn drop(&mut self) {
        self.shared.lock().sender_gone = true;
        self.shared.wake_receiver.notify_one();
    }
}

/// The async end of the media pipeline: encoded frames, newest last.
#[derive(Debug)]
pub struct FrameReceiver {
    shared: Arc<Shared>,
}

impl FrameReceiver {
    /// Waits for the next frame; `None` once the pipeline has stopped and every queued frame
    /// has been taken.
    pub async fn recv(&mut self) -> Option<EncodedFrame> {
        loop {
            // Registered before looking, so a frame sent in between still wakes us.
            let notified = self.shared.wake_receiver.notified();
            {
                let mut state = self.shared.lock();
                if let Some(frame) = state.frames.pop_front() {
                    return Some(frame);
                }
                if state.sender_gone {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// How many encoded frames were discarded because this receiver fell behind.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for FrameReceiver {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_gone = true;
        state.frames.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::media::FrameTimings;

    fn frame(number: u8, keyframe: bool) -> EncodedFrame {
        EncodedFrame {
            repeat: false,
            data: vec![number],
            codec: crate::media::VideoCodec::H264,
            keyframe,
            width: 2,
            height: 2,
            screen_width: 2,
            screen_height: 2,
            captured_at: Instant::now(),
            timings: FrameTimings::default(),
        }
    }

    fn queued(receiver: &FrameReceiver) -> usize {
        receiver.shared.lock().frames.len()
    }

    #[tokio::test]
    async fn a_slow_consumer_gets_the_newest_frames_and_the_queue_never_exceeds_its_bound() {
        let (sender, mut receiver) = channel(3);
        let producer = std::thread::spawn(move || {
            (0..100u8)
                .map(|n| sender.send(frame(n, false)))
                .filter(|sent| *sent == Sent::DroppedOlder)
                .count()
        });
        let mut received = Vec::new();
        let mut max_queued = 0;
        loop {
            max_queued = max_queued.max(queued(&receiver));
            match receiver.recv().await {
                Some(f) => received.push(f.data[0]),
                None => break,
            }
            // A consumer much slower than the producer.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let reported_drops = producer.join().expect("producer thread");

        assert!(max_queued <= 3, "held {max_queued} frames");
        assert_eq!(received.last(), Some(&99), "the newest frame arrives");
        assert!(received.windows(2).all(|w| w[0] < w[1]), "in order");
        assert_eq!(received.len() as u64 + receiver.dropped(), 100);
        assert_eq!(reported_drops as u64, receiver.dropped());
        assert!(
            receiver.dropped() > 0,
            "the consumer was slow enough to lose frames"
        );
    }

    #[tokio::test]
    async fn a_full_queue_drops_exactly_the_oldest() {
        let (sender, mut receiver) = channel(2);
        assert_eq!(sender.send(frame(1, false)), Sent::Queued);
        assert_eq!(sender.send(frame(2, false)), Sent::Queued);
        assert_eq!(sender.send(frame(3, false)), Sent::DroppedOlder);
        assert_eq!(queued(&receiver), 2);
        drop(sender);

        assert_eq!(receiver.recv().await.map(|f| f.data), Some(vec![2]));
        assert_eq!(receiver.recv().await.map(|f| f.data), Some(vec![3]));
        assert!(receiver.recv().await.is_none());
        assert_eq!(receiver.dropped(), 1);
    }

    #[tokio::test]
    async fn a_keyframe_discards_the_frames_queued_before_it() {
        let (sender, mut receiver) = channel(4);
        sender.send(frame(1, false));
        sender.send(frame(2, false));
        assert_eq!(sender.send(frame(3, true)), Sent::Queued);
        drop(sender);

        assert_eq!(receiver.recv().await.map(|f| f.data), Some(vec![3]));
        assert!(receiver.recv().await.is_none());
        assert_eq!(receiver.dropped(), 2);
    }

    #[tokio::test]
    async fn recv_waits_for_a_frame_sent_later_from_another_thread() {
        let (sender, mut receiver) = channel(1);
        let producer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            sender.send(frame(7, true))
        });
        let got = tokio::time::timeout(Duration::from_secs(10), receiver.recv())
            .await
            .expect("woken before the timeout");
        assert_eq!(got.map(|f| f.data), Some(vec![7]));
        assert_eq!(producer.join().expect("producer thread"), Sent::Queued);
    }

    #[test]
    fn the_sender_learns_that_the_receiver_is_gone() {
        let (sender, receiver) = channel(1);
        drop(receiver);
        assert_eq!(sender.send(frame(1, false)), Sent::ReceiverGone);
    }
}
