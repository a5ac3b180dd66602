//! [`FaceImage`]: an 8-bit RGB picture, decoded from PNG or JPEG or given as raw pixels.

use std::io::Cursor;

use image::{ImageEncoder, RgbImage};

use crate::FaceError;

/// Encodings a [`FaceImage`] is read from and written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageFormat {
    Png,
    /// Baseline JPEG with the given quality (1–100).
    Jpeg {
        quality: u8,
    },
}

/// An 8-bit sRGB picture.
/// Invariant: both sides are at least 1 pixel.
#[derive(Clone, PartialEq, Eq)]
pub struct FaceImage {
    rgb: RgbImage,
}

impl std::fmt::Debug for FaceImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaceImage({}×{})", self.rgb.width(), self.rgb.height())
    }
}

impl FaceImage {
    /// Decodes PNG or JPEG bytes (recognised by their signature).
    pub fn decode(bytes: &[u8]) -> Result<Self, FaceError> {
        let format = image::guess_format(bytes).map_err(|e| FaceError::Decode(e.to_string()))?;
        if !matches!(format, image::ImageFormat::Png | image::ImageFormat::Jpeg) {
            return Err(FaceError::Decode(format!("{format:?} is not PNG or JPEG")));
        }
        let img = image::load_from_memory_with_format(bytes, format)
            .map_err(|e| FaceError::Decode(e.to_string()))?;
        if img.width() == 0 || img.height() == 0 {
            return Err(FaceError::Decode("empty image".into()));
        }
        Ok(Self {
            rgb: img.into_rgb8(),
        })
    }

    /// Takes raw RGB bytes, row by row, 3 bytes a pixel.
    pub fn from_rgb8(width: u32, height: u32, rgb: Vec<u8>) -> Result<Self, FaceError> {
        let expected = width as usize * height as usize * 3;
        if width == 0 || height == 0 || rgb.len() != expected {
            return Err(FaceError::BadBuffer {
                width,
                height,
                expected,
                actual: rgb.len(),
            });
        }
        let rgb = RgbImage::from_raw(width, height, rgb).ok_or(FaceError::BadBuffer {
            width,
            height,
            expected,
            actual: expected,
        })?;
        Ok(Self { rgb })
    }

    pub fn width(&self) -> u32 {
        self.rgb.width()
    }

    pub fn height(&self) -> u32 {
        self.rgb.height()
    }

    /// The raw RGB bytes, row by row.
    pub fn as_rgb8(&self) -> &[u8] {
        self.rgb.as_raw()
    }

    /// Encodes the picture as PNG or JPEG.
    pub fn encode(&self, format: ImageFormat) -> Result<Vec<u8>, FaceError> {
        let mut out = Cursor::new(Vec::new());
        let (w, h) = (self.width(), self.height());
        let data = self.rgb.as_raw();
        let color = image::ExtendedColorType::Rgb8;
        let result = match format {
            ImageFormat::Png => {
                image::codecs::png::PngEncoder::new(&mut out).write_image(data, w, h, color)
            }
            ImageFormat::Jpeg { quality } => {
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
                    .write_image(data, w, h, color)
            }
        };
        result.map_err(|e| FaceError::Encode(e.to_string()))?;
        Ok(out.into_inner())
    }

    /// Luma (ITU-R BT.601 weights) as one byte a pixel, row by row.
    pub(crate) fn luma(&self) -> Vec<u8> {
        self.rgb
            .pixels()
            .map(|p| {
                let [r, g, b] = p.0;
                ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114 + 500) / 1000) as u8
            })
            .collect()
    }
}
