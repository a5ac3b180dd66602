//! From a detected box to a normalised face: crop, find the eyes, rotate and scale so that
//! they land on fixed positions, then even out the light.

use crate::FaceBox;

/// Side of the square the detected box is first resampled to for the eye search.
const SEARCH: usize = 96;
/// Size of the normalised face (width, height) and where the eyes go in it.
pub(crate) const FACE_W: usize = 72;
pub(crate) const FACE_H: usize = 88;
const EYE_Y: f32 = 30.0;
const EYE_LEFT_X: f32 = 20.0;
const EYE_RIGHT_X: f32 = 52.0;

/// A grey picture with `f32` samples.
#[derive(Debug, Clone)]
pub(crate) struct Gray {
    pub w: usize,
    pub h: usize,
    pub px: Vec<f32>,
}

impl Gray {
    pub(crate) fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            px: vec![0.0; w * h],
        }
    }

    pub(crate) fn from_luma(luma: &[u8], w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            px: luma.iter().map(|&v| f32::from(v)).collect(),
        }
    }

    pub(crate) fn at(&self, x: usize, y: usize) -> f32 {
        self.px[y * self.w + x]
    }

    /// Bilinear sample; outside the picture the nearest edge pixel is repeated.
    pub(crate) fn sample(&self, x: f32, y: f32) -> f32 {
        let x = x.clamp(0.0, (self.w - 1) as f32);
        let y = y.clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let top = self.at(x0, y0) * (1.0 - fx) + self.at(x1, y0) * fx;
        let bottom = self.at(x0, y1) * (1.0 - fx) + self.at(x1, y1) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// Mean over a `size`-pixel square centred on `(x, y)`, by supersampling: resampling
    /// to a coarser grid without aliasing.
    pub(crate) fn area(&self, x: f32, y: f32, size: f32) -> f32 {
        let k = size.ceil().clamp(1.0, 4.0) as usize;
        if k == 1 {
            return self.sample(x, y);
        }
        let step = size / k as f32;
        let start = -0.5 * size + 0.5 * step;
        let mut acc = 0.0;
        for j in 0..k {
            for i in 0..k {
                acc += self.sample(x + start + i as f32 * step, y + start + j as f32 * step);
            }
        }
        acc / (k * k) as f32
    }

    /// Separable Gaussian blur.
    pub(crate) fn blur(&self, sigma: f32) -> Self {
        let r = (sigma * 3.0).ceil() as isize;
        let k: Vec<f32> = (-r..=r)
            .map(|i| (-0.5 * (i as f32 / sigma).powi(2)).exp())
            .collect();
        let sum: f32 = k.iter().sum();
        let k: Vec<f32> = k.iter().map(|v| v / sum).collect();
        let pass = |src: &Gray, dx: isize, dy: isize| {
            let mut out = Gray::new(src.w, src.h);
            for y in 0..src.h as isize {
                for x in 0..src.w as isize {
                    let mut acc = 0.0;
                    for (i, kv) in k.iter().enumerate() {
                        let o = i as isize - r;
                        let sx = (x + o * dx).clamp(0, src.w as isize - 1) as usize;
                        let sy = (y + o * dy).clamp(0, src.h as isize - 1) as usize;
                        acc += kv * src.at(sx, sy);
                    }
                    out.px[y as usize * src.w + x as usize] = acc;
                }
            }
            out
        };
        pass(&pass(self, 1, 0), 0, 1)
    }
}

/// Eye centres found in a picture, in its pixels (left and right in the picture).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Eyes {
    pub left: (f32, f32),
    pub right: (f32, f32),
}

/// Finds the eyes inside a detected box: the darkest blob (difference of Gaussians) in
/// each upper quarter of the box. Returns `None` when the pair is implausible (too close,
/// too far, too tilted), and the caller then aligns on the box alone.
pub(crate) fn find_eyes(image: &Gray, face: &FaceBox) -> Option<Eyes> {
    let s = face.width as f32 / SEARCH as f32;
    let mut crop = Gray::new(SEARCH, SEARCH);
    for y in 0..SEARCH {
        for x in 0..SEARCH {
            let (sx, sy) = (face.x as f32 + x as f32 * s, face.y as f32 + y as f32 * s);
            crop.px[y * SEARCH + x] = image.area(sx, sy, s);
        }
    }
    let fine = crop.blur(1.8);
    let coarse = crop.blur(5.0);
    let best = |x0: usize, x1: usize| {
        let mut best = (f32::MAX, 0usize, 0usize);
        for y in 20..52 {
            for x in x0..x1 {
                let r = fine.at(x, y) - coarse.at(x, y);
                if r < best.0 {
                    best = (r, x, y);
                }
            }
        }
        (best.1 as f32, best.2 as f32)
    };
    let l = best(12, 46);
    let r = best(50, 84);
    let (dx, dy) = (r.0 - l.0, r.1 - l.1);
    let plausible = (22.0..=56.0).contains(&dx) && dy.abs() <= dx * 0.3;
    plausible.then_some(Eyes {
        left: (face.x as f32 + l.0 * s, face.y as f32 + l.1 * s),
        right: (face.x as f32 + r.0 * s, face.y as f32 + r.1 * s),
    })
}

/// Where the eyes of an average face sit in a SeetaFace box, for faces whose eyes were not
/// found.
pub(crate) fn eyes_from_box(face: &FaceBox) -> Eyes {
    let (x, y, w) = (face.x as f32, face.y as f32, face.width as f32);
    Eyes {
        left: (x + 0.3 * w, y + 0.37 * w),
        right: (x + 0.7 * w, y + 0.37 * w),
    }
}

/// Resamples the face so that the eyes land on fixed positions, then normalises the light:
/// Gaussian smoothing against sensor noise, and zero mean, unit variance.
pub(crate) fn normalise(image: &Gray, eyes: Eyes) -> Gray {
    let (dx, dy) = (eyes.right.0 - eyes.left.0, eyes.right.1 - eyes.left.1);
    let dist = (dx * dx + dy * dy).sqrt().max(1.0);
    let scale = dist / (EYE_RIGHT_X - EYE_LEFT_X);
    let (cos, sin) = (dx / dist, dy / dist);
    let mid = (
        (eyes.left.0 + eyes.right.0) / 2.0,
        (eyes.left.1 + eyes.right.1) / 2.0,
    );
    let cx = (EYE_LEFT_X + EYE_RIGHT_X) / 2.0;
    let mut out = Gray::new(FACE_W, FACE_H);
    for y in 0..FACE_H {
        for x in 0..FACE_W {
            let (u, v) = ((x as f32 - cx) * scale, (y as f32 - EYE_Y) * scale);
            let sx = mid.0 + u * cos - v * sin;
            let sy = mid.1 + u * sin + v * cos;
            out.px[y * FACE_W + x] = image.area(sx, sy, scale);
        }
    }
    // Difference of Gaussians removes the slow shading of side light and the noise
    // (Tan and Triggs, 2010), then a mask keeps the inner face and drops the background.
    let fine = out.blur(2.0);
    let coarse = out.blur(4.0);
    let mut out = Gray::new(FACE_W, FACE_H);
    for (i, v) in out.px.iter_mut().enumerate() {
        let (x, y) = ((i % FACE_W) as f32, (i / FACE_W) as f32);
        let (mx, my) = ((x - cx) / 30.0, (y - 46.0) / 44.0);
        let keep = (1.4 - 1.4 * (mx * mx + my * my)).clamp(0.0, 1.0);
        *v = (fine.px[i] - coarse.px[i]) * keep;
    }
    let n = out.px.len() as f32;
    let mean = out.px.iter().sum::<f32>() / n;
    let var = out.px.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    let sd = var.sqrt().max(1.0);
    out.px
        .iter_mut()
        .for_each(|v| *v = ((*v - mean) / sd / 2.0).tanh() * 2.0);
    out
}
