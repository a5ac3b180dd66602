//! The face descriptor: multi-scale local binary pattern (LBP) histograms on a grid
//! (Ahonen, Hadid and Pietikäinen, 2006), compared with the chi-square distance, fused with
//! histograms of oriented gradients compared by cosine.

use crate::align::Gray;

/// Side of a grid cell in normalised-face pixels.
const CELL: usize = 8;
/// (radius, blur) of each scale: the wider radius looks at coarser structure.
const SCALES: [(f32, f32); 2] = [(1.0, 0.0), (2.0, 1.0)];
/// A neighbour counts as "not darker" down to this far below the centre (normalised units),
/// so that flat, noisy skin reads as uniform rather than as random bits.
const LBP_MARGIN: f32 = 0.05;
/// Weight of the gradient histograms in the similarity; the LBP part has the rest.
const HOG_WEIGHT: f32 = 0.5;
/// Number of uniform patterns of 8 neighbours (58) plus one bin for all others.
const BINS: usize = 59;

/// A face descriptor: one normalised histogram per cell and scale, concatenated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Descriptor {
    hist: Vec<f32>,
    cells: usize,
    /// Histograms of oriented gradients, L2-normalised as a whole.
    hog: Vec<f32>,
}

/// Maps an 8-bit LBP code to its uniform-pattern bin (at most two 0/1 transitions
/// around the circle), or to the last bin.
fn uniform_table() -> [u8; 256] {
    let mut table = [(BINS - 1) as u8; 256];
    let mut next = 0u8;
    for (code, slot) in table.iter_mut().enumerate() {
        let c = code as u8;
        if (c ^ c.rotate_left(1)).count_ones() <= 2 {
            *slot = next;
            next += 1;
        }
    }
    table
}

/// Computes the descriptor of a normalised face.
pub(crate) fn describe(face: &Gray) -> Descriptor {
    let table = uniform_table();
    let (gw, gh) = (face.w / CELL, face.h / CELL);
    let cells = gw * gh * SCALES.len();
    let mut hist = vec![0.0f32; cells * BINS];
    for (s, &(radius, blur)) in SCALES.iter().enumerate() {
        let img = if blur > 0.0 {
            face.blur(blur)
        } else {
            face.clone()
        };
        let offsets: Vec<(f32, f32)> = (0..8)
            .map(|k| {
                let a = k as f32 * std::f32::consts::FRAC_PI_4;
                (radius * a.cos(), -radius * a.sin())
            })
            .collect();
        for y in 0..gh * CELL {
            for x in 0..gw * CELL {
                let c = img.at(x, y);
                let mut code = 0u8;
                for (k, (ox, oy)) in offsets.iter().enumerate() {
                    if img.sample(x as f32 + ox, y as f32 + oy) >= c - LBP_MARGIN {
                        code |= 1 << k;
                    }
                }
                let cell = (s * gh + y / CELL) * gw + x / CELL;
                hist[cell * BINS + usize::from(table[usize::from(code)])] += 1.0;
            }
        }
    }
    let per_cell = (CELL * CELL) as f32;
    hist.iter_mut().for_each(|v| *v /= per_cell);
    Descriptor {
        hist,
        cells,
        hog: hog(face),
    }
}

/// Orientation bins (unsigned, 0–180°) and cell side of the gradient histograms.
const HOG_BINS: usize = 9;
const HOG_CELL: usize = 6;

/// Histograms of oriented gradients (Dalal and Triggs, 2005) on a grid of cells, each cell
/// L2-normalised so that strong and faint edges count alike, soft-binned by orientation.
fn hog(face: &Gray) -> Vec<f32> {
    let img = face.blur(1.0);
    let (gw, gh) = (face.w / HOG_CELL, face.h / HOG_CELL);
    let mut out = vec![0.0f32; gw * gh * HOG_BINS];
    for y in 1..gh * HOG_CELL {
        for x in 1..gw * HOG_CELL {
            let (xp, yp) = ((x + 1).min(img.w - 1), (y + 1).min(img.h - 1));
            let gx = img.at(xp, y) - img.at(x - 1, y);
            let gy = img.at(x, yp) - img.at(x, y - 1);
            let mag = (gx * gx + gy * gy).sqrt();
            let angle = gy.atan2(gx).rem_euclid(std::f32::consts::PI);
            let pos = angle / std::f32::consts::PI * HOG_BINS as f32 - 0.5;
            let b0 = pos.floor();
            let frac = pos - b0;
            let b0 = (b0 as isize).rem_euclid(HOG_BINS as isize) as usize;
            let b1 = (b0 + 1) % HOG_BINS;
            let cell = (y / HOG_CELL * gw + x / HOG_CELL) * HOG_BINS;
            out[cell + b0] += mag * (1.0 - frac);
            out[cell + b1] += mag * frac;
        }
    }
    for cell in out.chunks_mut(HOG_BINS) {
        let n = cell.iter().map(|v| v * v).sum::<f32>().sqrt() + 0.5;
        cell.iter_mut().for_each(|v| *v = (*v / n).min(0.4));
    }
    let n = out.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-6);
    out.iter_mut().for_each(|v| *v /= n);
    out
}

impl Descriptor {
    /// Similarity in `[0, 1]`: the mean of two parts, one minus the mean chi-square
    /// distance of the LBP cells (each cell's histogram sums to 1, so its distance is at
    /// most 1) and the cosine of the gradient histograms (non-negative entries).
    pub(crate) fn similarity(&self, other: &Self) -> f32 {
        let chi: f32 = self
            .hist
            .iter()
            .zip(&other.hist)
            .map(|(a, b)| {
                if a + b > 0.0 {
                    (a - b).powi(2) / (a + b)
                } else {
                    0.0
                }
            })
            .sum();
        let lbp = 1.0 - 0.5 * chi / self.cells as f32;
        let hog: f32 = self.hog.iter().zip(&other.hog).map(|(a, b)| a * b).sum();
        HOG_WEIGHT * hog + (1.0 - HOG_WEIGHT) * lbp
    }
}
