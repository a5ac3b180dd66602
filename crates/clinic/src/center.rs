//! The terminal's side of the center: [`CenterClient`] speaks HTTPS with mutual TLS (the
//! terminal's own institution certificate), maps every problem+json answer to a
//! [`ProblemCode`], and keeps "the center did not answer" apart as
//! [`CenterError::Unreachable`]. [`Center`] is the blocking view the reception flow uses.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::wire::{
    CardCheck, CardCheckRequest, Challenge, HistoryKind, LinkRequest, Linked, Problem,
};

/// The codes the center answers in problem+json that the terminal acts on. Unknown codes
/// are kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemCode {
    ChallengeUnknown,
    ChallengeExpired,
    ChallengeReplayed,
    SignatureInvalid,
    CertificateInvalid,
    CertificateExpired,
    CertificateRevoked,
    CardNotLinked,
    InstitutionMismatch,
    TerminalRevoked,
    InvalidField,
    MalformedBody,
    InstitutionNotRegistered,
    InstitutionInactive,
    ClientCertificateRequired,
    FaceEvidenceInsufficient,
    ConsentMissing,
    ConsentExpired,
    NotFound,
    Internal,
    /// A code this terminal does not know.
    Other(String),
}

impl ProblemCode {
    /// The `code` member as the center writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ChallengeUnknown => "challenge_unknown",
            Self::ChallengeExpired => "challenge_expired",
            Self::ChallengeReplayed => "challenge_replayed",
            Self::SignatureInvalid => "signature_invalid",
            Self::CertificateInvalid => "certificate_invalid",
            Self::CertificateExpired => "certificate_expired",
            Self::CertificateRevoked => "certificate_revoked",
            Self::CardNotLinked => "card_not_linked",
            Self::InstitutionMismatch => "institution_mismatch",
            Self::TerminalRevoked => "terminal_revoked",
            Self::InvalidField => "invalid_field",
            Self::MalformedBody => "malformed_body",
            Self::InstitutionNotRegistered => "institution_not_registered",
            Self::InstitutionInactive => "institution_inactive",
            Self::ClientCertificateRequired => "client_certificate_required",
            Self::FaceEvidenceInsufficient => "face_evidence_insufficient",
            Self::ConsentMissing => "consent_missing",
            Self::ConsentExpired => "consent_expired",
            Self::NotFound => "not_found",
            Self::Internal => "internal_error",
            Self::Other(code) => code,
        }
    }

    /// Reads the `code` member.
    pub fn parse(code: &str) -> Self {
        match code {
            "challenge_unknown" => Self::ChallengeUnknown,
            "challenge_expired" => Self::ChallengeExpired,
            "challenge_replayed" => Self::ChallengeReplayed,
            "signature_invalid" => Self::SignatureInvalid,
            "certificate_invalid" => Self::CertificateInvalid,
            "certificate_expired" => Self::CertificateExpired,
            "certificate_revoked" => Self::CertificateRevoked,
            "card_not_linked" => Self::CardNotLinked,
            "institution_mismatch" => Self::InstitutionMismatch,
            "terminal_revoked" => Self::TerminalRevoked,
            "invalid_field" => Self::InvalidField,
            "malformed_body" => Self::MalformedBody,
            "institution_not_registered" => Self::InstitutionNotRegistered,
            "institution_inactive" => Self::InstitutionInactive,
            "client_certificate_required" => Self::ClientCertificateRequired,
            "face_evidence_insufficient" => Self::FaceEvidenceInsufficient,
            "consent_missing" => Self::ConsentMissing,
            "consent_expired" => Self::ConsentExpired,
            "not_found" => Self::NotFound,
            "internal_error" => Self::Internal,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// Errors of the center layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CenterError {
    /// No answer: connection refused or reset, TLS handshake failed, or timed out. The
    /// reception is kept; staff check later.
    #[error("center unreachable: {reason}")]
    Unreachable { reason: String },
    /// The center refused the request with a problem+json body.
    #[error("center refused ({status} {code:?}): {}", problem.detail)]
    Refused {
        status: u16,
        code: ProblemCode,
        problem: Box<Problem>,
    },
    /// The center answered something outside the contract.
    #[error("unexpected answer from the center: {0}")]
    Protocol(String),
}

impl CenterError {
    /// The problem code when the center refused.
    pub fn code(&self) -> Option<&ProblemCode> {
        match self {
            Self::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Errors setting the terminal up (certificates, keys, TLS configuration).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("HTTP client: {0}")]
    Http(String),
}

/// The terminal's TLS identity: its certificate, its PKCS#8 key, and the institution CA
/// it trusts as the only root.
pub struct TerminalCredentials {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    ca: CertificateDer<'static>,
}

impl std::fmt::Debug for TerminalCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalCredentials")
            .field("cert_len", &self.cert.len())
            .finish_non_exhaustive()
    }
}

/// File names written by terminal enrolment.
pub const CERT_FILE: &str = "terminal.crt.pem";
/// The terminal's PKCS#8 key.
pub const KEY_FILE: &str = "terminal.key.pem";
/// The institution CA certificate.
pub const CA_FILE: &str = "ca.pem";

impl TerminalCredentials {
    /// Reads `terminal.crt.pem`, `terminal.key.pem` (PKCS#8) and `ca.pem` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, SetupError> {
        let file_err = |name: &str, e: &dyn std::fmt::Display| SetupError::File {
            path: dir.join(name).display().to_string(),
            reason: e.to_string(),
        };
        let cert = CertificateDer::from_pem_file(dir.join(CERT_FILE))
            .map_err(|e| file_err(CERT_FILE, &e))?;
        let key = PrivatePkcs8KeyDer::from_pem_file(dir.join(KEY_FILE))
            .map_err(|e| file_err(KEY_FILE, &e))?;
        let ca =
            CertificateDer::from_pem_file(dir.join(CA_FILE)).map_err(|e| file_err(CA_FILE, &e))?;
        Ok(Self { cert, key, ca })
    }

    /// From DER: the terminal certificate, its PKCS#8 key, the institution CA certificate.
    pub fn from_der(cert: Vec<u8>, pkcs8_key: Vec<u8>, ca: Vec<u8>) -> Self {
        Self {
            cert: CertificateDer::from(cert),
            key: PrivatePkcs8KeyDer::from(pkcs8_key),
            ca: CertificateDer::from(ca),
        }
    }

    /// The institution named in the terminal certificate, which must chain to the CA.
    pub fn institution_code(&self) -> Result<onshi_model::InstitutionCode, SetupError> {
        let trust = onshi_pki::TrustStore::new(onshi_pki::TrustPolicy::default());
        trust
            .add_ca(onshi_pki::CaKind::Institution, &self.ca)
            .map_err(|e| SetupError::Tls(format!("institution CA: {e}")))?;
        let verified = trust
            .verify_kind(
                &self.cert,
                chrono::Utc::now(),
                &[onshi_pki::CertKind::Terminal],
            )
            .map_err(|e| SetupError::Tls(format!("terminal certificate: {e}")))?;
        verified
            .institution_code()
            .and_then(|c| onshi_model::InstitutionCode::parse(c).ok())
            .ok_or_else(|| SetupError::Tls("terminal certificate names no institution".into()))
    }

    /// A rustls client configuration: client certificate, only the institution CA as root.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, SetupError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.ca.clone())
            .map_err(|e| SetupError::Tls(format!("institution CA: {e}")))?;
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SetupError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(
                vec![self.cert.clone()],
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .map_err(|e| SetupError::Tls(format!("terminal certificate: {e}")))
    }
}

/// What the reception flow needs from the center, blocking.
pub trait Center {
    /// `POST /v1/card/challenge`.
    fn challenge(&mut self) -> Result<Challenge, CenterError>;
    /// `POST /v1/eligibility/card`.
    fn check_card(&mut self, request: &CardCheckRequest) -> Result<CardCheck, CenterError>;
    /// `POST /v1/card/link` (利用登録).
    fn link_card(&mut self, request: &LinkRequest) -> Result<Linked, CenterError>;
    /// `POST /v1/eligibility/card` with a smartphone's certificate. Centers without the
    /// smartphone path answer [`CenterError::Protocol`].
    fn check_phone(
        &mut self,
        request: &crate::reception::PhoneCheckRequest,
    ) -> Result<CardCheck, CenterError> {
        let _ = request;
        Err(CenterError::Protocol(
            "no smartphone path in this center client".into(),
        ))
    }
}

impl<T: Center + ?Sized> Center for &mut T {
    fn challenge(&mut self) -> Result<Challenge, CenterError> {
        (**self).challenge()
    }
    fn check_card(&mut self, request: &CardCheckRequest) -> Result<CardCheck, CenterError> {
        (**self).check_card(request)
    }
    fn link_card(&mut self, request: &LinkRequest) -> Result<Linked, CenterError> {
        (**self).link_card(request)
    }
    fn check_phone(
        &mut self,
        request: &crate::reception::PhoneCheckRequest,
    ) -> Result<CardCheck, CenterError> {
        (**self).check_phone(request)
    }
}

/// HTTPS client of the center, authenticated by the terminal certificate.
///
/// A check's answer carries a fresh challenge for the terminal's next reception; the client
/// keeps the latest one ([`CenterClient::challenge_or_spare`]) so that a busy terminal does
/// not spend a round trip on `POST /v1/card/challenge` per patient. Clones share it.
#[derive(Debug, Clone)]
pub struct CenterClient {
    http: reqwest::Client,
    base: String,
    spare: std::sync::Arc<std::sync::Mutex<Option<Challenge>>>,
}

/// A kept challenge is used only while it has at least this long to live, so that the
/// reception (PIN entry included) finishes before it expires.
pub const SPARE_CHALLENGE_MARGIN: Duration = Duration::from_secs(60);

/// Connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole-request timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

impl CenterClient {
    /// A client of the center at `base` (`https://host:port`).
    pub fn new(base: &str, credentials: &TerminalCredentials) -> Result<Self, SetupError> {
        Self::with_timeouts(base, credentials, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
    }

    /// As [`CenterClient::new`] with explicit timeouts.
    pub fn with_timeouts(
        base: &str,
        credentials: &TerminalCredentials,
        connect: Duration,
        request: Duration,
    ) -> Result<Self, SetupError> {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(credentials.client_config()?)
            .connect_timeout(connect)
            .timeout(request)
            .no_proxy()
            .build()
            .map_err(|e| SetupError::Http(e.to_string()))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            spare: Default::default(),
        })
    }

    /// `POST /v1/card/challenge`.
    pub async fn challenge(&self) -> Result<Challenge, CenterError> {
        self.post("/v1/card/challenge", &serde_json::json!({}))
            .await
    }

    /// The challenge kept from the last check if it still has [`SPARE_CHALLENGE_MARGIN`] to
    /// live (each is handed out once), otherwise a new one from `POST /v1/card/challenge`.
    pub async fn challenge_or_spare(&self) -> Result<Challenge, CenterError> {
        let kept = self.spare.lock().unwrap_or_else(|p| p.into_inner()).take();
        match kept {
            Some(c)
                if (c.expires_at - chrono::Utc::now())
                    .to_std()
                    .is_ok_and(|left| left >= SPARE_CHALLENGE_MARGIN) =>
            {
                Ok(c)
            }
            _ => self.challenge().await,
        }
    }

    /// Keeps the next challenge a check's answer carried, for [`Self::challenge_or_spare`].
    pub fn keep_spare(&self, answer: &CardCheck) {
        if let Some(c) = &answer.next_challenge {
            *self.spare.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
        }
    }

    /// `POST /v1/eligibility/card`; the challenge the answer carries is kept for
    /// [`Self::challenge_or_spare`].
    pub async fn check_card(&self, request: &CardCheckRequest) -> Result<CardCheck, CenterError> {
        let answer = self.post("/v1/eligibility/card", request).await?;
        self.keep_spare(&answer);
        Ok(answer)
    }

    /// `POST /v1/card/link`.
    pub async fn link_card(&self, request: &LinkRequest) -> Result<Linked, CenterError> {
        self.post("/v1/card/link", request).await
    }

    /// `POST /v1/eligibility/card` with a smartphone's certificate.
    pub async fn check_phone(
        &self,
        request: &crate::reception::PhoneCheckRequest,
    ) -> Result<CardCheck, CenterError> {
        let answer = self.post("/v1/eligibility/card", request).await?;
        self.keep_spare(&answer);
        Ok(answer)
    }

    /// `POST /v1/eligibility/insurance-data`: the qualification by the data of an
    /// insurance card or 資格確認書, evaluated on `as_of` (the center's today when `None`).
    /// Over mutual TLS `institution` must be the one named in the terminal certificate.
    pub async fn check_insurance_data(
        &self,
        institution: &onshi_model::InstitutionCode,
        query: &onshi_model::InsuranceDataQuery,
        as_of: Option<chrono::NaiveDate>,
    ) -> Result<onshi_model::EligibilityResult, CenterError> {
        let body = InsuranceDataBody {
            institution_code: institution.as_str(),
            query,
            as_of,
        };
        let answer: InsuranceDataAnswer =
            self.post("/v1/eligibility/insurance-data", &body).await?;
        Ok(answer.result)
    }

    /// `GET /v1/receptions/{id}/{kind}`: the history the patient agreed to share.
    pub async fn history(
        &self,
        reception_id: &str,
        kind: HistoryKind,
    ) -> Result<Vec<serde_json::Value>, CenterError> {
        let url = format!(
            "{}/v1/receptions/{reception_id}/{}",
            self.base,
            kind.segment()
        );
        Self::answer(self.http.get(url).send().await).await
    }

    /// `POST /v1/history/{kind}`: the history of the patient named by insurance-card data,
    /// within the consent they gave at this institution's reader.
    pub async fn history_by_card(
        &self,
        kind: HistoryKind,
        body: &crate::wire::HistoryByCardBody<'_>,
    ) -> Result<crate::wire::HistoryByCard, CenterError> {
        self.post(&format!("/v1/history/{}", kind.segment()), body)
            .await
    }

    pub(crate) async fn post<B: serde::Serialize + ?Sized, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CenterError> {
        let url = format!("{}{path}", self.base);
        Self::answer(self.http.post(url).json(body).send().await).await
    }

    pub(crate) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, CenterError> {
        let url = format!("{}{path}", self.base);
        Self::answer(self.http.get(url).send().await).await
    }

    async fn answer<T: serde::de::DeserializeOwned>(
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, CenterError> {
        let resp = sent.map_err(transport_error)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| CenterError::Protocol(format!("{status}: {e}")));
        }
        match serde_json::from_slice::<Problem>(&bytes) {
            Ok(problem) => Err(CenterError::Refused {
                status: status.as_u16(),
                code: ProblemCode::parse(&problem.code),
                problem: Box::new(problem),
            }),
            Err(_) if status.is_server_error() => Err(CenterError::Unreachable {
                reason: format!("{status} without a problem body"),
            }),
            Err(e) => Err(CenterError::Protocol(format!("{status}: {e}"))),
        }
    }
}

/// The JSON body of `POST /v1/eligibility/insurance-data`.
#[derive(serde::Serialize)]
struct InsuranceDataBody<'a> {
    institution_code: &'a str,
    #[serde(flatten)]
    query: &'a onshi_model::InsuranceDataQuery,
    #[serde(skip_serializing_if = "Option::is_none")]
    as_of: Option<chrono::NaiveDate>,
}

/// The answer of `POST /v1/eligibility/insurance-data`: the check's id and the result.
#[derive(serde::Deserialize)]
struct InsuranceDataAnswer {
    #[serde(flatten)]
    result: onshi_model::EligibilityResult,
}

fn transport_error(e: reqwest::Error) -> CenterError {
    // Refused, reset, TLS failure and timeouts all mean: no answer from the center.
    if e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() {
        CenterError::Unreachable {
            reason: error_chain(&e),
        }
    } else {
        CenterError::Protocol(error_chain(&e))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// [`CenterClient`] behind the blocking [`Center`] trait, on its own small runtime. Use it
/// outside any async runtime (the card side blocks on the reader anyway).
#[derive(Debug)]
pub struct BlockingCenter {
    client: CenterClient,
    runtime: tokio::runtime::Runtime,
}

impl BlockingCenter {
    /// Wraps `client`.
    pub fn new(client: CenterClient) -> Result<Self, SetupError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SetupError::Http(e.to_string()))?;
        Ok(Self { client, runtime })
    }

    /// The async client.
    pub fn client(&self) -> &CenterClient {
        &self.client
    }

    /// `POST /v1/eligibility/insurance-data`, blocking (see
    /// [`CenterClient::check_insurance_data`]).
    pub fn check_insurance_data(
        &self,
        institution: &onshi_model::InstitutionCode,
        query: &onshi_model::InsuranceDataQuery,
        as_of: Option<chrono::NaiveDate>,
    ) -> Result<onshi_model::EligibilityResult, CenterError> {
        self.runtime
            .block_on(self.client.check_insurance_data(institution, query, as_of))
    }

    /// Runs a future of the client to completion.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }
}

impl Center for BlockingCenter {
    fn challenge(&mut self) -> Result<Challenge, CenterError> {
        self.runtime.block_on(self.client.challenge_or_spare())
    }
    fn check_card(&mut self, request: &CardCheckRequest) -> Result<CardCheck, CenterError> {
        self.runtime.block_on(self.client.check_card(request))
    }
    fn link_card(&mut self, request: &LinkRequest) -> Result<Linked, CenterError> {
        self.runtime.block_on(self.client.link_card(request))
    }
    fn check_phone(
        &mut self,
        request: &crate::reception::PhoneCheckRequest,
    ) -> Result<CardCheck, CenterError> {
        self.runtime.block_on(self.client.check_phone(request))
    }
}
