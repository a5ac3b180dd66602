//! The set of onshi CAs with a persistent state directory, so that issuance continues
//! across runs of the command-line tool.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::ca::{CertificateAuthority, IssuedCert, IssuedKeyPair};
use crate::crl::RevokedEntry;
use crate::key::{KeyStore, SoftwareKeyStore};
use crate::profile::CaKind;
use crate::verify::{TrustPolicy, TrustStore};
use crate::{BasicAttributes, PkiError};

/// Name of the counters file inside the state directory.
const STATE_FILE: &str = "state.txt";

/// J-LIS and the center's institution CA: all five CAs of onshi.
///
/// State directory layout: `keys/<label>-ca.pk8` (PKCS#8, mode 0600, when the software
/// key store is used), `<label>-ca.der` and `<label>-ca.pem` (CA certificates) and
/// `state.txt` (one line `<label> <next serial> <next CRL number>` per CA, replaced
/// atomically after every issuance). One process at a time may write a directory.
#[derive(Debug)]
pub struct Jlis {
    dir: PathBuf,
    cas: BTreeMap<CaKind, CertificateAuthority>,
    crl_numbers: BTreeMap<CaKind, u64>,
}

impl Jlis {
    /// Opens the CAs in `dir`, creating any that are missing (keys in `dir/keys`).
    /// `now` dates newly created CA certificates; `crl_base_url` is written into issued
    /// certificates' CRL distribution points.
    pub fn load_or_create(
        dir: impl AsRef<Path>,
        now: DateTime<Utc>,
        crl_base_url: Option<&str>,
    ) -> Result<Self, PkiError> {
        let dir = dir.as_ref();
        let store = SoftwareKeyStore::new(dir.join("keys"));
        Self::load_or_create_with(dir, &store, now, crl_base_url)
    }

    /// As [`Jlis::load_or_create`], with CA keys from `store` (for example PKCS#11).
    pub fn load_or_create_with(
        dir: impl AsRef<Path>,
        store: &dyn KeyStore,
        now: DateTime<Utc>,
        crl_base_url: Option<&str>,
    ) -> Result<Self, PkiError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(PkiError::io(&dir))?;
        let counters = read_state(&dir)?;
        let mut cas = BTreeMap::new();
        let mut crl_numbers = BTreeMap::new();
        for kind in CaKind::ALL {
            let signer = store.load_or_generate(&format!("{}-ca", kind.label()))?;
            let cert_path = dir.join(format!("{}-ca.der", kind.label()));
            let (next_serial, next_crl) = counters.get(&kind).copied().unwrap_or((2, 1));
            let ca = match std::fs::read(&cert_path) {
                Ok(der) => {
                    CertificateAuthority::from_parts(kind, signer, der, next_serial, crl_base_url)?
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let ca = CertificateAuthority::create(kind, signer, now, crl_base_url)?;
                    write_atomic(&cert_path, ca.cert_der())?;
                    write_atomic(&cert_path.with_extension("pem"), ca.cert_pem().as_bytes())?;
                    ca
                }
                Err(e) => return Err(PkiError::io(&cert_path)(e)),
            };
            cas.insert(kind, ca);
            crl_numbers.insert(kind, next_crl);
        }
        let jlis = Self {
            dir,
            cas,
            crl_numbers,
        };
        jlis.save()?;
        Ok(jlis)
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One CA.
    pub fn ca(&self, kind: CaKind) -> &CertificateAuthority {
        &self.cas[&kind]
    }

    /// Path of a CA's PEM certificate in the state directory.
    pub fn ca_pem_path(&self, kind: CaKind) -> PathBuf {
        self.dir.join(format!("{}-ca.pem", kind.label()))
    }

    /// A trust store that trusts all five CAs, with no revocations loaded.
    pub fn trust_store(&self, policy: TrustPolicy) -> Result<TrustStore, PkiError> {
        let store = TrustStore::new(policy);
        for ca in self.cas.values() {
            store.add_ca(ca.kind(), ca.cert_der())?;
        }
        Ok(store)
    }

    pub(crate) fn with_ca<T>(
        &mut self,
        kind: CaKind,
        f: impl FnOnce(&mut CertificateAuthority) -> Result<T, PkiError>,
    ) -> Result<T, PkiError> {
        let ca = self.cas.get_mut(&kind).expect("all kinds present");
        let out = f(ca)?;
        self.save()?;
        Ok(out)
    }

    /// Issues a user-authentication certificate from the card (`CaKind::CardAuth`) or
    /// phone (`CaKind::PhoneAuth`) CA.
    pub fn issue_auth(
        &mut self,
        kind: CaKind,
        spki_der: &[u8],
        birth_date: NaiveDate,
        issued_at: DateTime<Utc>,
    ) -> Result<IssuedCert, PkiError> {
        self.with_ca(kind, |ca| ca.issue_auth(spki_der, birth_date, issued_at))
    }

    /// Issues a signing certificate from the card or phone signing CA.
    pub fn issue_signing(
        &mut self,
        kind: CaKind,
        spki_der: &[u8],
        attributes: &BasicAttributes,
        issued_at: DateTime<Utc>,
    ) -> Result<IssuedCert, PkiError> {
        self.with_ca(kind, |ca| ca.issue_signing(spki_der, attributes, issued_at))
    }

    /// Issues a terminal TLS client certificate with a new key.
    pub fn issue_terminal_with_key(
        &mut self,
        institution_code: &str,
        terminal_id: &str,
        issued_at: DateTime<Utc>,
    ) -> Result<IssuedKeyPair, PkiError> {
        self.with_ca(CaKind::Institution, |ca| {
            ca.issue_terminal_with_key(institution_code, terminal_id, issued_at)
        })
    }

    /// Issues a center TLS server certificate with a new key.
    pub fn issue_server_with_key(
        &mut self,
        dns_names: &[&str],
        ips: &[std::net::IpAddr],
        issued_at: DateTime<Utc>,
    ) -> Result<IssuedKeyPair, PkiError> {
        self.with_ca(CaKind::Institution, |ca| {
            ca.issue_server_with_key(dns_names, ips, issued_at)
        })
    }

    /// Builds the next CRL of `kind` from the caller's revocation list, valid from
    /// `now` until `now + validity`, with the next CRL number.
    pub fn build_crl(
        &mut self,
        kind: CaKind,
        revoked: &[RevokedEntry],
        now: DateTime<Utc>,
        validity: Duration,
    ) -> Result<Vec<u8>, PkiError> {
        let number = self.crl_numbers[&kind];
        let crl = self.cas[&kind].build_crl(revoked, now, now + validity, number)?;
        self.crl_numbers.insert(kind, number + 1);
        self.save()?;
        Ok(crl)
    }

    fn save(&self) -> Result<(), PkiError> {
        let mut s = String::new();
        for (kind, ca) in &self.cas {
            s.push_str(&format!(
                "{} {} {}\n",
                kind.label(),
                ca.next_serial(),
                self.crl_numbers[kind]
            ));
        }
        write_atomic(&self.dir.join(STATE_FILE), s.as_bytes())
    }
}

fn read_state(dir: &Path) -> Result<BTreeMap<CaKind, (u64, u64)>, PkiError> {
    let path = dir.join(STATE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(PkiError::io(&path)(e)),
    };
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let bad = || PkiError::malformed("CA state file", format!("line {line:?}"));
        let mut parts = line.split_whitespace();
        let label = parts.next().ok_or_else(bad)?;
        let kind = CaKind::ALL
            .into_iter()
            .find(|k| k.label() == label)
            .ok_or_else(bad)?;
        let serial = parts.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let crl = parts.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        out.insert(kind, (serial, crl));
    }
    Ok(out)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PkiError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(PkiError::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(PkiError::io(path))
}
