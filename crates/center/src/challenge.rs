//! Single-use challenges for the card path.
//!
//! A challenge is 32 bytes: a 16-byte random nonce, the expiry (8 bytes, big-endian Unix
//! seconds) and the first 8 bytes of HMAC-SHA-256 over nonce ‖ expiry ‖ institution code
//! under a key every center process shares (kept in `center_settings`). Issuing one needs
//! no database write; the center checks the MAC and the expiry statelessly, and spends the
//! nonce in the same transaction that records the reception, so a replay is refused even
//! when it reaches another center process.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use chrono::{DateTime, Utc};

/// How long a challenge may be used.
pub const CHALLENGE_LIFETIME_SECS: i64 = 120;
const NONCE: usize = 16;
const MAC: usize = 8;
/// Length of a challenge in bytes.
pub const CHALLENGE_LEN: usize = NONCE + 8 + MAC;

/// Issues and checks challenges.
pub struct Challenges {
    key: hmac::Key,
    rng: SystemRandom,
}

impl std::fmt::Debug for Challenges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Challenges { key: … }")
    }
}

/// A challenge that verified: its nonce (to spend) and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidChallenge {
    pub nonce_hex: String,
    pub expires_at: DateTime<Utc>,
}

/// Why a challenge was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeFault {
    Unknown,
    Expired,
}

impl Challenges {
    /// From the shared secret (32 random bytes, hex).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            rng: SystemRandom::new(),
        }
    }

    /// A fresh secret for [`Challenges::new`].
    pub fn new_secret() -> Vec<u8> {
        let mut s = vec![0u8; 32];
        SystemRandom::new().fill(&mut s).expect("system randomness");
        s
    }

    fn mac(&self, nonce: &[u8], expiry: &[u8], institution: &str) -> [u8; MAC] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(nonce);
        ctx.update(expiry);
        ctx.update(institution.as_bytes());
        let tag = ctx.sign();
        tag.as_ref()[..MAC]
            .try_into()
            .expect("HMAC-SHA-256 is 32 bytes")
    }

    /// A new challenge for `institution`, valid until the returned time.
    pub fn issue(
        &self,
        institution: &str,
        now: DateTime<Utc>,
    ) -> ([u8; CHALLENGE_LEN], DateTime<Utc>) {
        let mut out = [0u8; CHALLENGE_LEN];
        self.rng.fill(&mut out[..NONCE]).expect("system randomness");
        let expires = now + chrono::Duration::seconds(CHALLENGE_LIFETIME_SECS);
        out[NONCE..NONCE + 8].copy_from_slice(&expires.timestamp().to_be_bytes());
        let mac = self.mac(&out[..NONCE], &out[NONCE..NONCE + 8], institution);
        out[NONCE + 8..].copy_from_slice(&mac);
        (out, expires)
    }

    /// Checks a challenge presented by `institution` at `now` (not whether it was spent).
    pub fn check(
        &self,
        challenge: &[u8],
        institution: &str,
        now: DateTime<Utc>,
    ) -> Result<ValidChallenge, ChallengeFault> {
        if challenge.len() != CHALLENGE_LEN {
            return Err(ChallengeFault::Unknown);
        }
        let (nonce, rest) = challenge.split_at(NONCE);
        let (expiry, mac) = rest.split_at(8);
        let expected = self.mac(nonce, expiry, institution);
        // Constant-time comparison of the tag.
        if aws_lc_rs::constant_time::verify_slices_are_equal(&expected, mac).is_err() {
            return Err(ChallengeFault::Unknown);
        }
        let secs = i64::from_be_bytes(expiry.try_into().expect("8 bytes"));
        let expires_at = DateTime::from_timestamp(secs, 0).ok_or(ChallengeFault::Unknown)?;
        if now > expires_at {
            return Err(ChallengeFault::Expired);
        }
        Ok(ValidChallenge {
            nonce_hex: crate::hex(nonce),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_check_and_refuse() {
        let c = Challenges::new(&Challenges::new_secret());
        let now = Utc::now();
        let (ch, exp) = c.issue("1310123453", now);
        let ok = c.check(&ch, "1310123453", now).unwrap();
        assert_eq!(ok.expires_at.timestamp(), exp.timestamp());
        assert_eq!(
            c.check(&ch, "1310123461", now),
            Err(ChallengeFault::Unknown),
            "another institution"
        );
        assert_eq!(
            c.check(&ch, "1310123453", exp + chrono::Duration::seconds(1)),
            Err(ChallengeFault::Expired)
        );
        let mut bad = ch;
        bad[3] ^= 1;
        assert_eq!(
            c.check(&bad, "1310123453", now),
            Err(ChallengeFault::Unknown),
            "tampered nonce"
        );
        let mut bad = ch;
        bad[NONCE + 2] ^= 1;
        assert_eq!(
            c.check(&bad, "1310123453", now),
            Err(ChallengeFault::Unknown),
            "extended expiry"
        );
        assert_eq!(
            c.check(&ch[..10], "1310123453", now),
            Err(ChallengeFault::Unknown)
        );
        let other = Challenges::new(&Challenges::new_secret());
        assert_eq!(
            other.check(&ch, "1310123453", now),
            Err(ChallengeFault::Unknown),
            "another center's key"
        );
    }
}
