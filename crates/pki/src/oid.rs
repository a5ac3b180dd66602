//! Object identifiers and fixed names of the JPKI profile, each named once.
//!
//! Sources: the J-LIS JPKI certificate profile as summarised in the project reference
//! (§2 "Certificates"), RFC 5280 and RFC 8017. Identifiers that the reference marks as
//! unknown are onshi's own design and say so.

use const_oid::ObjectIdentifier;

/// `sha256WithRSAEncryption` (RFC 8017 Appendix A.2.4): the only certificate and CRL
/// signature algorithm of the JPKI profile.
pub const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// `rsaEncryption` (RFC 8017 Appendix A.1): the SubjectPublicKeyInfo algorithm of every
/// key in the profile (RSA-2048).
pub const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// JPKI signing-certificate SubjectAltName otherName: 氏名 (name), UTF8String.
pub const JPKI_ATTR_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.1");
/// JPKI otherName: 氏名代替文字 (substitute characters for the name), UTF8String.
pub const JPKI_ATTR_NAME_SUBSTITUTE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.2");
/// JPKI otherName: 性別 (sex, ISO 5218 digit), UTF8String.
pub const JPKI_ATTR_SEX: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.3");
/// JPKI otherName: 生年月日 (birth date: era digit + YYYYMMDD), UTF8String.
pub const JPKI_ATTR_BIRTH_DATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.4");
/// JPKI otherName: 住所 (address), UTF8String.
pub const JPKI_ATTR_ADDRESS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.5");
/// JPKI otherName: 住所代替文字 (substitute characters for the address), UTF8String.
pub const JPKI_ATTR_ADDRESS_SUBSTITUTE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.6");

/// Certificate policy of JPKI signing certificates (署名用電子証明書).
pub const JPKI_POLICY_SIGNING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.1.1");
/// Certificate policy of JPKI user-authentication certificates (利用者証明用電子証明書).
pub const JPKI_POLICY_AUTH: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.1.3");

/// Extended key usage `id-kp-serverAuth` (RFC 5280 §4.2.1.12).
pub const KP_SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
/// Extended key usage `id-kp-clientAuth` (RFC 5280 §4.2.1.12).
pub const KP_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");

/// Subject of the user-authentication CA (docs/reference.md §2), RFC 4514 order (most specific
/// first): `C=JP, O=JPKI, OU=JPKI for user authentication, OU=Japan Agency for Local
/// Authority Information Systems`.
pub const NAME_AUTH_CA: &str = "OU=Japan Agency for Local Authority Information Systems,\
OU=JPKI for user authentication,O=JPKI,C=JP";
/// Subject of the digital-signature CA (docs/reference.md §2).
pub const NAME_SIGNING_CA: &str = "OU=Japan Agency for Local Authority Information Systems,\
OU=JPKI for digital signature,O=JPKI,C=JP";
/// Subject of the smartphone user-authentication CA. The real name is not published:
/// onshi's design keeps the J-LIS layout and says "smartphone" in the service OU.
pub const NAME_PHONE_AUTH_CA: &str = "OU=Japan Agency for Local Authority Information Systems,\
OU=JPKI for smartphone user authentication,O=JPKI,C=JP";
/// Subject of the smartphone digital-signature CA (onshi's design, as above).
pub const NAME_PHONE_SIGNING_CA: &str = "OU=Japan Agency for Local Authority Information Systems,\
OU=JPKI for smartphone digital signature,O=JPKI,C=JP";
/// Subject of the center's institution CA, which issues TLS certificates to clinic
/// terminals and to the center itself (onshi's design).
pub const NAME_INSTITUTION_CA: &str =
    "CN=onshi Institution CA,OU=Online Qualification Confirmation,O=onshi,C=JP";
/// Organization of terminal and server certificates issued by the institution CA.
pub const INSTITUTION_ORG: &str = "onshi";
