//! The test pattern (`tests/assets/pattern.py`): four coloured quadrants drawn on the novice's
//! display, and what the expert's video shows of them. A test starts the pattern, lets the
//! novice share it, and waits until the colours at the quadrants' centres arrive in the page's
//! video element: proof that real frames were captured, encoded, sent and decoded.

use crate::browser::Page;
use crate::console::{more_frames_decoded, Invited, WAIT};
use crate::tk::TkProgram;
use anyhow::{bail, Result};
use serde_json::Value;
use std::time::Duration;

/// The pattern's quadrants (top-left, top-right, bottom-right, bottom-left), see
/// `tests/assets/pattern.py`.
pub const PATTERN: [[i64; 3]; 4] = [
    [0xe0, 0x20, 0x20],
    [0x20, 0xc0, 0x40],
    [0x20, 0x40, 0xe0],
    [0xf0, 0xd0, 0x20],
];

/// The pattern after one [`rotate`]: every colour one quadrant on, clockwise.
pub const ROTATED: [[i64; 3]; 4] = [PATTERN[3], PATTERN[0], PATTERN[1], PATTERN[2]];

/// Per channel, after 4:2:0 subsampling, lossy coding and two colour-space conversions.
const TOLERANCE: i64 = 40;

/// The colours at the centres of the four quadrants of the current video frame, drawn to a
/// canvas at the video's own size; `null` before the first frame.
const SAMPLE_QUADRANTS: &str = r#"(() => {
  const v = document.getElementById("video");
  if (!v || !v.srcObject || v.readyState < 2 || v.videoWidth === 0) return null;
  const c = document.createElement("canvas");
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(v, 0, 0);
  const at = ([fx, fy]) => Array.from(
    ctx.getImageData(Math.floor(fx * c.width), Math.floor(fy * c.height), 1, 1).data.slice(0, 3));
  return { width: c.width, height: c.height,
           colours: [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]].map(at) };
})()"#;

/// A novice sharing the test pattern on a 640×480 display through `agent invite`, the
/// invitation protected by `password` when one is given: the invitation, and the pattern.
pub async fn invited_to_the_pattern(password: Option<&str>) -> Result<(Invited, TkProgram)> {
    let invited = match password {
        Some(password) => Invited::start_with_password(640, 480, password, &[]).await?,
        None => Invited::start(640, 480, &[]).await?,
    };
    let pattern = TkProgram::start(&invited.xvfb, "pattern.py").await?;
    Ok((invited, pattern))
}

/// Turns the pattern's colours one quadrant clockwise (to [`ROTATED`]) and waits until it is
/// redrawn.
pub async fn rotate(pattern: &mut TkProgram) -> Result<()> {
    pattern.send("rotate").await?;
    pattern.expect("ready").await?;
    Ok(())
}

/// Whether a sample of [`SAMPLE_QUADRANTS`] shows `expected`, within [`TOLERANCE`].
fn matches(sample: &Value, expected: &[[i64; 3]; 4]) -> bool {
    let Some(colours) = sample["colours"].as_array() else {
        return false;
    };
    colours.len() == 4
        && colours.iter().zip(expected).all(|(got, want)| {
            (0..3).all(|i| {
                got[i]
                    .as_i64()
                    .is_some_and(|c| (c - want[i]).abs() <= TOLERANCE)
            })
        })
}

/// Waits until the page's video shows `expected` ([`PATTERN`] or [`ROTATED`]), and returns
/// the last sample: `{ width, height, colours }`.
pub async fn expect_video(page: &Page, expected: &[[i64; 3]; 4], what: &str) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let sample = page.eval(SAMPLE_QUADRANTS).await?;
        if matches(&sample, expected) {
            return Ok(sample);
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "the video never showed {what}: last sample {sample}, console state {}, \
                 status {}, console: {:?}",
                page.eval("document.body.dataset.state").await?,
                page.eval("document.getElementById('status').textContent")
                    .await?,
                page.console()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page's video shows the [`PATTERN`] and then decodes more frames: the
/// novice's screen is live in front of the expert. Returns the sample that showed it.
pub async fn expect_the_pattern_live(page: &Page) -> Result<Value> {
    let sample = expect_video(page, &PATTERN, "the test pattern").await?;
    more_frames_decoded(page).await?;
    Ok(sample)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sample_matches_within_the_tolerance_only() {
        let sample =
            |colours: [[i64; 3]; 4]| json!({ "width": 4, "height": 4, "colours": colours });
        let off = |by: i64| PATTERN.map(|c| c.map(|v| v + by));
        assert!(matches(&sample(PATTERN), &PATTERN));
        assert!(matches(&sample(off(TOLERANCE)), &PATTERN));
        assert!(!matches(&sample(off(TOLERANCE + 1)), &PATTERN));
        assert!(!matches(&sample(ROTATED), &PATTERN));
        assert!(!matches(&Value::Null, &PATTERN), "no frame yet");
    }
}
