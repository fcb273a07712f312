//! A bureau's own seal artwork (`--seal-image`), instead of the drawn seal: a PNG with
//! transparency, placed as an image XObject with a soft mask (ISO 32000-2 §8.9.5, §11.6.5.3).

use std::io::Cursor;

use crate::pdf::{Dictionary, IncrementalUpdate, Object, ObjectId, deflate};

/// Largest PNG file accepted.
pub const MAX_PNG_BYTES: usize = 4 << 20;
/// Largest side in pixels: 2,000 px across a 45 mm seal is over 1,100 dpi.
pub const MAX_SIDE: u32 = 2_000;

/// A decoded seal picture: 8-bit RGB samples and, when it has transparency, an 8-bit alpha plane.
#[derive(Clone, PartialEq, Eq)]
pub struct SealImage {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    alpha: Option<Vec<u8>>,
}

impl std::fmt::Debug for SealImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealImage({}×{} px)", self.width, self.height)
    }
}

/// Why a seal picture was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealImageError {
    #[error("the seal image is {0} bytes, over the limit of {MAX_PNG_BYTES}")]
    TooLarge(usize),
    #[error("the seal image is not a readable PNG: {0}")]
    Unreadable(String),
    #[error("the seal image is {0}×{1} px; it must be 16–{MAX_SIDE} px on each side")]
    BadSize(u32, u32),
}

impl SealImage {
    /// Decodes a PNG (any colour type and depth; palettes and 16-bit samples are normalised).
    pub fn from_png(bytes: &[u8]) -> Result<SealImage, SealImageError> {
        if bytes.len() > MAX_PNG_BYTES {
            return Err(SealImageError::TooLarge(bytes.len()));
        }
        let unreadable = |e: png::DecodingError| SealImageError::Unreadable(e.to_string());
        let limit = (MAX_SIDE as usize).pow(2) * 8;
        let mut decoder =
            png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: limit });
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let header = decoder.read_header_info().map_err(unreadable)?;
        let (width, height) = (header.width, header.height);
        if !(16..=MAX_SIDE).contains(&width) || !(16..=MAX_SIDE).contains(&height) {
            return Err(SealImageError::BadSize(width, height));
        }
        let mut reader = decoder.read_info().map_err(unreadable)?;
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| SealImageError::Unreadable("the image is too large".into()))?;
        let mut buffer = vec![0; size];
        let frame = reader.next_frame(&mut buffer).map_err(unreadable)?;
        let samples = buffer.get(..frame.buffer_size()).unwrap_or_default();
        let (rgb, alpha) = split_channels(samples, frame.color_type);
        Ok(SealImage {
            width,
            height,
            rgb,
            alpha,
        })
    }

    /// Writes the image (and its soft mask) into `update`, returning the image XObject's id.
    pub fn write(&self, update: &mut IncrementalUpdate) -> ObjectId {
        let image = update.allocate();
        let mut dictionary = self.image_dictionary(b"DeviceRGB");
        if let Some(alpha) = &self.alpha {
            let mask = update.allocate();
            let mut mask_dictionary = self.image_dictionary(b"DeviceGray");
            let data = deflate(&mut mask_dictionary, alpha.clone());
            update.set_stream(mask, mask_dictionary, data);
            dictionary.set(b"SMask", mask);
        }
        let data = deflate(&mut dictionary, self.rgb.clone());
        update.set_stream(image, dictionary, data);
        image
    }

    /// Content for a Form XObject `width` × `height`: the picture centred, as large as fits
    /// with its aspect ratio kept, drawn as resource `/name`.
    pub fn draw(&self, width: f64, height: f64, name: &[u8]) -> Vec<u8> {
        let scale = (width / f64::from(self.width)).min(height / f64::from(self.height));
        let (w, h) = (
            f64::from(self.width) * scale,
            f64::from(self.height) * scale,
        );
        let number = |v: f64| crate::pdf::Real::from_f64(v).as_str().to_string();
        let mut content = format!(
            "q {} 0 0 {} {} {} cm /",
            number(w),
            number(h),
            number((width - w) / 2.0),
            number((height - h) / 2.0)
        )
        .into_bytes();
        content.extend_from_slice(name);
        content.extend_from_slice(b" Do Q\n");
        content
    }

    fn image_dictionary(&self, colour_space: &[u8]) -> Dictionary {
        let mut dictionary = Dictionary::new();
        dictionary.set(b"Type", Object::name(b"XObject"));
        dictionary.set(b"Subtype", Object::name(b"Image"));
        dictionary.set(b"Width", i64::from(self.width));
        dictionary.set(b"Height", i64::from(self.height));
        dictionary.set(b"ColorSpace", Object::name(colour_space));
        dictionary.set(b"BitsPerComponent", 8);
        dictionary
    }
}

/// 8-bit samples of any normalised colour type as RGB and an alpha plane (none if opaque).
fn split_channels(samples: &[u8], colour: png::ColorType) -> (Vec<u8>, Option<Vec<u8>>) {
    let (channels, has_alpha) = match colour {
        png::ColorType::Grayscale => (1, false),
        png::ColorType::GrayscaleAlpha => (2, true),
        png::ColorType::Rgb | png::ColorType::Indexed => (3, false),
        png::ColorType::Rgba => (4, true),
    };
    let mut rgb = Vec::with_capacity(samples.len() / channels * 3);
    let mut alpha = Vec::with_capacity(if has_alpha {
        samples.len() / channels
    } else {
        0
    });
    for pixel in samples.chunks_exact(channels) {
        match pixel {
            [g] => rgb.extend_from_slice(&[*g, *g, *g]),
            [g, a] => {
                rgb.extend_from_slice(&[*g, *g, *g]);
                alpha.push(*a);
            }
            [r, g, b] => rgb.extend_from_slice(&[*r, *g, *b]),
            [r, g, b, a] => {
                rgb.extend_from_slice(&[*r, *g, *b]);
                alpha.push(*a);
            }
            _ => {}
        }
    }
    let opaque = alpha.iter().all(|a| *a == 255);
    (rgb, (has_alpha && !opaque).then_some(alpha))
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, colour: png::ColorType, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(colour);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(data).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn an_rgba_seal_keeps_its_transparency() {
        let mut data = Vec::new();
        for i in 0..32 * 32 {
            data.extend_from_slice(&[200, 20, 20, if i % 2 == 0 { 0 } else { 255 }]);
        }
        let image = SealImage::from_png(&png(32, 32, png::ColorType::Rgba, &data)).unwrap();
        assert_eq!(image.rgb.len(), 32 * 32 * 3);
        assert_eq!(image.alpha.as_ref().map(Vec::len), Some(32 * 32));
        let drawn = String::from_utf8(image.draw(120.0, 60.0, b"Seal")).unwrap();
        assert_eq!(drawn, "q 60 0 0 60 30 0 cm /Seal Do Q\n");
    }

    #[test]
    fn an_opaque_grey_picture_needs_no_mask() {
        let image =
            SealImage::from_png(&png(16, 16, png::ColorType::Grayscale, &[9; 256])).unwrap();
        assert_eq!(image.alpha, None);
        assert_eq!(&image.rgb[..3], &[9, 9, 9]);
    }

    #[test]
    fn bad_pictures_are_refused() {
        assert!(matches!(
            SealImage::from_png(b"not a png"),
            Err(SealImageError::Unreadable(_))
        ));
        let tiny = png(8, 8, png::ColorType::Grayscale, &[0; 64]);
        assert_eq!(
            SealImage::from_png(&tiny),
            Err(SealImageError::BadSize(8, 8))
        );
        let big = vec![0; MAX_PNG_BYTES + 1];
        assert_eq!(
            SealImage::from_png(&big),
            Err(SealImageError::TooLarge(big.len()))
        );
    }
}
