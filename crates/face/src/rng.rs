//! SplitMix64 streams: deterministic randomness for the synthetic faces, no dependency.

/// The SplitMix64 finaliser: a bijective 64-bit mixer.
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes a seed with a stream tag into a new seed, so that the identity, the scene and the
/// noise of one picture draw from independent streams.
pub(crate) const fn key(seed: u64, stream: u64) -> u64 {
    mix(mix(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// A SplitMix64 stream (Steele, Lea and Flood, 2014).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }
}

/// A hash of a seed and a pixel position to `[0, 1)`: per-pixel noise without state.
pub(crate) fn hash_unit(seed: u64, x: u32, y: u32) -> f32 {
    let h = mix(seed ^ (u64::from(x) << 32 | u64::from(y)).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    (h >> 40) as f32 / (1u64 << 24) as f32
}
