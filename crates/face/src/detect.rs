//! Face detection with the SeetaFace funnel-structured cascade (`rustface`), whose frontal
//! model (BSD-2-Clause, see `model/LICENSE.seetaface`) is compiled into this crate.

use std::sync::OnceLock;

use rustface::{ImageData, Model};

use crate::{FaceBox, FaceError};

/// The frontal model shipped with rustface 0.1.7, byte for byte.
static MODEL_BYTES: &[u8] = include_bytes!("../model/seeta_fd_frontal_v1.0.bin");

/// Smallest and largest side of a picture we search.
pub(crate) const MIN_SIDE: u32 = 40;
pub(crate) const MAX_SIDE: u32 = 4096;

/// Detections scoring below this are dropped (SeetaFace's own examples use 2.0).
const SCORE_THRESHOLD: f64 = 2.0;

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        rustface::read_model(MODEL_BYTES).expect("the embedded SeetaFace model parses")
    })
}

/// Finds faces in a grey picture, best score first. Faces smaller than a sixth of the
/// shorter side are not searched for: at the reader the patient stands close to the camera.
pub(crate) fn detect(luma: &[u8], width: u32, height: u32) -> Result<Vec<FaceBox>, FaceError> {
    if !(MIN_SIDE..=MAX_SIDE).contains(&width) || !(MIN_SIDE..=MAX_SIDE).contains(&height) {
        return Err(FaceError::BadSize {
            width,
            height,
            min: MIN_SIDE,
            max: MAX_SIDE,
        });
    }
    // A detector holds scratch buffers and is not `Sync`: one per call, from a shared model.
    let mut detector = rustface::create_detector_with_model(model().clone());
    detector.set_min_face_size((width.min(height) / 6).max(20));
    detector.set_score_thresh(SCORE_THRESHOLD);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(4, 4);
    let image = ImageData::new(luma, width, height);
    let mut faces: Vec<FaceBox> = detector
        .detect(&image)
        .into_iter()
        .map(|f| {
            let b = f.bbox();
            FaceBox {
                x: b.x(),
                y: b.y(),
                width: b.width(),
                height: b.height(),
                score: f.score() as f32,
            }
        })
        .collect();
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(faces)
}
