//! The novice's pointer is always visible to the expert, with its real shape: the console draws
//! it over the video from the agent's small pointer messages, at the place the novice's pointer
//! is on their screen, whether or not the expert controls. Over a text field it is the text
//! beam. Moving it over a still screen costs no keyframe. While the expert controls, the
//! novice's pointer is drawn faded and ringed, told apart from the expert's own.

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use std::time::{Duration, Instant};
use tests::browser::Page;
use tests::console::{join_live, page_point_on, start_agent, wait_dataset, WAIT};
use tests::stack::{AgentProcess, ServerProcess};
use tests::tk::TkProgram;
use tests::xvfb::Xvfb;

const SCREEN: (u32, u32) = (1280, 720);
/// The centre of desk.py's text field.
const TEXT_FIELD: (u32, u32) = (640, 660);

/// The pointer as the console draws it.
#[derive(Debug)]
struct Drawn {
    /// The canvas's box in the page.
    left: f64,
    top: f64,
    width: f64,
    /// The image's size and hotspot, in its own pixels.
    cw: f64,
    hx: f64,
    hy: f64,
    /// The opaque pixels' bounding box in the image: width and height.
    opaque: (u32, u32),
    shape: String,
    opacity: f64,
    filter: String,
}

impl Drawn {
    fn read(v: &Value) -> Option<Drawn> {
        let n = |key: &str| v[key].as_f64();
        let side = |i: usize| v["opaque"][i].as_u64().and_then(|n| u32::try_from(n).ok());
        Some(Drawn {
            left: n("left")?,
            top: n("top")?,
            width: n("width")?,
            cw: n("cw")?,
            hx: n("hx")?,
            hy: n("hy")?,
            opaque: (side(0)?, side(1)?),
            shape: v["shape"].as_str()?.to_owned(),
            opacity: n("opacity")?,
            filter: v["filter"].as_str()?.to_owned(),
        })
    }

    /// Where the hotspot pixel's centre is in the page.
    fn hotspot(&self) -> (f64, f64) {
        let scale = self.width / self.cw;
        (
            self.left + (self.hx + 0.5) * scale,
            self.top + (self.hy + 0.5) * scale,
        )
    }

    /// A text beam: a narrow, tall shape (the Entry's `xterm` cursor), unlike the arrow or the
    /// X of the desktop around it.
    fn is_text_beam(&self) -> bool {
        let (w, h) = self.opaque;
        w > 0 && w <= 10 && h >= 12 && h >= 2 * w
    }
}

/// Reads the pointer's canvas once `document.body.dataset.pointer` says `(x, y)`.
async fn drawn_at(page: &Page, (x, y): (u32, u32)) -> Result<Drawn> {
    let js = format!(
        "(() => {{ const c = document.getElementById('pointer'); \
         if (c.hidden || document.body.dataset.pointer !== '{x},{y}') return null; \
         const r = c.getBoundingClientRect(); const [hx, hy] = c.dataset.hot.split(',').map(Number); \
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
         let x0 = c.width, y0 = c.height, x1 = -1, y1 = -1; \
         for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) \
           if (d[(y * c.width + x) * 4 + 3] > 0) {{ x0 = Math.min(x0, x); y0 = Math.min(y0, y); \
             x1 = Math.max(x1, x); y1 = Math.max(y1, y); }} \
         const style = getComputedStyle(c); \
         return {{ left: r.left, top: r.top, width: r.width, cw: c.width, hx, hy, \
           opaque: [Math.max(0, x1 - x0 + 1), Math.max(0, y1 - y0 + 1)], \
           shape: document.body.dataset.pointerShape, opacity: Number(style.opacity), \
           filter: style.filter }}; }})()"
    );
    let value = page
        .wait_for(&js, WAIT, &format!("the novice's pointer drawn at {x},{y}"))
        .await
        .with_context(|| format!("console: {:?}", page.console()))?;
    Drawn::read(&value).with_context(|| format!("the pointer as drawn: {value}"))
}

/// Moves the novice's pointer to `(x, y)` and waits until the console draws it there: its
/// hotspot on the page point of that screen pixel (of a `screen`-sized screen; `None`, the
/// video's size). Returns how it is drawn.
async fn move_and_read(
    xvfb: &Xvfb,
    page: &Page,
    screen: Option<(u32, u32)>,
    (x, y): (u32, u32),
) -> Result<Drawn> {
    xvfb.run("xdotool", &["mousemove", &x.to_string(), &y.to_string()])?;
    let deadline = Instant::now() + WAIT;
    loop {
        let drawn = drawn_at(page, (x, y)).await?;
        let (px, py) = page_point_on(page, screen, x, y).await?;
        let (hx, hy) = drawn.hotspot();
        // Within a screen pixel, whatever the scale; the screen's size (which the agent says
        // with the first frames) may still be on its way.
        if (hx - px).abs() <= 1.0 && (hy - py).abs() <= 1.0 {
            return Ok(drawn);
        }
        ensure!(
            Instant::now() < deadline,
            "the pointer at {x},{y} is drawn with its hotspot at {hx},{hy}, not at {px},{py}: {drawn:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The console's count of keyframes and of frames decoded, at its next quality reading.
async fn decoded_after_next_reading(page: &Page) -> Result<(u64, u64)> {
    let readings = page
        .eval("Number(document.getElementById('quality').dataset.readings ?? 0)")
        .await?
        .as_u64()
        .unwrap_or(0);
    let value = page
        .wait_for(
            &format!(
                "(() => {{ const q = document.getElementById('quality').dataset; \
                 return Number(q.readings) > {readings} && \
                 [Number(q.keyFramesDecoded), Number(q.framesDecoded)]; }})()"
            ),
            WAIT,
            "the next quality reading",
        )
        .await?;
    let n = |i: usize| value[i].as_u64().unwrap_or(0);
    Ok((n(0), n(1)))
}

struct Desk {
    desk: TkProgram,
    agent: AgentProcess,
    server: ServerProcess,
    xvfb: Xvfb,
}

async fn desk(extra: &[&str]) -> Result<Desk> {
    let xvfb = Xvfb::start(SCREEN.0, SCREEN.1)?;
    let desk = TkProgram::start(&xvfb, "desk.py").await?;
    let server = ServerProcess::start().await?;
    let agent = start_agent(&server, &xvfb, extra).await?;
    Ok(Desk {
        desk,
        agent,
        server,
        xvfb,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pointer_is_drawn_where_it_is_with_its_shape_and_costs_no_keyframe() -> Result<()> {
    let mut s = desk(&[]).await?;
    let (_browser, page) = join_live(&mut s.agent, "Eve", SCREEN.0).await?;

    // On the desktop, then over the text field: the text beam, at the same place.
    let on_desktop = move_and_read(&s.xvfb, &page, None, (300, 200)).await?;
    ensure!(
        !on_desktop.is_text_beam(),
        "the desktop's pointer is no text beam: {on_desktop:?}"
    );
    ensure!(
        on_desktop.opacity == 1.0,
        "without control the novice's pointer is drawn plainly: {on_desktop:?}"
    );
    let over_text = move_and_read(&s.xvfb, &page, None, TEXT_FIELD).await?;
    ensure!(
        over_text.shape != on_desktop.shape && over_text.is_text_beam(),
        "over the text field the pointer is a text beam: {over_text:?}"
    );

    // A still screen and a moving pointer: pointer messages, no keyframe, no stream of frames.
    decoded_after_next_reading(&page).await?;
    let (keyframes, frames) = decoded_after_next_reading(&page).await?;
    let started = Instant::now();
    for step in 0..80u32 {
        let (x, y) = (200 + step * 10, 100 + step * 2);
        s.xvfb
            .run("xdotool", &["mousemove", &x.to_string(), &y.to_string()])?;
    }
    drawn_at(&page, (990, 258)).await?;
    let (keyframes_after, frames_after) = decoded_after_next_reading(&page).await?;
    ensure!(
        keyframes_after == keyframes,
        "moving the pointer sent {} keyframes",
        keyframes_after - keyframes
    );
    // The agent repeats a still screen once a second; the pointer adds nothing to that.
    let seconds = started.elapsed().as_secs() + 2;
    ensure!(
        frames_after - frames <= 2 * seconds,
        "moving the pointer over a still screen made {} frames in {seconds} s",
        frames_after - frames
    );

    // The expert takes control: the novice's pointer is still drawn, told apart.
    page.click("#control").await?;
    s.agent
        .expect_line("wants to control your computer", WAIT)
        .await?;
    wait_dataset(&page, "control", "pending").await?;
    s.agent.type_line("y").await?;
    wait_dataset(&page, "control", "granted").await?;
    let controlled = move_and_read(&s.xvfb, &page, None, (500, 300)).await?;
    ensure!(
        controlled.opacity < 1.0 && controlled.filter.contains("drop-shadow"),
        "while the expert controls, the novice's pointer is faded and ringed: {controlled:?}"
    );
    s.desk
        .expect_nothing("the pointer's moves are no clicks")
        .await?;
    s.server.stop().await;
    Ok(())
}

/// On a slow link the picture is half the screen's size; the pointer is still drawn at the
/// screen pixel it is on, not at the pixel of the same number in the smaller picture.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pointer_is_placed_right_on_a_halved_picture() -> Result<()> {
    let mut s = desk(&["--bitrate", "200000"]).await?;
    let (_browser, page) = join_live(&mut s.agent, "Eve", SCREEN.0 / 2).await?;
    for at in [(321, 181), (1001, 501), TEXT_FIELD] {
        move_and_read(&s.xvfb, &page, Some(SCREEN), at).await?;
    }
    s.server.stop().await;
    Ok(())
}
