//! The built-in matcher: SeetaFace detection, eye alignment, LBP histograms.

use crate::align::{self, Gray};
use crate::descriptor::{self, Descriptor};
use crate::{Decision, FaceBox, FaceError, FaceImage, FaceMatcher, MatchOutcome, detect};

/// The threshold chosen from the measurements in `docs/face.md`.
pub const DEFAULT_THRESHOLD: f32 = 0.81;

/// A described face: where it was found and its descriptor. Holds no pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceTemplate {
    face: FaceBox,
    /// Aligned on the eyes found in the box, and on the box alone; the eye search can
    /// lock on a brow or a spectacle rim, so both alignments are kept and the better
    /// agreement counts.
    descriptors: Vec<Descriptor>,
}

impl FaceTemplate {
    /// Where the face was found, in the pixels of its picture.
    pub fn face(&self) -> FaceBox {
        self.face
    }
}

/// Classic face comparison, no learned embedding: detect, align on the eyes, describe with
/// multi-scale LBP histograms on a grid, compare with the chi-square distance.
#[derive(Debug, Clone)]
pub struct ClassicMatcher {
    threshold: f32,
}

impl Default for ClassicMatcher {
    fn default() -> Self {
        Self {
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

impl ClassicMatcher {
    /// A matcher deciding at `threshold` (a similarity in `[0, 1]`).
    pub fn with_threshold(threshold: f32) -> Self {
        Self { threshold }
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Finds the most confident face and describes it, for comparing one picture with
    /// many (the reader compares one card photo with several frames). `None`: no face.
    pub fn template(&self, image: &FaceImage) -> Result<Option<FaceTemplate>, FaceError> {
        Ok(Self::face(image)?.map(|(face, descriptors)| FaceTemplate { face, descriptors }))
    }

    /// The similarity of two templates in `[0, 1]`; compare it with [`Self::threshold`].
    pub fn similarity(&self, a: &FaceTemplate, b: &FaceTemplate) -> f32 {
        a.descriptors
            .iter()
            .flat_map(|x| b.descriptors.iter().map(|y| x.similarity(y)))
            .fold(0.0, f32::max)
    }

    /// Detects the most confident face and computes its descriptors.
    fn face(image: &FaceImage) -> Result<Option<(FaceBox, Vec<Descriptor>)>, FaceError> {
        let (w, h) = (image.width(), image.height());
        let luma = image.luma();
        let Some(face) = detect::detect(&luma, w, h)?.into_iter().next() else {
            return Ok(None);
        };
        let gray = Gray::from_luma(&luma, w as usize, h as usize);
        let mut alignments = vec![align::eyes_from_box(&face)];
        alignments.extend(align::find_eyes(&gray, &face));
        let descriptors = alignments
            .into_iter()
            .map(|eyes| descriptor::describe(&align::normalise(&gray, eyes)))
            .collect();
        Ok(Some((face, descriptors)))
    }
}

impl FaceMatcher for ClassicMatcher {
    fn compare(&self, enrolled: &FaceImage, probe: &FaceImage) -> Result<MatchOutcome, FaceError> {
        let reference = self
            .template(enrolled)?
            .ok_or(FaceError::NoFaceInEnrolled)?;
        let enrolled_face = reference.face;
        let Some(candidate) = self.template(probe)? else {
            return Ok(MatchOutcome {
                score: None,
                threshold: self.threshold,
                decision: Decision::NoFaceInProbe,
                probe_face: None,
                enrolled_face,
            });
        };
        let score = self.similarity(&reference, &candidate);
        let probe_face = candidate.face;
        let decision = if score >= self.threshold {
            Decision::Match
        } else {
            Decision::NoMatch
        };
        Ok(MatchOutcome {
            score: Some(score),
            threshold: self.threshold,
            decision,
            probe_face: Some(probe_face),
            enrolled_face,
        })
    }
}
