//! Optional timing trace: a CSV line for every frame sent and every input event received,
//! with wall-clock timestamps, so that a benchmark can line them up with the browser's own
//! timestamps and show where each millisecond between a click and its picture goes.
//!
//! Enabled by `agent invite --trace-timings FILE`. Times are microseconds since the Unix epoch
//! (the browser's `performance.timeOrigin + now()` is on the same clock when both run on one
//! machine). Lines:
//!
//! ```text
//! frame,<capture_start>,<captured>,<converted>,<encoded>,<sent>,<bytes>,<keyframe 0|1>,<repeat 0|1>
//! input,<received>,<kind>
//! ```
//!
//! Each line is flushed as it is written, so a trace survives the agent being killed.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use protocol::data::InputEvent;

use crate::media::EncodedFrame;

/// A handle on the trace file; cheap to clone, shared by the tasks that record.
#[derive(Clone, Debug)]
pub struct Trace {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    out: BufWriter<File>,
    /// One instant and the wall-clock time it corresponds to, to convert the monotonic
    /// timestamps of the pipeline.
    origin: Instant,
    origin_us: i64,
    /// Set after the first write error, so a full disk is reported once, not per frame.
    failed: bool,
}

impl Trace {
    /// Creates (or truncates) the trace file and writes its header.
    pub fn create(path: &Path) -> io::Result<Self> {
        let mut out = BufWriter::new(File::create(path)?);
        writeln!(
            out,
            "# times in microseconds since the Unix epoch\n\
             # frame,capture_start,captured,converted,encoded,sent,bytes,keyframe,repeat\n\
             # input,received,kind"
        )?;
        out.flush()?;
        let origin_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                out,
                origin: Instant::now(),
                origin_us,
                failed: false,
            })),
        })
    }

    /// Records a frame that has just been handed to the network.
    pub fn frame_sent(&self, frame: &EncodedFrame) {
        let sent = Instant::now();
        let t = &frame.timings;
        let captured = frame.captured_at + t.capture;
        let converted = captured + t.convert;
        let encoded = converted + t.encode;
        self.write(|inner| {
            format!(
                "frame,{},{},{},{},{},{},{},{}",
                inner.micros(frame.captured_at),
                inner.micros(captured),
                inner.micros(converted),
                inner.micros(encoded),
                inner.micros(sent),
                frame.data.len(),
                u8::from(frame.keyframe),
                u8::from(frame.repeat),
            )
        });
    }

    /// Records an input event from the expert about to be injected.
    pub fn input_received(&self, event: &InputEvent) {
        let now = Instant::now();
        let kind = match event {
            InputEvent::Move { .. } => "move",
            InputEvent::Button { down: true, .. } => "button_down",
            InputEvent::Button { down: false, .. } => "button_up",
            InputEvent::Wheel { .. } => "wheel",
            InputEvent::Key { .. } => "key",
        };
        self.write(|inner| format!("input,{},{kind}", inner.micros(now)));
    }

    fn write(&self, line: impl FnOnce(&Inner) -> String) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.failed {
            return;
        }
        let line = line(&inner);
        if let Err(err) = writeln!(inner.out, "{line}").and_then(|()| inner.out.flush()) {
            tracing::warn!(error = %err, "cannot write the timing trace; tracing stops");
            inner.failed = true;
        }
    }
}

impl Inner {
    fn micros(&self, at: Instant) -> i64 {
        // Instants before the origin (frames captured before the trace opened) count back.
        match at.checked_duration_since(self.origin) {
            Some(after) => self.origin_us + after.as_micros() as i64,
            None => self.origin_us - (self.origin - at).as_micros() as i64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::FrameTimings;
    use protocol::data::MouseButton;
    use std::time::Duration;

    #[test]
    fn frames_and_inputs_become_ordered_csv_lines() {
        let dir = std::env::temp_dir().join(format!("trace-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("trace.csv");
        let trace = Trace::create(&path).expect("create");

        trace.input_received(&InputEvent::Button {
            button: MouseButton::Left,
            down: true,
            x: 1,
            y: 2,
        });
        let frame = EncodedFrame {
            data: vec![0; 1234],
            codec: crate::media::VideoCodec::H264,
            keyframe: true,
            repeat: false,
            width: 64,
            height: 48,
            screen_width: 64,
            screen_height: 48,
            captured_at: Instant::now(),
            timings: FrameTimings {
                capture: Duration::from_millis(1),
                convert: Duration::from_millis(2),
                encode: Duration::from_millis(3),
            },
        };
        std::thread::sleep(Duration::from_millis(7));
        trace.frame_sent(&frame);

        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines.len(), 2, "{text}");
        let input: Vec<&str> = lines[0].split(',').collect();
        assert_eq!((input[0], input[2]), ("input", "button_down"));

        let fields: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(fields[0], "frame");
        let t: Vec<i64> = fields[1..6]
            .iter()
            .map(|f| f.parse().expect("int"))
            .collect();
        assert_eq!(t[1] - t[0], 1000, "capture stage");
        assert_eq!(t[2] - t[1], 2000, "convert stage");
        assert_eq!(t[3] - t[2], 3000, "encode stage");
        assert!(t[4] >= t[0] + 7000, "sent after the sleep: {t:?}");
        let now_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_micros() as i64;
        assert!((now_us - t[4]).abs() < 60_000_000, "wall-clock times");
        assert_eq!((fields[6], fields[7], fields[8]), ("1234", "1", "0"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
