//! Randomness without a dependency: SplitMix64 streams, keyed permutations for identifiers
//! that must never collide, and cumulative weight tables.

use chrono::{Days, NaiveDate};

/// The SplitMix64 finaliser: a bijective 64-bit mixer.
pub const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes a seed with a stream tag and an index into one 64-bit key.
pub const fn key(seed: u64, stream: u64, index: u64) -> u64 {
    mix(mix(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ index)
}

/// A SplitMix64 stream (Steele, Lea and Flood, 2014): fast, 64 bits of state, good enough
/// for synthetic data and trivially seedable per household.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2⁻³² for our `n`).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p`, given in parts per million.
    pub fn ppm(&mut self, p: u32) -> bool {
        self.below(1_000_000) < u64::from(p)
    }

    /// True with probability `p` percent.
    pub fn percent(&mut self, p: u32) -> bool {
        self.below(100) < u64::from(p)
    }

    /// Picks from a static table of `(item, weight)`.
    pub fn pick<'a, T>(&mut self, table: &'a [(T, u32)]) -> &'a T {
        let total: u32 = table.iter().map(|(_, w)| *w).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (item, w) in table {
            if r < *w {
                return item;
            }
            r -= *w;
        }
        &table[table.len() - 1].0
    }

    /// A uniform day in `lo..=hi`; `lo` when the range is empty.
    pub fn date(&mut self, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo).num_days() as u64;
        lo + Days::new(self.below(span + 1))
    }
}

/// Cumulative weights, for repeated weighted picks from a long table.
#[derive(Debug, Clone, Default)]
pub struct Cumulative(Vec<u32>);

impl Cumulative {
    pub fn new(weights: impl IntoIterator<Item = u32>) -> Self {
        let mut sum = 0u32;
        Self(
            weights
                .into_iter()
                .map(|w| {
                    sum += w;
                    sum
                })
                .collect(),
        )
    }

    /// The index of a weighted random entry.
    pub fn pick(&self, rng: &mut Rng) -> usize {
        let total = *self.0.last().expect("non-empty table");
        let r = rng.below(u64::from(total)) as u32;
        self.0.partition_point(|c| *c <= r)
    }
}

/// A keyed permutation of `0..domain` (a four-round Feistel network on the smallest even
/// number of bits that covers the domain, with cycle walking): distinct inputs give
/// distinct outputs, so numbers derived from person indices never collide.
#[derive(Debug, Clone, Copy)]
pub struct Permutation {
    domain: u64,
    half_bits: u32,
    keys: [u64; 4],
}

impl Permutation {
    pub fn new(domain: u64, seed: u64) -> Self {
        let bits = 64 - (domain - 1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let keys = [0, 1, 2, 3].map(|i| key(seed, 0x5045_524D, i));
        Self {
            domain,
            half_bits,
            keys,
        }
    }

    pub fn apply(&self, x: u64) -> u64 {
        assert!(x < self.domain, "{x} outside 0..{}", self.domain);
        let mask = (1u64 << self.half_bits) - 1;
        let mut v = x;
        loop {
            let (mut l, mut r) = (v >> self.half_bits, v & mask);
            for k in self.keys {
                let f = mix(r ^ k) & mask;
                (l, r) = (r, l ^ f);
            }
            v = (l << self.half_bits) | r;
            if v < self.domain {
                return v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection() {
        for domain in [1, 2, 10, 1000, 4097] {
            let p = Permutation::new(domain, 7);
            let mut seen = vec![false; domain as usize];
            for x in 0..domain {
                let y = p.apply(x);
                assert!(!seen[y as usize], "{y} twice in {domain}");
                seen[y as usize] = true;
            }
        }
    }

    #[test]
    fn cumulative_respects_zero_weights() {
        let c = Cumulative::new([0, 5, 0, 5]);
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            let i = c.pick(&mut rng);
            assert!(i == 1 || i == 3);
        }
    }
}
