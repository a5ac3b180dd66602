//! Measured error rates of the built-in matcher on synthetic persons.
//!
//! Each person's card photo is compared with camera frames of the same person (genuine
//! pairs) and with the frames of every other person (impostor pairs). Frames in which no
//! face is found count as false rejects of their genuine pair and are left out of the
//! impostor pairs (the reader would show 「顔が確認できません」, not accept anyone).
//! The big run: `cargo test -p onshi-face --release -- --ignored --nocapture`.

use std::time::Instant;

use onshi_face::{
    ClassicMatcher, DEFAULT_THRESHOLD, FaceMatcher, render_camera_frame, render_card_photo,
};

/// Seeds of the persons in these runs; far from the seeds the unit tests use.
const SEED_BASE: u64 = 0x0FAC_E000_0000;

struct Scores {
    genuine: Vec<f32>,
    impostor: Vec<f32>,
    /// Genuine frames in which no face was found.
    no_face: usize,
    frames: usize,
}

impl Scores {
    fn measure(persons: u64, frames_per_person: u64) -> Self {
        let m = ClassicMatcher::default();
        let mut cards = Vec::new();
        let mut frames = Vec::new();
        let mut no_face = 0;
        for p in 0..persons {
            let seed = SEED_BASE + p * 7919;
            let card = m.template(&render_card_photo(seed)).unwrap();
            cards.push(card.expect("every card photo shows a face"));
            let mut own = Vec::new();
            for v in 0..frames_per_person {
                match m.template(&render_camera_frame(seed, v)).unwrap() {
                    Some(t) => own.push(t),
                    None => no_face += 1,
                }
            }
            frames.push(own);
        }
        let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
        for (i, card) in cards.iter().enumerate() {
            for (j, own) in frames.iter().enumerate() {
                for f in own {
                    let s = m.similarity(card, f);
                    if i == j {
                        genuine.push(s)
                    } else {
                        impostor.push(s)
                    }
                }
            }
        }
        let frames = (persons * frames_per_person) as usize;
        Self {
            genuine,
            impostor,
            no_face,
            frames,
        }
    }

    /// False-reject rate: genuine frames below the threshold or without a face.
    fn frr(&self, threshold: f32) -> f64 {
        let below = self.genuine.iter().filter(|&&s| s < threshold).count();
        (below + self.no_face) as f64 / self.frames as f64
    }

    /// False-accept rate over the impostor pairs.
    fn far(&self, threshold: f32) -> f64 {
        let above = self.impostor.iter().filter(|&&s| s >= threshold).count();
        above as f64 / self.impostor.len() as f64
    }

    /// Area under the ROC curve: the chance that a genuine pair outscores an impostor pair.
    fn auc(&self) -> f64 {
        let mut imp = self.impostor.clone();
        imp.sort_by(f32::total_cmp);
        let below: usize = self
            .genuine
            .iter()
            .map(|g| imp.partition_point(|s| s < g))
            .sum();
        below as f64 / (self.genuine.len() * imp.len()) as f64
    }

    fn report(&self) {
        println!(
            "genuine pairs {}, impostor pairs {}, frames without a face {}/{}, AUC {:.4}",
            self.genuine.len(),
            self.impostor.len(),
            self.no_face,
            self.frames,
            self.auc()
        );
        println!("| threshold | FAR | FRR |\n|---|---|---|");
        for t in [
            0.70, 0.74, 0.76, 0.78, 0.79, 0.80, 0.81, 0.82, 0.83, 0.84, 0.86,
        ] {
            let mark = if (t - DEFAULT_THRESHOLD).abs() < 1e-6 {
                " (default)"
            } else {
                ""
            };
            println!(
                "| {t:.2}{mark} | {:.2} % | {:.2} % |",
                self.far(t) * 100.0,
                self.frr(t) * 100.0
            );
        }
        let mut imp = self.impostor.clone();
        imp.sort_by(f32::total_cmp);
        for q in [0.99, 0.999] {
            let t = imp[((imp.len() - 1) as f64 * q) as usize];
            println!(
                "FAR {:.1} % at {t:.4}: FRR {:.2} %",
                (1.0 - q) * 100.0,
                self.frr(t) * 100.0
            );
        }
    }
}

/// Always on, small enough for a debug build: 12 persons, 2 frames each. Bounds are looser
/// than the 200-person figures in `docs/face.md` because 24 genuine pairs are few.
#[test]
fn small_population_separates_genuine_from_impostor() {
    let s = Scores::measure(12, 2);
    s.report();
    // Measured on these 12 persons: AUC 0.940, FAR 0.76 %, FRR 16.7 %.
    assert!(s.auc() >= 0.92, "AUC {:.4} below 0.92", s.auc());
    assert!(
        s.far(DEFAULT_THRESHOLD) <= 0.03,
        "FAR {:.4}",
        s.far(DEFAULT_THRESHOLD)
    );
    assert!(
        s.frr(DEFAULT_THRESHOLD) <= 0.34,
        "FRR {:.4}",
        s.frr(DEFAULT_THRESHOLD)
    );
}

/// The measurement behind `docs/face.md`: 200 persons, 3 frames each (600 genuine pairs,
/// 119 400 impostor pairs), plus the time of one full comparison.
#[test]
#[ignore = "takes about a minute in release; run with --release -- --ignored"]
fn measured_error_rates_on_200_persons() {
    let started = Instant::now();
    let s = Scores::measure(200, 3);
    println!(
        "templates and scores in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    s.report();
    let m = ClassicMatcher::default();
    let card = render_card_photo(SEED_BASE);
    let frames: Vec<_> = (10..30)
        .map(|v| render_camera_frame(SEED_BASE, v))
        .collect();
    let t = Instant::now();
    for f in &frames {
        m.compare(&card, f).unwrap();
    }
    println!(
        "one compare(card photo, camera frame): {:.1} ms",
        t.elapsed().as_secs_f64() * 50.0
    );
    // Measured: AUC 0.9525, FAR 0.80 %, FRR 17.0 % (docs/face.md); fail on degradation.
    assert!(s.auc() >= 0.94, "AUC {:.4}", s.auc());
    assert!(
        s.far(DEFAULT_THRESHOLD) <= 0.012,
        "FAR {:.4}",
        s.far(DEFAULT_THRESHOLD)
    );
    assert!(
        s.frr(DEFAULT_THRESHOLD) <= 0.21,
        "FRR {:.4}",
        s.frr(DEFAULT_THRESHOLD)
    );
}
