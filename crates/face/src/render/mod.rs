//! Deterministic synthetic faces: a card photo and camera frames of the same person.
//!
//! A person is a set of identity parameters drawn from a 64-bit `face_seed` (face shape,
//! skin tone, eyes, brows, nose, mouth, hair, glasses). A picture is those parameters plus
//! a scene: framing, pose, light, white balance, background, expression and sensor noise.
//! Every pixel is evaluated analytically in face coordinates (unit = half the face width,
//! origin between the eyes' level and the nose, y down), with soft edges and an ellipsoid
//! shading model, so that a classic face detector sees a photograph-like face.

mod paint;
mod person;

use crate::FaceImage;
use crate::rng::{Rng, key};

pub(crate) use person::Person;

/// Card photo size (width, height): 3:4 like the photo printed on the card face.
pub const CARD_PHOTO_SIZE: (u32, u32) = (240, 320);
/// Camera frame size (width, height) of the face-auth reader's camera.
pub const CAMERA_FRAME_SIZE: (u32, u32) = (640, 480);

/// Stream tags that keep the random draws of one picture independent of each other.
const STREAM_SCENE: u64 = 2;
const STREAM_NOISE: u64 = 3;

/// Everything about one picture that is not the person.
#[derive(Debug, Clone)]
pub(crate) struct Scene {
    pub width: u32,
    pub height: u32,
    /// Face centre in pixels.
    pub cx: f32,
    pub cy: f32,
    /// Pixels per face unit (half the face width).
    pub unit: f32,
    /// In-plane rotation (roll) in radians.
    pub roll: f32,
    /// Left-right head turn, as a horizontal shift of the features per unit of depth.
    pub yaw: f32,
    /// Up-down head tilt, as a vertical shift of the features per unit of depth.
    pub pitch: f32,
    /// Direction the light comes from (normalised), and its strength.
    pub light: [f32; 3],
    pub ambient: f32,
    pub diffuse: f32,
    /// White-balance gains.
    pub gains: [f32; 3],
    /// Background: two colours blended top to bottom, and rectangles of a room behind.
    pub bg_top: [f32; 3],
    pub bg_bottom: [f32; 3],
    pub bg_boxes: Vec<([f32; 4], [f32; 3])>,
    /// Standard deviation of the sensor noise (0–1 scale).
    pub noise: f32,
    pub noise_seed: u64,
    pub expression: Expression,
}

/// A mild, temporary change of the face.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expression {
    /// Corners of the mouth up (positive) in face units.
    pub smile: f32,
    /// Multiplies the eye opening.
    pub eye_open: f32,
    /// Brows up (negative y) in face units.
    pub brow_raise: f32,
    /// Where the irises look, in face units.
    pub gaze: (f32, f32),
}

impl Expression {
    const NEUTRAL: Self = Self {
        smile: 0.0,
        eye_open: 1.0,
        brow_raise: 0.0,
        gaze: (0.0, 0.0),
    };
}

/// The card photo of the person with this `face_seed`: frontal, even light, neutral
/// expression, plain light background, passport-like framing, [`CARD_PHOTO_SIZE`].
pub fn render_card_photo(face_seed: u64) -> FaceImage {
    let person = Person::from_seed(face_seed);
    let (width, height) = CARD_PHOTO_SIZE;
    let mut rng = Rng::new(key(face_seed, STREAM_SCENE));
    let shade = rng.range(0.80, 0.92);
    let tint = [
        rng.range(-0.03, 0.0),
        rng.range(-0.02, 0.01),
        rng.range(0.0, 0.05),
    ];
    let bg = [shade + tint[0], shade + tint[1], shade + tint[2]];
    let scene = Scene {
        width,
        height,
        cx: width as f32 / 2.0,
        cy: height as f32 * 0.45,
        unit: width as f32 * 0.29,
        roll: 0.0,
        yaw: 0.0,
        pitch: 0.0,
        light: normalise([0.0, -0.25, 1.0]),
        ambient: 0.45,
        diffuse: 0.6,
        gains: [1.0, 1.0, 1.0],
        bg_top: bg,
        bg_bottom: [bg[0] - 0.04, bg[1] - 0.04, bg[2] - 0.04],
        bg_boxes: Vec::new(),
        noise: 0.004,
        noise_seed: key(face_seed, STREAM_NOISE),
        expression: Expression::NEUTRAL,
    };
    paint::paint(&person, &scene)
}

/// A frame from the reader's camera showing the person with this `face_seed`; each
/// `variation_seed` gives another moment: pose, distance, light, white balance,
/// background, a mild expression and sensor noise differ. [`CAMERA_FRAME_SIZE`].
pub fn render_camera_frame(face_seed: u64, variation_seed: u64) -> FaceImage {
    let person = Person::from_seed(face_seed);
    let (width, height) = CAMERA_FRAME_SIZE;
    let seed = key(face_seed ^ variation_seed.rotate_left(17), STREAM_SCENE) ^ variation_seed;
    let mut rng = Rng::new(seed);
    let unit = rng.range(60.0, 82.0);
    let bg_top = [
        rng.range(0.2, 0.85),
        rng.range(0.2, 0.85),
        rng.range(0.2, 0.85),
    ];
    let bg_bottom = [
        rng.range(0.1, 0.7),
        rng.range(0.1, 0.7),
        rng.range(0.1, 0.7),
    ];
    let boxes = (0..rng.range(1.0, 5.0) as usize)
        .map(|_| {
            let x0 = rng.range(-0.1, 1.0) * width as f32;
            let y0 = rng.range(-0.1, 1.0) * height as f32;
            let w = rng.range(0.05, 0.4) * width as f32;
            let h = rng.range(0.05, 0.5) * height as f32;
            let c = [
                rng.range(0.1, 0.9),
                rng.range(0.1, 0.9),
                rng.range(0.1, 0.9),
            ];
            ([x0, y0, x0 + w, y0 + h], c)
        })
        .collect();
    let light = normalise([rng.range(-0.6, 0.6), rng.range(-0.6, 0.1), 1.0]);
    let level = rng.range(0.75, 1.15);
    let scene = Scene {
        width,
        height,
        cx: width as f32 / 2.0 + rng.range(-50.0, 50.0),
        cy: height as f32 * 0.5 + rng.range(-30.0, 30.0),
        unit,
        roll: rng.range(-0.10, 0.10),
        yaw: rng.range(-0.12, 0.12),
        pitch: rng.range(-0.08, 0.08),
        light,
        ambient: rng.range(0.3, 0.5) * level,
        diffuse: rng.range(0.45, 0.7) * level,
        gains: [
            rng.range(0.85, 1.15),
            rng.range(0.92, 1.08),
            rng.range(0.85, 1.15),
        ],
        bg_top,
        bg_bottom,
        bg_boxes: boxes,
        noise: rng.range(0.01, 0.035),
        noise_seed: key(seed, STREAM_NOISE),
        expression: Expression {
            smile: rng.range(-0.01, 0.05),
            eye_open: rng.range(0.85, 1.1),
            brow_raise: rng.range(-0.02, 0.03),
            gaze: (rng.range(-0.02, 0.02), rng.range(-0.01, 0.01)),
        },
    };
    paint::paint(&person, &scene)
}

pub(crate) fn normalise(v: [f32; 3]) -> [f32; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    [v[0] / n, v[1] / n, v[2] / n]
}
