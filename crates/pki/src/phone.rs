//! What the smartphone credentials need from the PKI: reading a certificate's public key
//! (so a phone can refuse a certificate that is not for its own key) and the document
//! signer of the iPhone's card substitute record.

use der::{Decode, Encode};

use crate::PkiError;

/// The SubjectPublicKeyInfo (DER) of a DER certificate.
pub fn certificate_public_key(cert_der: &[u8]) -> Result<Vec<u8>, PkiError> {
    let cert = x509_cert::Certificate::from_der(cert_der).map_err(PkiError::der("certificate"))?;
    cert.tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(PkiError::der("certificate"))
}
