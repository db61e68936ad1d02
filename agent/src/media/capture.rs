//! Grabs the screen of one X display into a tight BGRA buffer.
//!
//! Pixels come from `scrap` over MIT-SHM. A second, pure-Rust connection (`x11rb`) checks the
//! server before and between grabs: `scrap` reports neither a missing extension, a resized
//! screen nor a dead server, and dereferences a null reply in the first case, so those checks
//! keep a broken display from turning into a crash or an endless stream of stale pixels.

use std::ffi::CString;
use std::rc::Rc;

use scrap::x11 as shm;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, Window};
use x11rb::rust_connection::RustConnection;

use super::MediaError;

/// A screen image, 4 bytes per pixel in B, G, R, X order, rows back to back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BgraImage {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// An open capture of the primary monitor of one X display.
pub(crate) struct ScreenCapture {
    display: String,
    probe: RustConnection,
    root: Window,
    root_size: (u16, u16),
    server: Rc<shm::Server>,
    capturer: shm::Capturer,
}

impl ScreenCapture {
    /// Opens `display` (such as `:0`), or the one named by `$DISPLAY` when `None`.
    pub fn open(display: Option<&str>) -> Result<Self, MediaError> {
        let display = match display {
            Some(name) => name.to_owned(),
            None => std::env::var("DISPLAY").map_err(|_| MediaError::OpenDisplay {
                display: "(none)".into(),
                reason: "DISPLAY is not set".into(),
            })?,
        };
        let open_error = |reason: String| MediaError::OpenDisplay {
            display: display.clone(),
            reason,
        };

        let (probe, screen) =
            x11rb::connect(Some(&display)).map_err(|e| open_error(e.to_string()))?;
        let root = probe
            .setup()
            .roots
            .get(screen)
            .map(|s| s.root)
            .ok_or_else(|| MediaError::NoScreen {
                display: display.clone(),
            })?;
        for (extension, missing) in [
            (&b"MIT-SHM"[..], "the MIT-SHM extension is missing"),
            (&b"RANDR"[..], "the RANDR extension is missing"),
        ] {
            let present = probe
                .query_extension(extension)
                .map_err(|e| open_error(e.to_string()))?
                .reply()
                .map_err(|e| open_error(e.to_string()))?
                .present;
            if !present {
                return Err(open_error(missing.into()));
            }
        }

        // scrap only connects to `$DISPLAY`, unless given the name as a C string.
        let c_name = CString::new(display.as_str())
            .map_err(|_| open_error("the display name contains a NUL byte".into()))?;
        let server = shm::Server::connect(c_name.as_ptr().cast())
            .map_err(|e| open_error(format!("{e:?}")))?;
        let server = Rc::new(server);
        let capturer = open_capturer(&display, &server)?;
        let mut capture = Self {
            display,
            probe,
            root,
            root_size: (0, 0),
            server,
            capturer,
        };
        capture.root_size = capture.probe_root_size()?;
        Ok(capture)
    }

    /// The display name this capture reads from, for messages.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Grabs the screen as it is now into `image`, reallocating it if the screen size changed.
    ///
    /// H.264 with 4:2:0 chroma needs even dimensions, so an odd last column or row is left out.
    pub fn grab(&mut self, image: &mut BgraImage) -> Result<(), MediaError> {
        let root_size = self.probe_root_size()?;
        if root_size != self.root_size {
            tracing::info!(display = %self.display, ?root_size, "screen size changed");
            // The old shared-memory segment has the old size: start over with a new one.
            self.capturer = open_capturer(&self.display, &self.server)?;
            self.root_size = root_size;
        }

        let rect = self.capturer.display().rect();
        // scrap keeps one request in flight and hands back the image it asked for on the
        // previous call, which is a whole frame interval old by now; the second call waits for
        // a request made now, so the frame shows the screen as it is.
        self.capturer.frame();
        let pixels = self.capturer.frame();

        let (width, height) = (usize::from(rect.w), usize::from(rect.h));
        let (out_width, out_height) = (width & !1, height & !1);
        if width == 0 || height == 0 || pixels.len() < width * height * 4 {
            return Err(MediaError::NoScreen {
                display: self.display.clone(),
            });
        }
        let stride = pixels.len() / height;
        let row_bytes = out_width * 4;
        image.width = out_width as u32;
        image.height = out_height as u32;
        image.data.resize(row_bytes * out_height, 0);
        for (dst, src) in image
            .data
            .chunks_exact_mut(row_bytes)
            .zip(pixels.chunks_exact(stride))
        {
            dst.copy_from_slice(&src[..row_bytes]);
        }
        Ok(())
    }

    /// Asks the server for the root window's size: a round trip that also fails once the
    /// server is gone.
    fn probe_root_size(&self) -> Result<(u16, u16), MediaError> {
        let lost = |reason: String| MediaError::DisplayLost {
            display: self.display.clone(),
            reason,
        };
        let geometry = self
            .probe
            .get_geometry(self.root)
            .map_err(|e| lost(e.to_string()))?
            .reply()
            .map_err(|e| lost(e.to_string()))?;
        Ok((geometry.width, geometry.height))
    }
}

/// Opens a shared-memory capturer on the primary monitor, or the first one if none is primary.
fn open_capturer(display: &str, server: &Rc<shm::Server>) -> Result<shm::Capturer, MediaError> {
    let mut monitors: Vec<shm::Display> = shm::Server::displays(Rc::clone(server)).collect();
    let index = monitors
        .iter()
        .position(shm::Display::is_default)
        .unwrap_or(0);
    if index >= monitors.len() {
        return Err(MediaError::NoScreen {
            display: display.to_owned(),
        });
    }
    let monitor = monitors.swap_remove(index);
    shm::Capturer::new(monitor).map_err(|source| MediaError::Capture {
        display: display.to_owned(),
        source,
    })
}
