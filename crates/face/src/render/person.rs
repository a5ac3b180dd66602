//! The identity of a synthetic person: what stays the same from picture to picture.

use crate::rng::{Rng, key};

const STREAM_IDENTITY: u64 = 1;

/// How the hair is cut; the outline behind the head and the fringe differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HairStyle {
    /// Close to the skull, high hairline.
    Short,
    /// Over the ears, to the jaw.
    Bob,
    /// Down past the shoulders.
    Long,
    /// Little hair on top, some at the sides.
    Receding,
}

/// Identity parameters, all in face units (half the face width) unless noted.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    /// Face half-height over half-width.
    pub face_aspect: f32,
    /// How square the jaw is (0 round, 1 square).
    pub jaw: f32,
    /// Chin width factor.
    pub chin: f32,
    pub skin: [f32; 3],
    /// Half the distance between the eye centres.
    pub eye_dx: f32,
    pub eye_y: f32,
    pub eye_w: f32,
    pub eye_h: f32,
    /// Outer corner up (positive) or down, in face units.
    pub eye_tilt: f32,
    pub iris: [f32; 3],
    pub brow_y: f32,
    pub brow_w: f32,
    pub brow_thick: f32,
    pub brow_arch: f32,
    pub brow_tilt: f32,
    pub nose_y: f32,
    pub nose_w: f32,
    pub mouth_y: f32,
    pub mouth_w: f32,
    pub lip_upper: f32,
    pub lip_lower: f32,
    pub lip: [f32; 3],
    pub hair: [f32; 3],
    pub hair_style: HairStyle,
    /// Where the forehead ends (negative: above the eyes).
    pub hairline: f32,
    /// Side parting: how much the hairline slopes from left to right.
    pub parting: f32,
    /// Thickness of the hair outline around the skull.
    pub hair_volume: f32,
    pub glasses: Option<Glasses>,
    /// A mole: position and radius, or none.
    pub mole: Option<(f32, f32, f32)>,
    pub ear_size: f32,
    pub clothes: [f32; 3],
}

/// Spectacle frames.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Glasses {
    pub color: [f32; 3],
    pub half_w: f32,
    pub half_h: f32,
    pub rim: f32,
}

impl Person {
    pub(crate) fn from_seed(face_seed: u64) -> Self {
        let mut r = Rng::new(key(face_seed, STREAM_IDENTITY));
        let tone = r.unit();
        let light = [0.96, 0.80, 0.68];
        let dark = [0.50, 0.33, 0.24];
        let warm = r.range(-0.03, 0.03);
        let skin = [
            lerp(light[0], dark[0], tone) + warm,
            lerp(light[1], dark[1], tone),
            lerp(light[2], dark[2], tone) - warm,
        ];
        let hair_pick = r.unit();
        let hair = if hair_pick < 0.45 {
            [0.06, 0.05, 0.05]
        } else if hair_pick < 0.70 {
            [0.20, 0.13, 0.09]
        } else if hair_pick < 0.82 {
            [0.38, 0.26, 0.16]
        } else if hair_pick < 0.92 {
            [0.55, 0.53, 0.52]
        } else {
            [0.62, 0.46, 0.28]
        };
        let hair = hair.map(|c| (c * r.range(0.85, 1.15)).min(1.0));
        let hair_style = match r.range(0.0, 4.0) as u32 {
            0 => HairStyle::Short,
            1 => HairStyle::Bob,
            2 => HairStyle::Long,
            _ if r.chance(0.5) => HairStyle::Receding,
            _ => HairStyle::Short,
        };
        let iris_dark = r.range(0.05, 0.35);
        let glasses = r.chance(0.22).then(|| {
            let g = r.range(0.05, 0.45);
            Glasses {
                color: [g, g * r.range(0.8, 1.0), g * r.range(0.7, 1.0)],
                half_w: r.range(0.22, 0.28),
                half_h: r.range(0.14, 0.19),
                rim: r.range(0.018, 0.035),
            }
        });
        let mole = r
            .chance(0.3)
            .then(|| (r.range(-0.6, 0.6), r.range(0.1, 0.9), r.range(0.018, 0.03)));
        let lip_shift = r.range(0.0, 0.12);
        Self {
            face_aspect: r.range(1.18, 1.45),
            jaw: r.range(0.0, 1.0),
            chin: r.range(0.35, 0.6),
            skin,
            eye_dx: r.range(0.36, 0.48),
            eye_y: r.range(-0.12, 0.02),
            eye_w: r.range(0.14, 0.20),
            eye_h: r.range(0.045, 0.075),
            eye_tilt: r.range(-0.03, 0.04),
            iris: [iris_dark * 1.3, iris_dark, iris_dark * 0.7],
            brow_y: r.range(-0.36, -0.26),
            brow_w: r.range(0.17, 0.25),
            brow_thick: r.range(0.025, 0.06),
            brow_arch: r.range(0.0, 0.06),
            brow_tilt: r.range(-0.12, 0.15),
            nose_y: r.range(0.30, 0.42),
            nose_w: r.range(0.10, 0.17),
            mouth_y: r.range(0.62, 0.76),
            mouth_w: r.range(0.22, 0.34),
            lip_upper: r.range(0.025, 0.05),
            lip_lower: r.range(0.035, 0.07),
            lip: [
                skin[0] * (0.85 - lip_shift),
                skin[1] * (0.55 - lip_shift),
                skin[2] * (0.60 - lip_shift),
            ],
            hair,
            hair_style,
            hairline: r.range(-0.95, -0.65),
            parting: r.range(-0.15, 0.15),
            hair_volume: r.range(0.08, 0.25),
            glasses,
            mole,
            ear_size: r.range(0.85, 1.15),
            clothes: [r.range(0.05, 0.8), r.range(0.05, 0.8), r.range(0.05, 0.8)],
        }
    }
}

pub(crate) fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}
