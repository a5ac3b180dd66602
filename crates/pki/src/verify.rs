//! The verifier on the center's hot path: trusted CAs, revocations and a cache of
//! verified certificates.
//!
//! A first check of a certificate parses it, finds its CA by issuer name, verifies the
//! CA's signature and classifies it; the result is cached under the SHA-256 of the DER.
//! Every check, cached or not, then tests validity at the given time and looks the
//! (CA, serial) pair up in the revocation set, so a revocation takes effect on the next
//! call without any cache invalidation.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, ParsedPublicKey};
use chrono::{DateTime, Months, Utc};
use der::{Decode, Encode};
use x509_cert::TbsCertificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectAltName};

use crate::attrs::BasicAttributes;
use crate::crl::{RevocationReason, RevokedEntry, parse_crl, split_signed, to_chrono};
use crate::profile::{CaKind, CertKind, Serial, parse_jpki_attributes};
use crate::{PkiError, oid};

/// What the verifier accepts beyond the certificates themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustPolicy {
    /// How long after notAfter a card user-authentication certificate is still accepted
    /// (docs/reference.md §2: the center answers for certificates expired less than 3 months).
    /// Other kinds, smartphone certificates included, get no grace.
    pub card_auth_grace: Months,
    /// Verified certificates kept per cache generation (two generations are kept).
    pub cache_capacity: usize,
}

impl Default for TrustPolicy {
    fn default() -> Self {
        Self {
            card_auth_grace: Months::new(3),
            cache_capacity: 100_000,
        }
    }
}

/// A trusted CA as the verifier keeps it.
struct Anchor {
    kind: CaKind,
    name_der: Vec<u8>,
    key: ParsedPublicKey,
    crl_number: Option<u64>,
    crl_next_update: Option<DateTime<Utc>>,
}

/// Revocation state of one certificate.
#[derive(Debug, Clone, Copy)]
struct Revocation {
    revoked_at: DateTime<Utc>,
    reason: RevocationReason,
}

/// What the cache keeps about a certificate whose signature and profile were checked.
struct CertInfo {
    kind: CertKind,
    anchor: u32,
    ca_kind: CaKind,
    serial: Serial,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    accepted_until: DateTime<Utc>,
    subject: String,
    institution: Option<(String, String)>,
    attributes: Option<BasicAttributes>,
    spki: Vec<u8>,
    public_key: ParsedPublicKey,
    fingerprint: [u8; 32],
}

/// A certificate that passed [`TrustStore::verify`] at some time. Cheap to clone.
#[derive(Clone)]
pub struct VerifiedCert {
    info: Arc<CertInfo>,
    in_grace: bool,
}

impl std::fmt::Debug for VerifiedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedCert")
            .field("kind", &self.info.kind)
            .field("serial", &self.info.serial)
            .field("subject", &self.info.subject)
            .field("not_after", &self.info.not_after)
            .field("in_grace", &self.in_grace)
            .finish()
    }
}

impl VerifiedCert {
    /// The kind of certificate.
    pub fn kind(&self) -> CertKind {
        self.info.kind
    }
    /// The CA that issued it.
    pub fn issuer(&self) -> CaKind {
        self.info.ca_kind
    }
    /// Its serial number; with [`VerifiedCert::issuer`] the key the center links a
    /// person to.
    pub fn serial(&self) -> Serial {
        self.info.serial
    }
    /// notBefore.
    pub fn not_before(&self) -> DateTime<Utc> {
        self.info.not_before
    }
    /// notAfter.
    pub fn not_after(&self) -> DateTime<Utc> {
        self.info.not_after
    }
    /// True when the certificate had expired at the verification time but was accepted
    /// within the grace period.
    pub fn in_grace(&self) -> bool {
        self.in_grace
    }
    /// The subject, RFC 4514 string.
    pub fn subject(&self) -> &str {
        &self.info.subject
    }
    /// For a terminal certificate: the 10-digit 医療機関コード.
    pub fn institution_code(&self) -> Option<&str> {
        self.info.institution.as_ref().map(|(c, _)| c.as_str())
    }
    /// For a terminal certificate: the terminal id.
    pub fn terminal_id(&self) -> Option<&str> {
        self.info.institution.as_ref().map(|(_, t)| t.as_str())
    }
    /// For a signing certificate: the holder's 基本4情報.
    pub fn attributes(&self) -> Option<&BasicAttributes> {
        self.info.attributes.as_ref()
    }
    /// The subject public key, DER SubjectPublicKeyInfo.
    pub fn public_key_spki(&self) -> &[u8] {
        &self.info.spki
    }
    /// SHA-256 of the certificate DER.
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.info.fingerprint
    }
    /// Verifies a PKCS#1 v1.5 SHA-256 signature by the certificate's key over
    /// `message`, with the key parsed once and cached.
    pub fn verify_signature(&self, message: &[u8], sig: &[u8]) -> Result<(), PkiError> {
        self.info
            .public_key
            .verify_sig(message, sig)
            .map_err(|_| PkiError::BadSignature { what: "message" })
    }
    /// Verifies a card-style signature over a DER DigestInfo (SHA-256 or SHA-1).
    pub fn verify_digest_info_signature(
        &self,
        digest_info: &[u8],
        sig: &[u8],
    ) -> Result<(), PkiError> {
        crate::key::verify_digest_info_signature(&self.info.spki, digest_info, sig)
    }
}

/// Hasher for keys that are already SHA-256 digests: the first 8 bytes are the hash.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut b = [0u8; 8];
        let n = bytes.len().min(8);
        b[..n].copy_from_slice(&bytes[..n]);
        self.0 ^= u64::from_le_bytes(b);
    }
}

type DigestMap = HashMap<[u8; 32], Arc<CertInfo>, BuildHasherDefault<DigestHasher>>;

/// Two-generation cache: when `current` is full it becomes `previous` and a new
/// `current` starts; a hit in `previous` is promoted. Memory is bounded by twice the
/// capacity and entries in use survive.
#[derive(Default)]
struct Cache {
    current: DigestMap,
    previous: DigestMap,
}

/// Trusted CAs, loaded revocations and the verified-certificate cache. `Sync`: share
/// one behind an `Arc` across request handlers.
pub struct TrustStore {
    policy: TrustPolicy,
    anchors: RwLock<Vec<Anchor>>,
    revoked: RwLock<HashMap<(u32, Serial), Revocation>>,
    cache: RwLock<Cache>,
}

impl std::fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustStore")
            .field("policy", &self.policy)
            .field(
                "anchors",
                &self.anchors.read().map(|a| a.len()).unwrap_or(0),
            )
            .field(
                "revoked",
                &self.revoked.read().map(|r| r.len()).unwrap_or(0),
            )
            .finish()
    }
}

fn poisoned<T>(_: T) -> PkiError {
    PkiError::Key("trust store lock poisoned".into())
}

impl TrustStore {
    /// An empty trust store.
    pub fn new(policy: TrustPolicy) -> Self {
        Self {
            policy,
            anchors: RwLock::new(Vec::new()),
            revoked: RwLock::new(HashMap::new()),
            cache: RwLock::new(Cache::default()),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> TrustPolicy {
        self.policy
    }

    /// Trusts the CA certificate `cert_der` as the CA `kind`. The certificate must be
    /// self-signed with a valid signature and have the subject of that kind of CA.
    pub fn add_ca(&self, kind: CaKind, cert_der: &[u8]) -> Result<(), PkiError> {
        let (tbs_bytes, sig) = split_signed(cert_der, "CA certificate")?;
        let tbs = TbsCertificate::from_der(tbs_bytes).map_err(PkiError::der("CA certificate"))?;
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(PkiError::der("CA certificate"))?;
        let key = ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &spki)
            .map_err(|e| PkiError::Key(e.to_string()))?;
        key.verify_sig(tbs_bytes, sig)
            .map_err(|_| PkiError::BadSignature {
                what: "CA certificate",
            })?;
        if tbs.subject() != &kind.name() {
            return Err(PkiError::malformed(
                "CA certificate",
                format!("subject {} is not the {kind:?} CA", tbs.subject()),
            ));
        }
        let name_der = tbs
            .subject()
            .to_der()
            .map_err(PkiError::der("CA certificate"))?;
        let mut anchors = self.anchors.write().map_err(poisoned)?;
        if anchors.iter().any(|a| a.name_der == name_der) {
            return Err(PkiError::InvalidInput {
                field: "CA certificate",
                reason: format!("a {kind:?} CA is already trusted"),
            });
        }
        anchors.push(Anchor {
            kind,
            name_der,
            key,
            crl_number: None,
            crl_next_update: None,
        });
        Ok(())
    }

    fn anchor_index(&self, kind: CaKind) -> Result<u32, PkiError> {
        let anchors = self.anchors.read().map_err(poisoned)?;
        anchors
            .iter()
            .position(|a| a.kind == kind)
            .map(|i| i as u32)
            .ok_or_else(|| PkiError::UnknownIssuer {
                issuer: kind.subject().to_string(),
            })
    }

    /// Loads a CRL: checks its signature by a trusted CA and replaces that CA's
    /// revocations with its entries. A CRL with a lower cRLNumber than the one loaded
    /// before is rejected. Returns the number of entries.
    pub fn load_crl(&self, crl_der: &[u8]) -> Result<usize, PkiError> {
        let crl = parse_crl(crl_der)?;
        let idx = {
            let mut anchors = self.anchors.write().map_err(poisoned)?;
            let (idx, anchor) = anchors
                .iter_mut()
                .enumerate()
                .find(|(_, a)| a.name_der == crl.issuer_der)
                .ok_or_else(|| PkiError::UnknownIssuer {
                    issuer: x509_cert::name::Name::from_der(&crl.issuer_der)
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                })?;
            anchor
                .key
                .verify_sig(crl.tbs, crl.signature)
                .map_err(|_| PkiError::BadSignature { what: "crl" })?;
            if let (Some(old), Some(new)) = (anchor.crl_number, crl.crl_number)
                && new < old
            {
                return Err(PkiError::malformed(
                    "CRL",
                    format!("cRLNumber {new} is older than the loaded {old}"),
                ));
            }
            anchor.crl_number = crl.crl_number;
            anchor.crl_next_update = crl.next_update;
            idx as u32
        };
        self.replace_revocations(idx, &crl.entries)?;
        Ok(crl.entries.len())
    }

    /// Replaces the revocations of CA `kind` with `entries` (the in-process
    /// alternative to [`TrustStore::load_crl`]).
    pub fn set_revocations(&self, kind: CaKind, entries: &[RevokedEntry]) -> Result<(), PkiError> {
        let idx = self.anchor_index(kind)?;
        self.replace_revocations(idx, entries)
    }

    fn replace_revocations(&self, idx: u32, entries: &[RevokedEntry]) -> Result<(), PkiError> {
        let mut revoked = self.revoked.write().map_err(poisoned)?;
        revoked.retain(|(i, _), _| *i != idx);
        for e in entries {
            revoked.insert(
                (idx, e.serial),
                Revocation {
                    revoked_at: e.revoked_at,
                    reason: e.reason,
                },
            );
        }
        Ok(())
    }

    /// Adds one revocation of a certificate issued by CA `kind`.
    pub fn revoke(&self, kind: CaKind, entry: RevokedEntry) -> Result<(), PkiError> {
        let idx = self.anchor_index(kind)?;
        self.revoked.write().map_err(poisoned)?.insert(
            (idx, entry.serial),
            Revocation {
                revoked_at: entry.revoked_at,
                reason: entry.reason,
            },
        );
        Ok(())
    }

    /// Lifts a revocation (a released certificateHold). Returns whether one existed.
    pub fn unrevoke(&self, kind: CaKind, serial: Serial) -> Result<bool, PkiError> {
        let idx = self.anchor_index(kind)?;
        Ok(self
            .revoked
            .write()
            .map_err(poisoned)?
            .remove(&(idx, serial))
            .is_some())
    }

    /// nextUpdate of the last CRL loaded for CA `kind`, so the caller can refresh it.
    pub fn crl_next_update(&self, kind: CaKind) -> Option<DateTime<Utc>> {
        let anchors = self.anchors.read().ok()?;
        anchors.iter().find(|a| a.kind == kind)?.crl_next_update
    }

    /// Number of cached verified certificates.
    pub fn cached(&self) -> usize {
        self.cache
            .read()
            .map(|c| c.current.len() + c.previous.len())
            .unwrap_or(0)
    }

    /// Verifies `cert_der` at time `at`: issued and signed by a trusted CA, a valid
    /// end-entity of onshi's profile, within its validity (plus the grace period of its
    /// kind) and not revoked.
    pub fn verify(&self, cert_der: &[u8], at: DateTime<Utc>) -> Result<VerifiedCert, PkiError> {
        let fp: [u8; 32] = digest::digest(&digest::SHA256, cert_der)
            .as_ref()
            .try_into()
            .expect("SHA-256 is 32 bytes");
        let info = match self.cache_get(&fp)? {
            Some(info) => info,
            None => {
                let info = Arc::new(self.verify_uncached(cert_der, fp)?);
                self.cache_put(fp, info.clone())?;
                info
            }
        };
        self.check_time_and_revocation(info, at)
    }

    /// As [`TrustStore::verify`], and the certificate must be one of `accept`.
    pub fn verify_kind(
        &self,
        cert_der: &[u8],
        at: DateTime<Utc>,
        accept: &[CertKind],
    ) -> Result<VerifiedCert, PkiError> {
        let v = self.verify(cert_der, at)?;
        if accept.contains(&v.kind()) {
            Ok(v)
        } else {
            Err(PkiError::WrongKind {
                expected: accept.to_vec(),
                actual: v.kind(),
            })
        }
    }

    fn cache_get(&self, fp: &[u8; 32]) -> Result<Option<Arc<CertInfo>>, PkiError> {
        {
            let cache = self.cache.read().map_err(poisoned)?;
            if let Some(i) = cache.current.get(fp) {
                return Ok(Some(i.clone()));
            }
            if !cache.previous.contains_key(fp) {
                return Ok(None);
            }
        }
        let mut cache = self.cache.write().map_err(poisoned)?;
        let Some(info) = cache.previous.remove(fp) else {
            return Ok(cache.current.get(fp).cloned());
        };
        self.insert_locked(&mut cache, *fp, info.clone());
        Ok(Some(info))
    }

    fn cache_put(&self, fp: [u8; 32], info: Arc<CertInfo>) -> Result<(), PkiError> {
        let mut cache = self.cache.write().map_err(poisoned)?;
        self.insert_locked(&mut cache, fp, info);
        Ok(())
    }

    fn insert_locked(&self, cache: &mut Cache, fp: [u8; 32], info: Arc<CertInfo>) {
        if self.policy.cache_capacity == 0 {
            return;
        }
        if cache.current.len() >= self.policy.cache_capacity {
            cache.previous = std::mem::take(&mut cache.current);
        }
        cache.current.insert(fp, info);
    }

    fn check_time_and_revocation(
        &self,
        info: Arc<CertInfo>,
        at: DateTime<Utc>,
    ) -> Result<VerifiedCert, PkiError> {
        if let Some(r) = self
            .revoked
            .read()
            .map_err(poisoned)?
            .get(&(info.anchor, info.serial))
            && r.revoked_at <= at
        {
            return Err(PkiError::Revoked {
                reason: r.reason,
                revoked_at: r.revoked_at,
            });
        }
        if at < info.not_before {
            return Err(PkiError::NotYetValid {
                not_before: info.not_before,
            });
        }
        if at > info.accepted_until {
            return Err(PkiError::Expired {
                not_after: info.not_after,
                accepted_until: info.accepted_until,
            });
        }
        let in_grace = at > info.not_after;
        Ok(VerifiedCert { info, in_grace })
    }

    /// The expensive part: parse, find the CA, check its signature, classify.
    fn verify_uncached(
        &self,
        cert_der: &[u8],
        fingerprint: [u8; 32],
    ) -> Result<CertInfo, PkiError> {
        let (tbs_bytes, sig) = split_signed(cert_der, "certificate")?;
        let tbs = TbsCertificate::from_der(tbs_bytes).map_err(PkiError::der("certificate"))?;
        if tbs.signature().oid != oid::SHA256_WITH_RSA {
            return Err(PkiError::malformed(
                "certificate",
                "inner and outer signature algorithms differ",
            ));
        }
        let issuer_der = tbs
            .issuer()
            .to_der()
            .map_err(PkiError::der("certificate"))?;
        let (anchor, ca_kind) = {
            let anchors = self.anchors.read().map_err(poisoned)?;
            let (idx, a) = anchors
                .iter()
                .enumerate()
                .find(|(_, a)| a.name_der == issuer_der)
                .ok_or_else(|| PkiError::UnknownIssuer {
                    issuer: tbs.issuer().to_string(),
                })?;
            a.key
                .verify_sig(tbs_bytes, sig)
                .map_err(|_| PkiError::BadSignature {
                    what: "certificate",
                })?;
            (idx as u32, a.kind)
        };
        if let Some((_, bc)) = tbs
            .get_extension::<BasicConstraints>()
            .map_err(PkiError::der("basicConstraints"))?
            && bc.ca
        {
            return Err(PkiError::malformed(
                "certificate",
                "a CA certificate is not an end entity",
            ));
        }
        let kind = match ca_kind {
            CaKind::CardAuth => CertKind::CardAuth,
            CaKind::CardSigning => CertKind::CardSigning,
            CaKind::PhoneAuth => CertKind::PhoneAuth,
            CaKind::PhoneSigning => CertKind::PhoneSigning,
            CaKind::Institution => {
                let eku = tbs
                    .get_extension::<ExtendedKeyUsage>()
                    .map_err(PkiError::der("extKeyUsage"))?
                    .map(|(_, e)| e.0)
                    .unwrap_or_default();
                if eku.contains(&oid::KP_CLIENT_AUTH) {
                    CertKind::Terminal
                } else if eku.contains(&oid::KP_SERVER_AUTH) {
                    CertKind::Server
                } else {
                    return Err(PkiError::malformed(
                        "certificate",
                        "institution certificate without EKU",
                    ));
                }
            }
        };
        let attributes = match kind {
            CertKind::CardSigning | CertKind::PhoneSigning => {
                let (_, san) = tbs
                    .get_extension::<SubjectAltName>()
                    .map_err(PkiError::der("subjectAltName"))?
                    .ok_or_else(|| {
                        PkiError::malformed("signing certificate", "no subjectAltName")
                    })?;
                Some(parse_jpki_attributes(&san)?)
            }
            _ => None,
        };
        let institution = if kind == CertKind::Terminal {
            let dir = |r: der::Result<Option<x509_cert::ext::pkix::name::DirectoryString>>| {
                r.ok().flatten().map(|d| d.value().into_owned())
            };
            let code = dir(tbs.subject().organization_unit()).ok_or_else(|| {
                PkiError::malformed("terminal certificate", "no institution code")
            })?;
            let term = dir(tbs.subject().common_name())
                .ok_or_else(|| PkiError::malformed("terminal certificate", "no terminal id"))?;
            Some((code, term))
        } else {
            None
        };
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(PkiError::der("certificate"))?;
        let public_key = ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &spki)
            .map_err(|e| PkiError::malformed("subject public key", e))?;
        let not_before = to_chrono(&tbs.validity().not_before);
        let not_after = to_chrono(&tbs.validity().not_after);
        let accepted_until = if kind.has_expiry_grace() {
            not_after
                .checked_add_months(self.policy.card_auth_grace)
                .unwrap_or(not_after)
        } else {
            not_after
        };
        Ok(CertInfo {
            kind,
            anchor,
            ca_kind,
            serial: Serial::from_bytes(tbs.serial_number().as_bytes())?,
            not_before,
            not_after,
            accepted_until,
            subject: tbs.subject().to_string(),
            institution,
            attributes,
            spki,
            public_key,
            fingerprint,
        })
    }
}
