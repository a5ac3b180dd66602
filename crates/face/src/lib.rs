//! Face comparison for the face-auth card reader (顔認証付きカードリーダー), and the
//! deterministic synthetic faces that the tests and the demo show to it.
//!
//! The reader compares the face photo read from the card with a frame from its camera.
//! [`FaceMatcher`] is that comparison: two pictures in, a [`MatchOutcome`] out, with "no face
//! in the camera frame" as its own outcome (「顔が確認できません」) rather than an error. The
//! built-in [`ClassicMatcher`] finds the face with the SeetaFace cascade (`rustface`), aligns
//! it on the eyes, describes it with multi-scale LBP histograms and compares the histograms.
//! [`render_card_photo`] and [`render_camera_frame`] draw a synthetic person from a 64-bit
//! `face_seed`; a matcher only ever receives pixels, never a seed.
//!
//! This crate must not do I/O beyond decoding and encoding the bytes it is given: no HTTP,
//! no SQL, no files, no clock. It knows nothing of cards, APDUs or persons' records; the
//! caller decides where a photo comes from and what a decision means for the reception flow.

mod align;
mod descriptor;
mod detect;
mod matcher;
mod picture;
mod render;
mod rng;
#[cfg(test)]
mod tests;

pub use matcher::{ClassicMatcher, DEFAULT_THRESHOLD, FaceTemplate};
pub use picture::{FaceImage, ImageFormat};
pub use render::{CAMERA_FRAME_SIZE, CARD_PHOTO_SIZE, render_camera_frame, render_card_photo};

/// Compares the enrolled face (the card's photo) with a probe (a camera frame).
///
/// Implementations are pure functions of the pixels: the same two images give the same
/// outcome. They are shared between request handlers, hence `Send + Sync`.
pub trait FaceMatcher: Send + Sync {
    /// Compares `enrolled` with `probe`. A probe without a face is an outcome
    /// ([`Decision::NoFaceInProbe`]); an enrolled photo without a face is an error, because
    /// the card's photo is expected to show one.
    fn compare(&self, enrolled: &FaceImage, probe: &FaceImage) -> Result<MatchOutcome, FaceError>;
}

/// What the comparison concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Decision {
    /// Same person: the score reached the threshold.
    Match,
    /// A face was found but the score stayed below the threshold.
    NoMatch,
    /// No face in the camera frame: the reader shows 「顔が確認できません」 and retries.
    NoFaceInProbe,
}

/// The result of one comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchOutcome {
    /// Similarity, higher is more alike; `None` when the probe held no face.
    /// Invariant: `Some` exactly when `decision` is `Match` or `NoMatch`.
    pub score: Option<f32>,
    /// The threshold the score was compared with.
    pub threshold: f32,
    pub decision: Decision,
    /// Face box found in the probe, in probe pixels.
    pub probe_face: Option<FaceBox>,
    /// Face box found in the enrolled photo, in its pixels.
    pub enrolled_face: FaceBox,
}

impl MatchOutcome {
    /// True when the decision is [`Decision::Match`].
    pub fn is_match(&self) -> bool {
        self.decision == Decision::Match
    }

    /// True when a face was found in the probe.
    pub fn face_found_in_probe(&self) -> bool {
        self.probe_face.is_some()
    }
}

/// A detected face: box in pixels and the detector's confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    /// Detector score (SeetaFace: above about 2 is a face).
    pub score: f32,
}

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaceError {
    /// The bytes are neither PNG nor JPEG, or are damaged.
    #[error("cannot decode the image: {0}")]
    Decode(String),
    /// Encoding failed (should not happen for in-memory buffers).
    #[error("cannot encode the image: {0}")]
    Encode(String),
    /// A raw buffer does not have `width × height × 3` bytes, or a side is zero.
    #[error("raw RGB buffer of {actual} bytes, expected {expected} for {width}×{height}")]
    BadBuffer {
        width: u32,
        height: u32,
        expected: usize,
        actual: usize,
    },
    /// The picture is too small or too large to search for a face.
    #[error("image of {width}×{height} is outside {min}..={max} pixels a side")]
    BadSize {
        width: u32,
        height: u32,
        min: u32,
        max: u32,
    },
    /// The enrolled photo shows no face: the card's photo cannot be used.
    #[error("no face found in the enrolled photo")]
    NoFaceInEnrolled,
}

/// Finds the faces in a picture, best detector score first.
pub fn detect_faces(image: &FaceImage) -> Result<Vec<FaceBox>, FaceError> {
    detect::detect(&image.luma(), image.width(), image.height())
}
