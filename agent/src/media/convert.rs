//! BGRA screen images to I420, the planar 4:2:0 layout the H.264 encoder reads.
//!
//! Uses `yuvutils-rs`' SIMD converter: OpenH264's own conversion takes about 7 ms for one 720p
//! frame here, a large share of a 33 ms frame budget. The matrix is BT.601 with limited range,
//! which the encoder also signals in the stream's VUI, so every decoder renders the same colours.

use openh264::formats::YUVSource;
use yuvutils_rs::{
    BufferStoreMut, YuvConversionMode, YuvPlanarImageMut, YuvRange, YuvStandardMatrix,
};

use super::capture::BgraImage;
use super::MediaError;

/// An I420 picture with tight planes: Y at full resolution, U and V at half in each direction.
#[derive(Debug, Clone, Default)]
pub(crate) struct I420Image {
    width: u32,
    height: u32,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

impl I420Image {
    /// Converts `bgra` into this picture, resizing the planes if its dimensions changed.
    pub fn convert_from(&mut self, bgra: &BgraImage) -> Result<(), MediaError> {
        let (width, height) = (bgra.width, bgra.height);
        let chroma_width = width.div_ceil(2);
        let chroma_len = chroma_width as usize * height.div_ceil(2) as usize;
        self.width = width;
        self.height = height;
        self.y.resize(width as usize * height as usize, 0);
        self.u.resize(chroma_len, 0);
        self.v.resize(chroma_len, 0);

        let mut planar = YuvPlanarImageMut {
            y_plane: BufferStoreMut::Borrowed(&mut self.y),
            y_stride: width,
            u_plane: BufferStoreMut::Borrowed(&mut self.u),
            u_stride: chroma_width,
            v_plane: BufferStoreMut::Borrowed(&mut self.v),
            v_stride: chroma_width,
            width,
            height,
        };
        yuvutils_rs::bgra_to_yuv420(
            &mut planar,
            &bgra.data,
            width * 4,
            YuvRange::Limited,
            YuvStandardMatrix::Bt601,
            YuvConversionMode::Balanced,
        )
        .map_err(|e| MediaError::Convert(e.to_string()))
    }
}

/// Halves `src` in each direction into `dst` (reallocated to fit), each pixel the mean of a 2×2
/// block; the halved width and height are rounded down to even numbers, as 4:2:0 needs.
pub(crate) fn halve(src: &BgraImage, dst: &mut BgraImage) {
    let width = (src.width / 2) & !1;
    let height = (src.height / 2) & !1;
    let src_row = src.width as usize * 4;
    let dst_row = width as usize * 4;
    dst.width = width;
    dst.height = height;
    dst.data.resize(dst_row * height as usize, 0);
    for (y, out) in dst.data.chunks_exact_mut(dst_row.max(1)).enumerate() {
        let top = &src.data[2 * y * src_row..][..src_row];
        let bottom = &src.data[(2 * y + 1) * src_row..][..src_row];
        for (x, pixel) in out.chunks_exact_mut(4).enumerate() {
            for (channel, value) in pixel.iter_mut().enumerate() {
                let at = 8 * x + channel;
                let sum = u16::from(top[at])
                    + u16::from(top[at + 4])
                    + u16::from(bottom[at])
                    + u16::from(bottom[at + 4]);
                *value = ((sum + 2) / 4) as u8;
            }
        }
    }
}

impl YUVSource for I420Image {
    fn dimensions(&self) -> (usize, usize) {
        (self.width as usize, self.height as usize)
    }

    fn strides(&self) -> (usize, usize, usize) {
        let chroma = self.width.div_ceil(2) as usize;
        (self.width as usize, chroma, chroma)
    }

    fn y(&self) -> &[u8] {
        &self.y
    }

    fn u(&self) -> &[u8] {
        &self.u
    }

    fn v(&self) -> &[u8] {
        &self.v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(width: u32, height: u32, [r, g, b]: [u8; 3]) -> BgraImage {
        BgraImage {
            width,
            height,
            data: [b, g, r, 0].repeat((width * height) as usize),
        }
    }

    #[test]
    fn halving_averages_each_block_and_keeps_even_sizes() {
        // Columns alternate black and white: every 2×2 block is half grey.
        let mut src = solid(12, 6, [0, 0, 0]);
        for pixel in src.data.chunks_exact_mut(8) {
            pixel[4..].copy_from_slice(&[255, 255, 255, 255]);
        }
        let mut half = BgraImage::default();
        halve(&src, &mut half);
        assert_eq!(
            (half.width, half.height),
            (6, 2),
            "6×3 rounded down to even"
        );
        assert_eq!(half.data.len(), 6 * 2 * 4);
        assert!(half.data.chunks_exact(4).all(|p| p[..3] == [128, 128, 128]));
        halve(&solid(1280, 720, [10, 20, 30]), &mut half);
        assert_eq!((half.width, half.height), (640, 360));
        assert!(half.data.chunks_exact(4).all(|p| p[..3] == [30, 20, 10]));
    }

    /// BT.601 limited range: the reference values of the standard's primaries.
    #[test]
    fn primaries_land_on_their_bt601_values() {
        for (rgb, expected) in [
            ([255, 0, 0], [81, 90, 240]),
            ([0, 255, 0], [145, 54, 34]),
            ([0, 0, 255], [41, 240, 110]),
            ([255, 255, 255], [235, 128, 128]),
            ([0, 0, 0], [16, 128, 128]),
        ] {
            let mut i420 = I420Image::default();
            i420.convert_from(&solid(8, 4, rgb)).expect("convert");
            let got = [i420.y()[0], i420.u()[0], i420.v()[0]];
            for (g, e) in got.iter().zip(expected) {
                assert!(
                    g.abs_diff(e) <= 2,
                    "{rgb:?} became {got:?}, want {expected:?}"
                );
            }
        }
    }

    #[test]
    fn planes_follow_the_image_size() {
        let mut i420 = I420Image::default();
        i420.convert_from(&solid(16, 8, [1, 2, 3]))
            .expect("convert");
        assert_eq!(i420.dimensions(), (16, 8));
        assert_eq!(
            (i420.y().len(), i420.u().len(), i420.v().len()),
            (128, 32, 32)
        );

        i420.convert_from(&solid(4, 2, [1, 2, 3])).expect("convert");
        assert_eq!(i420.dimensions(), (4, 2));
        assert_eq!((i420.y().len(), i420.u().len(), i420.v().len()), (8, 2, 2));
        assert_eq!(i420.strides(), (4, 2, 2));
    }

    #[test]
    fn a_short_source_buffer_is_an_error_not_a_panic() {
        let mut image = solid(8, 4, [1, 2, 3]);
        image.data.truncate(10);
        let mut i420 = I420Image::default();
        assert!(matches!(
            i420.convert_from(&image),
            Err(MediaError::Convert(_))
        ));
    }
}
