//! The My Number Card's applications, files and PIN rules.
//!
//! Facts from J-LIS public material and open-source JPKI clients (OpenSC's `jpki` driver);
//! values marked *onshi design* are not published and were chosen here (see `docs/card.md`).

/// Answer-to-reset matched by OpenSC's JPKI driver (`card-jpki.c`).
pub const ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

/// The three applications of the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ap {
    /// 公的個人認証AP: user-authentication and signing keys and certificates.
    Jpki,
    /// 券面事項入力補助AP: My Number and the 4 basic attributes as text.
    InputSupport,
    /// 券面事項確認AP: the card face as signed images.
    CardFace,
}

impl Ap {
    /// All applications.
    pub const ALL: [Ap; 3] = [Ap::Jpki, Ap::InputSupport, Ap::CardFace];

    /// The application identifier selected with `00 A4 04 0C`.
    pub fn aid(self) -> &'static [u8] {
        match self {
            Ap::Jpki => &AID_JPKI,
            Ap::InputSupport => &AID_INPUT_SUPPORT,
            Ap::CardFace => &AID_CARD_FACE,
        }
    }

    /// The application with this AID.
    pub fn from_aid(aid: &[u8]) -> Option<Ap> {
        Ap::ALL.into_iter().find(|ap| ap.aid() == aid)
    }
}

/// JPKI AP AID (J-LIS).
pub const AID_JPKI: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
/// 券面事項入力補助AP AID (J-LIS).
pub const AID_INPUT_SUPPORT: [u8; 10] =
    [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
/// 券面事項確認AP AID (J-LIS).
pub const AID_CARD_FACE: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02];

/// Elementary-file identifiers of the JPKI AP.
pub mod jpki {
    /// Signing certificate (署名用電子証明書), readable after the signing-password VERIFY.
    pub const EF_SIGN_CERT: u16 = 0x0001;
    /// Signing CA certificate, free.
    pub const EF_SIGN_CA_CERT: u16 = 0x0002;
    /// Token information, 32 bytes ASCII space-padded, free.
    pub const EF_TOKEN_INFO: u16 = 0x0006;
    /// User-authentication certificate (利用者証明用電子証明書), free on a card.
    pub const EF_AUTH_CERT: u16 = 0x000A;
    /// User-authentication CA certificate, free.
    pub const EF_AUTH_CA_CERT: u16 = 0x000B;
    /// User-authentication private key (RSA-2048): SIGN after the PIN.
    pub const EF_AUTH_KEY: u16 = 0x0017;
    /// User-authentication PIN (4 digits, 3 tries).
    pub const EF_AUTH_PIN: u16 = 0x0018;
    /// Signing private key (RSA-2048): SIGN after the password.
    pub const EF_SIGN_KEY: u16 = 0x001A;
    /// Signing password (6-16 of A-Z 0-9, 5 tries).
    pub const EF_SIGN_PIN: u16 = 0x001B;
    /// Token information of a physical card.
    pub const TOKEN_CARD: &str = "JPKIAPICCTOKEN2";
    /// Token information of the Android phone applet.
    pub const TOKEN_ANDROID: &str = "JPKIAPGPSETOKEN";
    /// Length of EF 0006.
    pub const TOKEN_LEN: usize = 32;
}

/// Elementary-file identifiers of the 券面事項入力補助AP.
pub mod input_support {
    /// My Number, 12 ASCII digits in a small TLV.
    pub const EF_MY_NUMBER: u16 = 0x0001;
    /// The 4 basic attributes (outer tag `FF 20`).
    pub const EF_ATTRIBUTES: u16 = 0x0002;
    /// Hashes of EF 0001 and EF 0002 and J-LIS's signature over them.
    pub const EF_SIGNATURE: u16 = 0x0003;
    /// 券面事項入力補助用暗証番号 (4 digits, 3 tries).
    pub const EF_PIN: u16 = 0x0011;
}

/// Elementary-file identifiers of the 券面事項確認AP.
pub mod card_face {
    /// The card face: birth date, sex, public key, images, signature, expiry.
    pub const EF_FACE: u16 = 0x0002;
    /// 照合番号A (the My Number, 12 digits). *onshi design*: the EF id is not published.
    pub const EF_MATCH_A: u16 = 0x0012;
    /// 照合番号B (birth YYMMDD + expiry year + security code, 14 digits).
    /// *onshi design*: the EF id is not published.
    pub const EF_MATCH_B: u16 = 0x0013;
}

/// The character set a PIN may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// `0`-`9`.
    Digits,
    /// `A`-`Z` and `0`-`9` (clients upper-case what the holder types).
    UpperAlnum,
}

/// Length, alphabet and retry limit of one PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinPolicy {
    /// Shortest accepted value.
    pub min_len: usize,
    /// Longest accepted value.
    pub max_len: usize,
    /// Alphabet.
    pub charset: Charset,
    /// Wrong entries before the PIN blocks; `None` for a code without a counter.
    pub max_tries: Option<u8>,
}

impl PinPolicy {
    /// 利用者証明用パスワード: 4 digits, 3 tries.
    pub const AUTH: Self = Self {
        min_len: 4,
        max_len: 4,
        charset: Charset::Digits,
        max_tries: Some(3),
    };
    /// 署名用パスワード: 6-16 characters of A-Z 0-9, 5 tries.
    pub const SIGN: Self = Self {
        min_len: 6,
        max_len: 16,
        charset: Charset::UpperAlnum,
        max_tries: Some(5),
    };
    /// 券面事項入力補助用暗証番号: 4 digits, 3 tries.
    pub const INPUT_SUPPORT: Self = Self {
        min_len: 4,
        max_len: 4,
        charset: Charset::Digits,
        max_tries: Some(3),
    };
    /// 照合番号A: the 12-digit My Number. *onshi design*: no retry counter (unpublished).
    pub const MATCH_A: Self = Self {
        min_len: 12,
        max_len: 12,
        charset: Charset::Digits,
        max_tries: None,
    };
    /// 照合番号B: 14 digits. *onshi design*: no retry counter (unpublished).
    pub const MATCH_B: Self = Self {
        min_len: 14,
        max_len: 14,
        charset: Charset::Digits,
        max_tries: None,
    };

    /// Whether `value` has an allowed length and alphabet.
    pub fn accepts(&self, value: &[u8]) -> bool {
        (self.min_len..=self.max_len).contains(&value.len())
            && value.iter().all(|b| match self.charset {
                Charset::Digits => b.is_ascii_digit(),
                Charset::UpperAlnum => b.is_ascii_digit() || b.is_ascii_uppercase(),
            })
    }
}

/// One of the card's reference data (PINs and matching codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinRef {
    /// JPKI user-authentication PIN, EF 0018.
    Auth,
    /// JPKI signing password, EF 001B.
    Sign,
    /// Input-support PIN, EF 0011.
    InputSupport,
    /// Card-face 照合番号A.
    MatchA,
    /// Card-face 照合番号B.
    MatchB,
}

impl PinRef {
    /// All references.
    pub const ALL: [PinRef; 5] = [
        PinRef::Auth,
        PinRef::Sign,
        PinRef::InputSupport,
        PinRef::MatchA,
        PinRef::MatchB,
    ];

    /// The application holding it.
    pub fn ap(self) -> Ap {
        match self {
            PinRef::Auth | PinRef::Sign => Ap::Jpki,
            PinRef::InputSupport => Ap::InputSupport,
            PinRef::MatchA | PinRef::MatchB => Ap::CardFace,
        }
    }

    /// Its EF id, selected before VERIFY.
    pub fn ef(self) -> u16 {
        match self {
            PinRef::Auth => jpki::EF_AUTH_PIN,
            PinRef::Sign => jpki::EF_SIGN_PIN,
            PinRef::InputSupport => input_support::EF_PIN,
            PinRef::MatchA => card_face::EF_MATCH_A,
            PinRef::MatchB => card_face::EF_MATCH_B,
        }
    }

    /// Its rules.
    pub fn policy(self) -> PinPolicy {
        match self {
            PinRef::Auth => PinPolicy::AUTH,
            PinRef::Sign => PinPolicy::SIGN,
            PinRef::InputSupport => PinPolicy::INPUT_SUPPORT,
            PinRef::MatchA => PinPolicy::MATCH_A,
            PinRef::MatchB => PinPolicy::MATCH_B,
        }
    }

    /// The reference held in `ap`'s EF `ef`, if that EF is a PIN EF.
    pub fn from_ef(ap: Ap, ef: u16) -> Option<PinRef> {
        PinRef::ALL
            .into_iter()
            .find(|r| r.ap() == ap && r.ef() == ef)
    }
}

/// The two JPKI private keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRef {
    /// User-authentication key, EF 0017, unlocked by [`PinRef::Auth`].
    Auth,
    /// Signing key, EF 001A, unlocked by [`PinRef::Sign`].
    Sign,
}

impl KeyRef {
    /// Its EF id, selected before SIGN.
    pub fn ef(self) -> u16 {
        match self {
            KeyRef::Auth => jpki::EF_AUTH_KEY,
            KeyRef::Sign => jpki::EF_SIGN_KEY,
        }
    }

    /// The PIN that unlocks it.
    pub fn pin(self) -> PinRef {
        match self {
            KeyRef::Auth => PinRef::Auth,
            KeyRef::Sign => PinRef::Sign,
        }
    }

    /// The key held in JPKI EF `ef`.
    pub fn from_ef(ef: u16) -> Option<KeyRef> {
        [KeyRef::Auth, KeyRef::Sign]
            .into_iter()
            .find(|k| k.ef() == ef)
    }
}

/// The four certificates of the JPKI AP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertRef {
    /// User-authentication certificate, EF 000A (PKCS#15 id 01 in OpenSC).
    Auth,
    /// Signing certificate, EF 0001 (id 02).
    Sign,
    /// User-authentication CA, EF 000B (id 03).
    AuthCa,
    /// Signing CA, EF 0002 (id 04).
    SignCa,
}

impl CertRef {
    /// Its EF id.
    pub fn ef(self) -> u16 {
        match self {
            CertRef::Auth => jpki::EF_AUTH_CERT,
            CertRef::Sign => jpki::EF_SIGN_CERT,
            CertRef::AuthCa => jpki::EF_AUTH_CA_CERT,
            CertRef::SignCa => jpki::EF_SIGN_CA_CERT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_policies_match_the_card() {
        assert!(PinPolicy::AUTH.accepts(b"1234"));
        assert!(!PinPolicy::AUTH.accepts(b"123"));
        assert!(!PinPolicy::AUTH.accepts(b"12a4"));
        assert!(PinPolicy::SIGN.accepts(b"ABC123"));
        assert!(PinPolicy::SIGN.accepts(b"ABCDEFGHIJ123456"));
        assert!(!PinPolicy::SIGN.accepts(b"abc123"));
        assert!(!PinPolicy::SIGN.accepts(b"ABCDEFGHIJ1234567"));
        assert!(!PinPolicy::SIGN.accepts(b"ABC12"));
        assert_eq!(PinPolicy::SIGN.max_tries, Some(5));
    }

    #[test]
    fn lookups() {
        assert_eq!(Ap::from_aid(&AID_JPKI), Some(Ap::Jpki));
        assert_eq!(Ap::from_aid(&AID_JPKI[..9]), None);
        assert_eq!(PinRef::from_ef(Ap::Jpki, 0x0018), Some(PinRef::Auth));
        assert_eq!(PinRef::from_ef(Ap::InputSupport, 0x0018), None);
        assert_eq!(KeyRef::from_ef(0x001A), Some(KeyRef::Sign));
    }
}
