//! What an X display shows, read back as pixels (the root window's image, with every window
//! on it), and where on it a colour is: to find a button by its fill and click it as a person
//! would, with `xdotool`.

use anyhow::{bail, Context, Result};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, ImageFormat};

/// One picture of the whole screen, 8-bit RGB per pixel, row by row.
pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    rgb: Vec<[u8; 3]>,
}

impl Screenshot {
    /// Takes a picture of `display` (such as `:7`), which must have a 24-bit root window.
    pub fn take(display: &str) -> Result<Self> {
        let (conn, screen) =
            x11rb::connect(Some(display)).with_context(|| format!("connecting to {display}"))?;
        let root = &conn.setup().roots[screen];
        let (width, height) = (root.width_in_pixels, root.height_in_pixels);
        let image = conn
            .get_image(
                ImageFormat::Z_PIXMAP,
                root.root,
                0,
                0,
                width,
                height,
                u32::MAX,
            )?
            .reply()
            .context("reading the screen")?;
        let pixels = usize::from(width) * usize::from(height);
        if image.depth != 24 || image.data.len() != pixels * 4 {
            bail!(
                "unexpected screen image: depth {}, {} bytes for {width}x{height}",
                image.depth,
                image.data.len()
            );
        }
        // 32 bits per pixel, little-endian BGRX.
        let rgb = image
            .data
            .chunks_exact(4)
            .map(|p| [p[2], p[1], p[0]])
            .collect();
        Ok(Self {
            width: u32::from(width),
            height: u32::from(height),
            rgb,
        })
    }

    /// The colour at (`x`, `y`).
    pub fn at(&self, x: u32, y: u32) -> [u8; 3] {
        self.rgb[(y * self.width + x) as usize]
    }

    /// The middle of the area filled with `colour` (within 8 per channel), when at least
    /// `min_pixels` pixels have it: the bounding box of every such pixel, so it suits one
    /// filled button, not two of the same colour.
    pub fn find(&self, colour: [u8; 3], min_pixels: usize) -> Option<(u32, u32)> {
        let near = |p: [u8; 3]| (0..3).all(|i| p[i].abs_diff(colour[i]) <= 8);
        let (mut count, mut x0, mut y0, mut x1, mut y1) = (0, u32::MAX, u32::MAX, 0, 0);
        for (i, pixel) in self.rgb.iter().enumerate() {
            if near(*pixel) {
                let (x, y) = (i as u32 % self.width, i as u32 / self.width);
                count += 1;
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
        }
        (count >= min_pixels).then(|| ((x0 + x1) / 2, (y0 + y1) / 2))
    }

    /// Saves the picture as a binary PPM, to look at after a failure.
    pub fn save_ppm(&self, path: &std::path::Path) -> Result<()> {
        let mut data = format!("P6\n{} {}\n255\n", self.width, self.height).into_bytes();
        data.extend(self.rgb.iter().flatten());
        std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
    }
}
