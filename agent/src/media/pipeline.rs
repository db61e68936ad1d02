//! The media thread and its public handle.
//!
//! One OS thread owns the capturer and the encoder (neither may leave the thread that made
//! them) and loops: wait until the screen changed (the `damage` watcher says so the moment
//! anything is drawn) or a keyframe was asked for, but no sooner than one `max_fps` interval
//! after the previous grab; grab the screen, and if it differs from the last frame sent, or a
//! keyframe is due, convert, encode and hand the frame to the queue. A change is grabbed at once
//! rather than at the next tick of a timer, and a static desktop costs one tiny frame a second
//! (`STILL_REFRESH`).
//! Without the DAMAGE extension the thread falls back to grabbing and comparing on every tick.
//! Commands and change reports reach the thread over one channel whose receive also serves as
//! its sleep, so a stop is noticed at once. The network's estimate arrives the same way and
//! sets the encoder's bitrate and the frame rate (see `rate`); keyframe requests are answered
//! no faster than a keyframe can cross the link.

use openh264::formats::YUVSource;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::capture::{BgraImage, ScreenCapture};
use super::convert::{self, I420Image};
use super::damage::DamageWatcher;
use super::encode::{VideoEncoder, MAX_FPS};
use super::handoff::{self, FrameReceiver, FrameSender, Sent};
use super::rate::{self, KeyframeGate, PictureSize};
use super::{EncodedFrame, FrameTimings, MediaConfig, MediaError, VideoCodec};

/// Frames the queue holds for a slow consumer: 100 ms at 30 fps absorbs a brief stall of the
/// sending task; any more would only be latency.
const QUEUE_CAPACITY: usize = 3;

/// A still screen is sent again this often, as a frame of a few dozen bytes that changes
/// nothing: a browser that gets no frame for 3 s asks for a keyframe, and a keyframe of a
/// desktop costs 100 KB or more.
const STILL_REFRESH: Duration = Duration::from_secs(1);

enum Command {
    Keyframe,
    /// Something was drawn on the screen since the last report.
    Damaged,
    /// Encode in this codec from the next frame on, starting with a keyframe.
    Codec(VideoCodec),
    /// The network's estimate of what the path carries, in bits/s.
    Estimate(u32),
    /// The path's round-trip time as last measured.
    RoundTrip(Duration),
    Stop,
}

/// Tells a running pipeline what the network can carry; cheap to clone and to send from any
/// task.
#[derive(Debug, Clone)]
pub struct RateControl {
    commands: mpsc::Sender<Command>,
}

impl RateControl {
    /// The congestion controller's estimate, in bits/s.
    pub fn estimate(&self, bits_per_second: u32) {
        // Fails only once the thread has ended, when there is no stream to adjust.
        let _ = self.commands.send(Command::Estimate(bits_per_second));
    }

    /// The round-trip time to the viewer.
    pub fn round_trip(&self, rtt: Duration) {
        let _ = self.commands.send(Command::RoundTrip(rtt));
    }
}

/// The running media pipeline. Dropping it stops the thread, like [`Pipeline::stop`].
#[derive(Debug)]
pub struct Pipeline {
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Opens the display and the encoder on a new thread and starts capturing.
    ///
    /// Returns once the display is open, so a wrong display fails here with a message for the
    /// user; that takes milliseconds, short enough to call from async code.
    pub fn start(config: MediaConfig) -> Result<(Pipeline, FrameReceiver), MediaError> {
        if !(1..=MAX_FPS).contains(&config.max_fps) {
            return Err(MediaError::Config(format!(
                "the frame rate must be between 1 and {MAX_FPS}, not {}",
                config.max_fps
            )));
        }
        if config.bitrate_bps == 0 {
            return Err(MediaError::Config("the bitrate must be above zero".into()));
        }

        let (frames, receiver) = handoff::channel(QUEUE_CAPACITY);
        let (commands, command_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let damage_reports = commands.clone();
        let thread = std::thread::Builder::new()
            .name("media-pipeline".into())
            .spawn(move || match Worker::open(&config, damage_reports) {
                Ok(worker) => {
                    // If `start` is gone there is nobody to stream to; the stop command or the
                    // closed channel ends the loop right away.
                    let _ = ready_tx.send(Ok(()));
                    worker.run(&command_rx, &frames);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(MediaError::Thread)?;

        let opened = ready_rx.recv();
        let pipeline = Pipeline {
            commands,
            thread: Some(thread),
        };
        match opened {
            Ok(Ok(())) => Ok((pipeline, receiver)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(MediaError::Thread(std::io::Error::other(
                "the media thread ended while opening the display",
            ))),
        }
    }

    /// Makes the next frame an IDR picture even if the screen did not change: a viewer
    /// joined, or a receiver lost packets and sent PLI/FIR.
    pub fn request_keyframe(&self) {
        // Fails only once the thread has ended, when there is no stream to repair.
        let _ = self.commands.send(Command::Keyframe);
    }

    /// Encodes in `codec` from the next frame on, starting with a keyframe: the viewer's
    /// browser chose it.
    pub fn set_codec(&self, codec: VideoCodec) {
        let _ = self.commands.send(Command::Codec(codec));
    }

    /// A handle for the network side to report its estimates with.
    pub fn rate_control(&self) -> RateControl {
        RateControl {
            commands: self.commands.clone(),
        }
    }

    /// Stops capturing and waits for the thread to finish its current frame.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the media thread panicked");
            }
        }
    }
}

/// Everything the media thread owns.
struct Worker {
    capture: ScreenCapture,
    encoder: VideoEncoder,
    /// The configured frame rate and bitrate: the most the network's estimate may give.
    max_fps: u32,
    max_bitrate: u32,
    /// The bitrate the encoder aims at now.
    bitrate: u32,
    interval: Duration,
    /// Whole, or halved on a link too slow for the screen's size.
    size: PictureSize,
    keyframes: KeyframeGate,
    /// Reports changes; `None` when the display has no DAMAGE extension, and then the thread
    /// grabs on every tick.
    damage: Option<DamageWatcher>,
}

impl Worker {
    fn open(config: &MediaConfig, reports: mpsc::Sender<Command>) -> Result<Self, MediaError> {
        let capture = ScreenCapture::open(config.display.as_deref())?;
        let damage = match DamageWatcher::start(capture.display(), move || {
            reports.send(Command::Damaged).is_ok()
        }) {
            Ok(watcher) => Some(watcher),
            Err(reason) => {
                tracing::warn!(display = %capture.display(), %reason,
                        "cannot watch the screen for changes; comparing frames on a timer instead");
                None
            }
        };
        Ok(Self {
            capture,
            encoder: VideoEncoder::new(config.codec, config.max_fps, config.bitrate_bps)?,
            max_fps: config.max_fps,
            max_bitrate: config.bitrate_bps,
            bitrate: config.bitrate_bps,
            interval: Duration::from_secs(1) / config.max_fps,
            size: PictureSize::Full,
            keyframes: KeyframeGate::new(config.bitrate_bps),
            damage,
        })
    }

    /// Follows the network's estimate: the encoder's bitrate and, on slow links, fewer frames.
    fn handle_estimate(&mut self, estimate: u32) -> Result<(), MediaError> {
        let bitrate = rate::encoder_bitrate(estimate, self.max_bitrate);
        if bitrate != self.bitrate {
            self.bitrate = bitrate;
            // An encoder that keeps its old bitrate still streams; the pacer holds the rate.
            if let Err(e) = self.encoder.set_bitrate(bitrate) {
                tracing::warn!(bitrate, error = %e, "the encoder keeps its bitrate");
            }
            self.keyframes.handle_bitrate(bitrate);
            self.interval = Duration::from_secs(1) / rate::frame_rate(bitrate, self.max_fps);
            tracing::debug!(estimate, bitrate, interval = ?self.interval, "following the network");
        }
        Ok(())
    }

    /// Switches to `codec` at the current bitrate; the new encoder starts with a keyframe.
    fn handle_codec(&mut self, codec: VideoCodec) -> Result<(), MediaError> {
        if codec != self.encoder.codec() {
            self.encoder = self.fresh_encoder(codec)?;
            self.keyframes = KeyframeGate::new(self.bitrate);
        }
        Ok(())
    }

    /// A new encoder for `codec` at the current bitrate. It is set up for the configured
    /// bitrate and then lowered, since OpenH264 refuses to be raised past what it started with.
    fn fresh_encoder(&self, codec: VideoCodec) -> Result<VideoEncoder, MediaError> {
        let mut encoder = VideoEncoder::new(codec, self.max_fps, self.max_bitrate)?;
        encoder.set_bitrate(self.bitrate)?;
        Ok(encoder)
    }

    /// Halves the picture below the bitrate floor for a screen of this size and makes it whole
    /// again above it; a new size starts a new encoder, whose first frame is a keyframe.
    fn follow_size(&mut self, screen: &BgraImage) -> Result<(), MediaError> {
        let pixels = u64::from(screen.width) * u64::from(screen.height);
        let size = self.size.follow(self.bitrate, pixels);
        if size != self.size {
            tracing::debug!(
                ?size,
                bitrate = self.bitrate,
                "picture size follows the network"
            );
            self.size = size;
            self.encoder = self.fresh_encoder(self.encoder.codec())?;
        }
        Ok(())
    }

    fn run(mut self, commands: &mpsc::Receiver<Command>, frames: &FrameSender) {
        let x_display = self.capture.display().to_owned();
        match self.stream(commands, frames) {
            Ok(()) => tracing::debug!(display = %x_display, "media pipeline stopped"),
            Err(e) => tracing::error!(display = %x_display, error = %e, "media pipeline stopped"),
        }
    }

    /// Streams until told to stop, the receiver is gone, or a stage fails.
    fn stream(
        &mut self,
        commands: &mpsc::Receiver<Command>,
        frames: &FrameSender,
    ) -> Result<(), MediaError> {
        let mut screen = BgraImage::default();
        let mut last_sent = BgraImage::default();
        let mut halved = BgraImage::default();
        let mut screen_size = (0, 0);
        let mut i420 = I420Image::default();
        let mut keyframe_wanted = true;
        // Without change reports every tick counts as a possible change.
        let polling = self.damage.is_none();
        let mut changed = true;
        let mut next_grab = Instant::now();
        let mut last_frame_at = Instant::now();

        loop {
            // Sleep until there is something to grab and its time has come, or until a still
            // screen is due for its refresh, acting on commands as they arrive. A keyframe
            // request waits while the last keyframe is still on its way.
            let refresh = loop {
                let keyframe_at = keyframe_wanted.then(|| {
                    self.keyframes
                        .poll_open_at()
                        .map_or(next_grab, |open| open.max(next_grab))
                });
                let deadline = match keyframe_at {
                    _ if changed => next_grab,
                    Some(at) => at.min(last_frame_at + STILL_REFRESH),
                    None => last_frame_at + STILL_REFRESH,
                };
                let wanted = changed || keyframe_at.is_some_and(|at| at <= deadline);
                match commands.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(Command::Keyframe) => keyframe_wanted = true,
                    Ok(Command::Damaged) => changed = true,
                    Ok(Command::Estimate(estimate)) => self.handle_estimate(estimate)?,
                    Ok(Command::RoundTrip(rtt)) => self.keyframes.handle_round_trip(rtt),
                    Ok(Command::Codec(codec)) => {
                        self.handle_codec(codec)?;
                        keyframe_wanted = true;
                    }
                    Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
                    Err(RecvTimeoutError::Timeout) => break !wanted,
                }
            };
            changed = polling;
            // After a slow frame, start afresh rather than rushing to catch up.
            next_grab = (next_grab + self.interval).max(Instant::now());

            let captured_at = Instant::now();
            let keyframe_due = keyframe_wanted && self.keyframes.is_open(captured_at);
            let fresh = !refresh && {
                self.capture.grab(&mut screen)?;
                screen != last_sent || keyframe_due
            };
            if !fresh && last_frame_at.elapsed() < STILL_REFRESH {
                continue;
            }
            let converting = Instant::now();
            // Not fresh: the picture encoded last time is encoded again.
            if fresh {
                screen_size = (screen.width, screen.height);
                self.follow_size(&screen)?;
                match self.size {
                    PictureSize::Full => i420.convert_from(&screen)?,
                    PictureSize::Half => {
                        convert::halve(&screen, &mut halved);
                        i420.convert_from(&halved)?;
                    }
                }
            }
            let encoding = Instant::now();
            if keyframe_due {
                self.encoder.force_keyframe();
            }
            let mut data = Vec::new();
            let Some(keyframe) = self.encoder.encode(&i420, &mut data)? else {
                continue;
            };
            let timings = FrameTimings {
                capture: converting - captured_at,
                convert: encoding - converting,
                encode: encoding.elapsed(),
            };

            let (width, height) = i420.dimensions();
            if keyframe {
                self.keyframes
                    .handle_keyframe_sent(Instant::now(), data.len());
            }
            let frame = EncodedFrame {
                data,
                codec: self.encoder.codec(),
                keyframe,
                repeat: !fresh,
                width: width as u32,
                height: height as u32,
                screen_width: screen_size.0,
                screen_height: screen_size.1,
                captured_at,
                timings,
            };
            last_frame_at = Instant::now();
            keyframe_wanted &= !keyframe;
            match frames.send(frame) {
                Sent::Queued => {}
                // The frames after the lost one refer to it: resynchronise the decoder.
                Sent::DroppedOlder => keyframe_wanted = true,
                Sent::ReceiverGone => return Ok(()),
            }
            if fresh {
                std::mem::swap(&mut screen, &mut last_sent);
            }
        }
    }
}
