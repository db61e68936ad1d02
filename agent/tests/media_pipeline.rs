//! The media pipeline on a real X display: what a viewer decoding its H.264 stream would see.
//!
//! Every test starts its own Xvfb, paints it with `xsetroot`, runs [`Pipeline`] against it and
//! decodes the frames with OpenH264's decoder, reading the colour back at a few points of the
//! picture (BT.601 limited range, as the stream signals). Time limits only guard against hangs;
//! nothing here depends on how fast the machine is.

use std::time::Duration;

use agent::media::{EncodedFrame, FrameReceiver, MediaConfig, MediaError, Pipeline};
use anyhow::{bail, Context, Result};
use openh264::decoder::{DecodedYUV, Decoder};
use openh264::formats::YUVSource;
use tests::xvfb::Xvfb;
use tokio::time::{timeout, timeout_at, Instant};

/// Generous: several tests encode 720p on two busy cores at once.
const WAIT: Duration = Duration::from_secs(30);
/// How long a static screen is watched for frames it should not produce.
/// Long enough to see the once-a-second refresh of a still screen at least twice.
const STILL: Duration = Duration::from_millis(3500);
/// Per channel, after 4:2:0 subsampling, lossy coding and rounding in two conversions.
const TOLERANCE: u8 = 12;
/// Frames the pipeline's queue holds for a consumer that does not read.
const QUEUE_CAPACITY: usize = 3;

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;

const SLATE_BLUE: [u8; 3] = [0x33, 0x66, 0xcc];
const AMBER: [u8; 3] = [0xe0, 0xa0, 0x30];
const TEAL: [u8; 3] = [0x20, 0x90, 0x80];
const CRIMSON: [u8; 3] = [0xc0, 0x20, 0x40];

/// NAL unit types (RFC 6184 section 1.3).
const NAL_IDR_SLICE: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// A display of the test size showing one solid colour.
fn display_showing(colour: [u8; 3]) -> Result<Xvfb> {
    let xvfb = Xvfb::start(WIDTH, HEIGHT)?;
    xvfb.fill(&hex(colour))?;
    Ok(xvfb)
}

fn start(xvfb: &Xvfb) -> Result<(Pipeline, FrameReceiver)> {
    Ok(Pipeline::start(MediaConfig {
        display: Some(xvfb.display().to_owned()),
        ..MediaConfig::default()
    })?)
}

async fn next_frame(frames: &mut FrameReceiver) -> Result<EncodedFrame> {
    timeout(WAIT, frames.recv())
        .await
        .with_context(|| format!("no frame within {WAIT:?}"))?
        .context("the pipeline stopped")
}

/// The frames that arrive within `period`.
async fn frames_within(frames: &mut FrameReceiver, period: Duration) -> Result<Vec<EncodedFrame>> {
    let until = Instant::now() + period;
    let mut got = Vec::new();
    loop {
        match timeout_at(until, frames.recv()).await {
            Err(_) => return Ok(got),
            Ok(Some(frame)) => got.push(frame),
            Ok(None) => bail!("the pipeline stopped"),
        }
    }
}

/// What a still screen may cost: a refresh about once a second, so that browsers, which ask for
/// a keyframe after 3 s without a frame, never do; each one a small frame that changes nothing.
fn assert_still(frames: &[EncodedFrame], viewer: &mut Viewer, colour: [u8; 3]) -> Result<()> {
    let sizes: Vec<usize> = frames.iter().map(|f| f.data.len()).collect();
    assert!(
        (2..=4).contains(&frames.len()),
        "want a refresh about every second over {STILL:?}, got frames of {sizes:?} bytes"
    );
    for frame in frames {
        assert!(!frame.keyframe, "a still screen needs no keyframe");
        assert!(frame.repeat, "a still screen's frame is marked as a repeat");
        assert!(frame.data.len() < 1000, "refresh frames of {sizes:?} bytes");
        let picture = viewer.show(frame)?;
        assert!(picture.is(colour), "want {colour:?}, saw {picture:?}");
    }
    Ok(())
}

/// NAL unit types in an Annex-B access unit, in order.
fn nal_types(annex_b: &[u8]) -> Vec<u8> {
    annex_b
        .windows(4)
        .filter(|w| w[..3] == [0, 0, 1])
        .map(|w| w[3] & 0x1f)
        .collect()
}

/// Index of the sample at the centre of the picture in [`Picture::samples`].
const CENTRE_SAMPLE: usize = 2;

/// What a viewer sees in one decoded picture.
#[derive(Debug)]
struct Picture {
    width: usize,
    height: usize,
    /// RGB near the four corners and at the centre.
    samples: Vec<[u8; 3]>,
}

impl Picture {
    fn of(yuv: &DecodedYUV<'_>) -> Self {
        let (width, height) = yuv.dimensions();
        let points = [
            (8, 8),
            (width - 9, 8),
            (width / 2, height / 2), // CENTRE_SAMPLE
            (8, height - 9),
            (width - 9, height - 9),
        ];
        Self {
            width,
            height,
            samples: points.iter().map(|&(x, y)| rgb_at(yuv, x, y)).collect(),
        }
    }

    /// Whether every sample is within [`TOLERANCE`] of `colour` in each channel.
    fn is(&self, colour: [u8; 3]) -> bool {
        self.samples.iter().all(|&s| close(s, colour))
    }

    /// Whether the samples near the corners (all but the centre) are `colour`.
    fn corners_are(&self, colour: [u8; 3]) -> bool {
        self.samples
            .iter()
            .enumerate()
            .all(|(i, &s)| i == CENTRE_SAMPLE || close(s, colour))
    }
}

fn close(seen: [u8; 3], want: [u8; 3]) -> bool {
    seen.iter()
        .zip(want)
        .all(|(a, b)| a.abs_diff(b) <= TOLERANCE)
}

/// The colour at one point, with the BT.601 limited-range matrix the encoder signals.
fn rgb_at(yuv: &DecodedYUV<'_>, x: usize, y: usize) -> [u8; 3] {
    let (y_stride, u_stride, v_stride) = yuv.strides();
    let luma = f64::from(yuv.y()[y * y_stride + x]) - 16.0;
    let cb = f64::from(yuv.u()[(y / 2) * u_stride + x / 2]) - 128.0;
    let cr = f64::from(yuv.v()[(y / 2) * v_stride + x / 2]) - 128.0;
    let channel = |value: f64| value.round().clamp(0.0, 255.0) as u8;
    [
        channel(1.164 * luma + 1.596 * cr),
        channel(1.164 * luma - 0.392 * cb - 0.813 * cr),
        channel(1.164 * luma + 2.017 * cb),
    ]
}

/// A viewer's decoder, fed the frames in the order they arrive.
struct Viewer {
    decoder: Decoder,
}

impl Viewer {
    fn new() -> Result<Self> {
        Ok(Self {
            decoder: Decoder::new()?,
        })
    }

    fn show(&mut self, frame: &EncodedFrame) -> Result<Picture> {
        let yuv = self
            .decoder
            .decode(&frame.data)?
            .context("the decoder produced no picture for a whole access unit")?;
        Ok(Picture::of(&yuv))
    }
}

/// Debian's python with tkinter (pyenv's python on PATH has none).
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// A 320x240 square in the middle of the screen that swaps between two colours every 5 ms,
/// over an unchanged background: a small change on every frame, as when a video plays on the
/// desktop. (Changing the whole screen instead would make the encoder start a new scene with a
/// keyframe of its own on every frame, and no frame would ever wait in the queue.)
const BLINKER: &str = r#"
import sys, tkinter as tk
root = tk.Tk()
root.title("blinker")
root.overrideredirect(True)
sw, sh = root.winfo_screenwidth(), root.winfo_screenheight()
root.geometry(f"320x240+{(sw - 320) // 2}+{(sh - 240) // 2}")
colours = sys.argv[1:]
def swap(n=0):
    root.configure(bg=colours[n % 2])
    root.after(5, swap, n + 1)
swap()
root.mainloop()
"#;

/// The blinking square. [`Blinker::finish`] ends its process, and the X server then removes
/// the square from the screen.
struct Blinker {
    process: std::process::Child,
}

impl Blinker {
    fn start(xvfb: &Xvfb, colours: [[u8; 3]; 2]) -> Result<Self> {
        let process = xvfb
            .command(SYSTEM_PYTHON)
            .args(["-c", BLINKER, &hex(colours[0]), &hex(colours[1])])
            .spawn()
            .context("cannot run python3 with tkinter: is python3-tk installed?")?;
        let blinker = Self { process };
        xvfb.run(
            "xdotool",
            &["search", "--sync", "--onlyvisible", "--name", "blinker"],
        )?;
        Ok(blinker)
    }

    fn finish(mut self) -> Result<()> {
        self.process.kill()?;
        self.process.wait()?;
        Ok(())
    }
}

impl Drop for Blinker {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Waits, without reading any frame, until the pipeline has dropped more than `count` frames.
async fn until_dropped_more_than(frames: &FrameReceiver, count: u64) -> Result<()> {
    let until = Instant::now() + WAIT;
    while frames.dropped() <= count {
        if Instant::now() > until {
            bail!(
                "only {} frames dropped within {WAIT:?} of a changing screen",
                frames.dropped()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[tokio::test]
async fn the_first_frame_is_a_keyframe_of_the_screen_size_showing_its_colour() -> Result<()> {
    let xvfb = display_showing(CRIMSON)?;
    let (_pipeline, mut frames) = start(&xvfb)?;

    let first = next_frame(&mut frames).await?;
    assert!(first.keyframe, "the first frame must be a keyframe");
    assert_eq!((first.width, first.height), (WIDTH, HEIGHT));
    assert_eq!(&first.data[..4], &[0, 0, 0, 1], "Annex-B start code");
    let types = nal_types(&first.data);
    for (nal, name) in [
        (NAL_SPS, "SPS"),
        (NAL_PPS, "PPS"),
        (NAL_IDR_SLICE, "IDR slice"),
    ] {
        assert!(types.contains(&nal), "no {name} in NAL types {types:?}");
    }

    let picture = Viewer::new()?.show(&first)?;
    assert_eq!((picture.width, picture.height), (1280, 720));
    assert!(picture.is(CRIMSON), "want {CRIMSON:?}, saw {picture:?}");
    Ok(())
}

#[tokio::test]
async fn each_colour_change_arrives_as_a_new_frame_showing_the_new_colour() -> Result<()> {
    let xvfb = display_showing(SLATE_BLUE)?;
    let (_pipeline, mut frames) = start(&xvfb)?;
    let mut viewer = Viewer::new()?;
    let first = viewer.show(&next_frame(&mut frames).await?)?;
    assert!(first.is(SLATE_BLUE), "first frame: {first:?}");

    for colour in [AMBER, TEAL, CRIMSON] {
        xvfb.fill(&hex(colour))?;
        let frame = next_frame(&mut frames).await?;
        let picture = viewer.show(&frame)?;
        assert!(
            picture.is(colour),
            "after painting {colour:?} the next frame showed {picture:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_static_screen_costs_only_a_tiny_refresh_a_second_after_its_first_frame() -> Result<()> {
    let xvfb = display_showing(AMBER)?;
    let (_pipeline, mut frames) = start(&xvfb)?;
    let mut viewer = Viewer::new()?;
    viewer.show(&next_frame(&mut frames).await?)?;

    let later = frames_within(&mut frames, STILL).await?;
    assert_still(&later, &mut viewer, AMBER)?;
    assert_eq!(frames.dropped(), 0);
    Ok(())
}

#[tokio::test]
async fn a_keyframe_request_on_a_static_screen_yields_an_idr_a_new_viewer_can_start_from(
) -> Result<()> {
    let xvfb = display_showing(TEAL)?;
    let (pipeline, mut frames) = start(&xvfb)?;
    let mut viewer = Viewer::new()?;
    viewer.show(&next_frame(&mut frames).await?)?;
    assert_still(&frames_within(&mut frames, STILL).await?, &mut viewer, TEAL)?;

    pipeline.request_keyframe();
    let frame = next_frame(&mut frames).await?;
    assert!(frame.keyframe, "a requested frame must be a keyframe");
    let types = nal_types(&frame.data);
    for (nal, name) in [
        (NAL_SPS, "SPS"),
        (NAL_PPS, "PPS"),
        (NAL_IDR_SLICE, "IDR slice"),
    ] {
        assert!(types.contains(&nal), "no {name} in NAL types {types:?}");
    }
    // Someone who joins now has nothing but this frame.
    let picture = Viewer::new()?.show(&frame)?;
    assert!(picture.is(TEAL), "want {TEAL:?}, saw {picture:?}");

    // One keyframe answers the request; the screen is still static.
    let mut viewer = Viewer::new()?;
    viewer.show(&frame)?;
    assert_still(&frames_within(&mut frames, STILL).await?, &mut viewer, TEAL)?;
    Ok(())
}

#[test]
fn a_display_that_does_not_exist_fails_at_start_naming_it() {
    let Err(error) = Pipeline::start(MediaConfig {
        display: Some(":987".into()),
        ..MediaConfig::default()
    }) else {
        panic!("started on a display that does not exist");
    };
    let MediaError::OpenDisplay { display, .. } = &error else {
        panic!("want OpenDisplay, got {error:?}");
    };
    assert_eq!(display, ":987");
    assert!(
        error.to_string().contains(":987"),
        "the message should name the display: {error}"
    );
}

#[tokio::test]
async fn a_zero_frame_rate_or_bitrate_is_a_settings_error() -> Result<()> {
    // A working display, so that the settings are the only thing wrong.
    let xvfb = display_showing(AMBER)?;
    let good = MediaConfig {
        display: Some(xvfb.display().to_owned()),
        ..MediaConfig::default()
    };
    let zero_fps = MediaConfig {
        max_fps: 0,
        ..good.clone()
    };
    let zero_bitrate = MediaConfig {
        bitrate_bps: 0,
        ..good.clone()
    };
    for (config, mentions) in [(zero_fps, "frame rate"), (zero_bitrate, "bitrate")] {
        let Err(error) = Pipeline::start(config) else {
            panic!("started with a {mentions} of zero");
        };
        assert!(
            matches!(error, MediaError::Config(_)),
            "want a Config error about the {mentions}, got {error:?}"
        );
        assert!(
            error.to_string().contains(mentions),
            "the message should mention the {mentions}: {error}"
        );
    }
    // The same display with good settings works, so the errors were about the settings.
    let (_pipeline, mut frames) = Pipeline::start(good)?;
    assert!(next_frame(&mut frames).await?.keyframe);
    Ok(())
}

#[tokio::test]
async fn a_consumer_that_stops_reading_loses_old_frames_and_the_queue_stays_bounded() -> Result<()>
{
    let xvfb = display_showing(AMBER)?;
    let (pipeline, mut frames) = start(&xvfb)?;
    let blinker = Blinker::start(&xvfb, [SLATE_BLUE, CRIMSON])?;

    until_dropped_more_than(&frames, 10).await?;
    blinker.finish()?;
    let dropped = frames.dropped();

    // Whatever is still queued is all a consumer would get after its stall.
    pipeline.stop();
    let mut queued = 0;
    while timeout(WAIT, frames.recv())
        .await
        .context("the queue did not end after stop")?
        .is_some()
    {
        queued += 1;
    }
    assert!(
        (1..=QUEUE_CAPACITY).contains(&queued),
        "{queued} frames were queued after {dropped} drops"
    );
    Ok(())
}

#[tokio::test]
async fn after_a_stall_the_viewer_resumes_at_a_keyframe_and_reaches_the_current_screen(
) -> Result<()> {
    let xvfb = display_showing(TEAL)?;
    let (_pipeline, mut frames) = start(&xvfb)?;
    let blinker = Blinker::start(&xvfb, [SLATE_BLUE, CRIMSON])?;
    until_dropped_more_than(&frames, 0).await?;
    blinker.finish()?;

    // Frames queued before the stall's keyframe refer to pictures the viewer never got.
    let mut stale = 0;
    let keyframe = loop {
        let frame = next_frame(&mut frames).await?;
        if frame.keyframe {
            break frame;
        }
        stale += 1;
    };
    assert!(
        stale <= QUEUE_CAPACITY,
        "{stale} undecodable frames before the keyframe"
    );

    // From the keyframe on, every picture is whole: the background where it always was, and
    // in the end the screen as it is now, without the square.
    let mut viewer = Viewer::new()?;
    let mut picture = viewer.show(&keyframe)?;
    let until = Instant::now() + WAIT;
    while !picture.is(TEAL) {
        assert!(
            picture.corners_are(TEAL),
            "the background is wrong after the keyframe: {picture:?}"
        );
        let frame = timeout_at(until, frames.recv())
            .await
            .context("the screen without the square never arrived")?
            .context("the pipeline stopped")?;
        picture = viewer.show(&frame)?;
    }
    Ok(())
}
