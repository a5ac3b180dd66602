//! Per-pixel evaluation of a person in a scene: background, shoulders, hair, face with
//! ellipsoid shading, eyes, brows, nose, mouth, glasses, then white balance and noise.

use super::person::{HairStyle, Person, lerp};
use super::{Expression, Scene};
use crate::FaceImage;
use crate::rng::hash_unit;

type Rgb = [f32; 3];

/// Renders one picture.
pub(super) fn paint(p: &Person, s: &Scene) -> FaceImage {
    let mut out = Vec::with_capacity((s.width * s.height * 3) as usize);
    let (sin, cos) = s.roll.sin_cos();
    for y in 0..s.height {
        for x in 0..s.width {
            let fx = (x as f32 + 0.5 - s.cx) / s.unit;
            let fy = (y as f32 + 0.5 - s.cy) / s.unit;
            let u = fx * cos + fy * sin;
            let v = -fx * sin + fy * cos;
            let mut c = background(s, x as f32 + 0.5, y as f32 + 0.5);
            c = person(p, s, c, u, v);
            let n = s.noise;
            let g = (hash_unit(s.noise_seed, x, y) - 0.5) * 3.4 * n;
            for (k, ch) in c.iter().enumerate() {
                let chroma = (hash_unit(s.noise_seed ^ (k as u64 + 1), x, y) - 0.5) * 1.7 * n;
                let val = ch * s.gains[k] + g + chroma;
                out.push((val.clamp(0.0, 1.0) * 255.0 + 0.5) as u8);
            }
        }
    }
    FaceImage::from_rgb8(s.width, s.height, out).expect("the buffer has width × height × 3 bytes")
}

fn background(s: &Scene, x: f32, y: f32) -> Rgb {
    let t = y / s.height as f32;
    let mut c = mix(s.bg_top, s.bg_bottom, t);
    for (r, col) in &s.bg_boxes {
        let a = edge(x - r[0]) * edge(r[2] - x) * edge(y - r[1]) * edge(r[3] - y);
        c = mix(c, *col, a * 0.9);
    }
    c
}

/// Composites the person over `c` at face coordinates `(u, v)`.
fn person(p: &Person, s: &Scene, mut c: Rgb, u: f32, v: f32) -> Rgb {
    let aa = 1.2 / s.unit;
    let a = p.face_aspect;
    let e = &s.expression;
    // Clothes and shoulders.
    let shoulder_top = a + 0.2 + 0.35 * (u.abs() / 2.0).powi(2);
    let clothes = soft(v - shoulder_top, aa) * soft(2.6 - u.abs(), aa);
    c = mix(c, lit(p.clothes, s, [u * 0.3, -0.5, 1.0]), clothes);
    // Hair behind the head.
    let vol = p.hair_volume;
    let back = match p.hair_style {
        HairStyle::Long => {
            let top = ellipse(u, v + 0.15, 1.0 + vol, a + vol);
            let sides = soft(1.0 + vol + 0.1 - u.abs(), aa) * soft(a + 1.3 - v, aa) * soft(v, aa);
            top.max(sides)
        }
        HairStyle::Bob => {
            let top = ellipse(u, v + 0.15, 1.0 + vol, a + vol);
            let sides = soft(1.0 + vol - u.abs(), aa) * soft(0.55 * a - v, aa) * soft(v, aa);
            top.max(sides)
        }
        HairStyle::Short => ellipse(u, v + 0.12, 1.0 + vol * 0.5, a + vol * 0.6) * soft(-v, aa),
        HairStyle::Receding => {
            ellipse(u, v + 0.05, 1.05, a) * soft(-v + 0.1, aa) * soft(u.abs() - 0.75, 0.1)
        }
    };
    c = mix(c, hair(p, s, u, v, [u, -0.6, 0.8]), back);
    // Neck, in the shadow of the jaw.
    let neck = soft(0.52 - u.abs(), aa) * soft(v - 0.3, aa) * soft(shoulder_top + 0.2 - v, aa);
    c = mix(c, lit(scale(p.skin, 0.78), s, [u, 0.0, 1.0]), neck);
    // Ears.
    for side in [-1.0f32, 1.0] {
        let ear = ellipse(
            u - side * 0.98,
            v - p.eye_y - 0.15,
            0.13 * p.ear_size,
            0.24 * p.ear_size,
        );
        c = mix(c, lit(scale(p.skin, 0.9), s, [side, 0.0, 0.6]), ear);
    }
    // The face itself.
    let (inside, normal) = face_shape(p, u, v, aa);
    if inside <= 0.0 {
        return c;
    }
    let fu = u - s.yaw * 0.7;
    let fv = v - s.pitch * 0.7;
    let mut skin = p.skin;
    // Cheek warmth.
    for side in [-1.0f32, 1.0] {
        let g = gauss(fu - side * 0.55, fv - 0.35, 0.2, 0.15);
        skin = mix(
            skin,
            [skin[0] * 1.02, skin[1] * 0.9, skin[2] * 0.9],
            g * 0.5,
        );
    }
    let mut f = lit(skin, s, normal);
    f = features(p, s, e, f, fu, fv, aa);
    if let Some((mx, my, r)) = p.mole {
        f = mix(f, scale(p.skin, 0.45), disc(fu - mx, fv - my, r, aa));
    }
    f = fringe(p, s, f, u, v, aa);
    c = mix(c, f, inside);
    if let Some(g) = p.glasses {
        c = glasses(p, s, g, c, fu, fv, aa);
    }
    c
}

/// Coverage of the face outline and the surface normal of an ellipsoid-like head.
fn face_shape(p: &Person, u: f32, v: f32, aa: f32) -> (f32, Rgb) {
    let a = p.face_aspect;
    if v.abs() >= a || u.abs() >= 1.0 {
        return (0.0, [0.0, 0.0, 1.0]);
    }
    let t = (v / a).max(0.0);
    let narrow = 1.0 - (1.0 - p.chin) * t * t;
    let n = if v > 0.0 { 2.0 + 1.8 * p.jaw } else { 2.0 };
    let uu = u.abs() / narrow;
    let f = uu.powf(n) + (v.abs() / a).powf(n);
    let dist = 1.0 - f.powf(1.0 / n);
    let inside = soft(dist, aa);
    let nx = (u / narrow).clamp(-1.0, 1.0);
    let ny = (v / a).clamp(-1.0, 1.0);
    let nz = (1.0 - nx * nx - ny * ny).max(0.02).sqrt();
    (inside, [nx, ny * 0.7, nz])
}

/// Eyes, brows, nose and mouth in feature coordinates (already shifted by the pose).
fn features(p: &Person, s: &Scene, e: &Expression, mut f: Rgb, u: f32, v: f32, aa: f32) -> Rgb {
    let sh = shade(s, [0.0, 0.0, 1.0]);
    for side in [-1.0f32, 1.0] {
        let ex = side * p.eye_dx;
        // Socket shadow under the brow, lighter under the eye.
        let socket = gauss(u - ex, v - p.eye_y + 0.02, p.eye_w * 1.3, p.eye_h * 2.6);
        f = scale(f, 1.0 - 0.28 * socket);
        f = eye(p, e, f, (u - ex) * side, v - p.eye_y, aa, sh);
        f = brow(p, s, e, f, (u - side * (p.eye_dx + 0.02)) * side, v, aa);
    }
    // Nose: bridge sides, wings, nostrils, shadow below, lit tip.
    let along = soft(v - p.eye_y - 0.05, 0.05) * soft(p.nose_y - v, 0.05);
    for side in [-1.0f32, 1.0] {
        let sidelight = 1.0 - 0.5 * side * s.light[0];
        let bridge = gauss(u - side * p.nose_w * 0.6, 0.0, 0.035, 1.0) * along;
        f = scale(f, 1.0 - 0.12 * bridge * sidelight);
        let wing = gauss(u - side * p.nose_w, v - p.nose_y, 0.045, 0.05);
        f = scale(f, 1.0 - 0.3 * wing * sidelight);
        let nostril = ellipse(u - side * p.nose_w * 0.5, v - p.nose_y - 0.035, 0.045, 0.02);
        f = mix(f, scale(p.skin, 0.25 * sh), nostril * 0.85);
    }
    let under = gauss(u, v - p.nose_y - 0.09, p.nose_w * 1.2, 0.035);
    f = scale(f, 1.0 - 0.25 * under);
    let tip = gauss(u + s.light[0] * 0.03, v - p.nose_y + 0.04, 0.05, 0.04);
    f = mix(f, [1.0, 0.97, 0.94], tip * 0.18);
    mouth(p, e, f, u, v, aa, sh)
}

fn eye(p: &Person, e: &Expression, mut f: Rgb, du: f32, dv: f32, aa: f32, sh: f32) -> Rgb {
    let dv = dv + p.eye_tilt * du / p.eye_w;
    let w = p.eye_w;
    let k = (1.0 - (du / w).powi(2)).max(0.0).powf(0.7);
    let up = p.eye_h * e.eye_open * k;
    let lo = p.eye_h * 0.7 * e.eye_open * k;
    let open = soft(dv + up, aa) * soft(lo - dv, aa) * soft(w - du.abs(), aa);
    // Crease above the lid, lashes along the upper lid.
    let crease = gauss(0.0, dv + up + 0.035, 1.0, 0.008) * soft(w * 1.05 - du.abs(), 0.03);
    f = scale(f, 1.0 - 0.2 * crease);
    let lash = gauss(0.0, dv + up, 1.0, 0.012) * soft(w * 1.1 - du.abs(), aa);
    f = mix(f, [0.08, 0.06, 0.05], lash * 0.9);
    if open > 0.0 {
        let white = scale([0.86, 0.83, 0.8], sh * (1.0 - 0.25 * (du / w).powi(2)));
        let r = p.eye_h * 1.15;
        let (gx, gy) = (du - e.gaze.0, dv - e.gaze.1);
        let iris = disc(gx, gy, r, aa);
        let pupil = disc(gx, gy, r * 0.45, aa);
        let ring = 1.0 - 0.4 * (gx * gx + gy * gy).sqrt() / r;
        let mut c = mix(white, scale(p.iris, sh * ring), iris);
        c = mix(c, [0.02, 0.02, 0.02], pupil);
        c = mix(
            c,
            [0.95, 0.95, 0.95],
            disc(gx + r * 0.3, gy + r * 0.35, r * 0.18, aa),
        );
        // The upper lid casts a shadow on the eyeball.
        c = scale(c, 1.0 - 0.35 * gauss(0.0, dv + up, 1.0, p.eye_h * 0.5));
        f = mix(f, c, open);
    }
    f
}

fn brow(p: &Person, s: &Scene, e: &Expression, f: Rgb, du: f32, v: f32, aa: f32) -> Rgb {
    let t = du / p.brow_w;
    if t.abs() > 1.3 {
        return f;
    }
    let line = p.brow_y - e.brow_raise - p.brow_arch * (1.0 - t * t) - p.brow_tilt * t * 0.1;
    let thick = p.brow_thick * (1.0 - 0.45 * t.max(0.0)) * 0.5;
    let a = soft(thick - (v - line).abs(), aa * 1.5) * soft(1.0 - t.abs(), 0.15);
    let c = hair(p, s, du, v, [0.0, -0.3, 1.0]);
    mix(f, scale(c, 0.9), a * 0.88)
}

fn mouth(p: &Person, e: &Expression, f: Rgb, u: f32, v: f32, aa: f32, sh: f32) -> Rgb {
    let w = p.mouth_w * (1.0 + e.smile);
    let t = u / w;
    if t.abs() > 1.2 {
        return f;
    }
    let line = p.mouth_y - e.smile * t * t;
    let k = (1.0 - t * t).max(0.0).sqrt();
    let bow = 1.0 - 0.35 * gauss(u, 0.0, 0.05, 1.0);
    let upper = soft(v - (line - p.lip_upper * k * bow), aa) * soft(line - v, aa);
    let lower = soft(v - line, aa) * soft(line + p.lip_lower * k - v, aa);
    let mut c = f;
    c = mix(c, scale(p.lip, sh * 0.92), upper);
    let lower_c = scale(
        p.lip,
        sh * (1.0 + 0.15 * gauss(0.0, v - line - p.lip_lower * 0.4, 1.0, 0.02)),
    );
    c = mix(c, lower_c, lower);
    let gap = gauss(0.0, v - line, 1.0, 0.008) * soft(1.0 - t.abs(), 0.05);
    c = mix(c, scale(p.lip, 0.3 * sh), gap * 0.9);
    let chin_shadow = gauss(u, v - line - p.lip_lower - 0.04, w * 0.7, 0.025);
    scale(c, 1.0 - 0.15 * chin_shadow)
}

/// Hair over the forehead, down to the hairline.
fn fringe(p: &Person, s: &Scene, f: Rgb, u: f32, v: f32, aa: f32) -> Rgb {
    let line = match p.hair_style {
        HairStyle::Receding => p.hairline - 0.35 + 0.25 * u * u,
        _ => p.hairline + p.parting * u + 0.12 * u * u,
    };
    let a = soft(line - v, aa * 2.0);
    mix(f, hair(p, s, u, v, [u * 0.8, -0.7, 0.7]), a)
}

fn glasses(
    p: &Person,
    s: &Scene,
    g: super::person::Glasses,
    mut c: Rgb,
    u: f32,
    v: f32,
    aa: f32,
) -> Rgb {
    let col = lit(g.color, s, [0.0, 0.0, 1.0]);
    for side in [-1.0f32, 1.0] {
        let du = (u - side * p.eye_dx) / g.half_w;
        let dv = (v - p.eye_y - 0.01) / g.half_h;
        let r = (du.powi(4) + dv.powi(4)).powf(0.25);
        let rim = soft(g.rim - (r - 1.0).abs() * g.half_w, aa);
        c = mix(c, col, rim);
    }
    let inner = p.eye_dx - g.half_w;
    let bridge =
        soft(inner + 0.02 - u.abs(), aa) * soft(g.rim * 0.5 - (v - p.eye_y + 0.04).abs(), aa);
    let outer = p.eye_dx + g.half_w;
    let arm = soft(u.abs() - outer + 0.01, aa)
        * soft(1.0 - u.abs(), aa)
        * soft(g.rim * 0.5 - (v - p.eye_y + 0.05).abs(), aa);
    mix(c, col, bridge.max(arm))
}

/// Hair colour with strands and the same light as the face.
fn hair(p: &Person, s: &Scene, u: f32, v: f32, normal: Rgb) -> Rgb {
    let strands =
        1.0 + 0.12 * (u * 55.0 + (v * 6.0).sin() * 4.0).sin() * (v * 13.0 + u * 3.0).cos();
    scale(lit(p.hair, s, normal), strands)
}

fn shade(s: &Scene, n: Rgb) -> f32 {
    let n = super::normalise(n);
    let d = n[0] * s.light[0] + n[1] * s.light[1] + n[2] * s.light[2];
    s.ambient + s.diffuse * d.max(0.0)
}

fn lit(c: Rgb, s: &Scene, n: Rgb) -> Rgb {
    scale(c, shade(s, n))
}

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        lerp(a[0], b[0], t),
        lerp(a[1], b[1], t),
        lerp(a[2], b[2], t),
    ]
}

fn scale(c: Rgb, k: f32) -> Rgb {
    [c[0] * k, c[1] * k, c[2] * k]
}

/// 0 outside, 1 inside, a linear ramp of width `aa` across the edge at `d = 0`.
fn soft(d: f32, aa: f32) -> f32 {
    (d / aa + 0.5).clamp(0.0, 1.0)
}

/// Anti-aliased edge one pixel wide, for pixel-space rectangles.
fn edge(d: f32) -> f32 {
    (d + 0.5).clamp(0.0, 1.0)
}

fn ellipse(u: f32, v: f32, ru: f32, rv: f32) -> f32 {
    let r = ((u / ru).powi(2) + (v / rv).powi(2)).sqrt();
    soft((1.0 - r) * ru.min(rv), 0.01)
}

fn disc(u: f32, v: f32, r: f32, aa: f32) -> f32 {
    soft(r - (u * u + v * v).sqrt(), aa)
}

fn gauss(u: f32, v: f32, su: f32, sv: f32) -> f32 {
    (-0.5 * ((u / su).powi(2) + (v / sv).powi(2))).exp()
}
