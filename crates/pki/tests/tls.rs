//! Terminal and server certificates work with rustls as they are: an in-memory mutual
//! TLS handshake between a terminal and the center, each trusting the institution CA.

mod common;

use std::sync::Arc;

use common::*;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

fn key(k: &onshi_pki::RsaKeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k.pkcs8_der().to_vec()))
}

#[test]
fn mutual_tls_with_institution_certificates() {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let dir = TempDir::new("tls");
    let mut j = jlis(&dir);
    // Issue "now" so that rustls's own clock accepts the certificates.
    let now = chrono::Utc::now() - chrono::Duration::minutes(5);
    let ip: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let server = j
        .issue_server_with_key(&["center.onshi.test"], &[ip], now)
        .unwrap();
    let terminal = j
        .issue_terminal_with_key("1312345678", "desk-1", now)
        .unwrap();

    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(
            j.ca(onshi_pki::CaKind::Institution).cert_der().to_vec(),
        ))
        .unwrap();
    let roots = Arc::new(roots);

    let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
        .build()
        .unwrap();
    let server_cfg = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(server.cert.der.clone())],
            key(&server.key),
        )
        .unwrap();
    let client_cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(
            vec![CertificateDer::from(terminal.cert.der.clone())],
            key(&terminal.key),
        )
        .unwrap();

    let name = ServerName::try_from("center.onshi.test").unwrap();
    let mut client = ClientConnection::new(Arc::new(client_cfg), name).unwrap();
    let mut srv = ServerConnection::new(Arc::new(server_cfg)).unwrap();
    for _ in 0..10 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        srv.read_tls(&mut buf.as_slice()).unwrap();
        srv.process_new_packets().unwrap();
        let mut buf = Vec::new();
        while srv.wants_write() {
            srv.write_tls(&mut buf).unwrap();
        }
        client.read_tls(&mut buf.as_slice()).unwrap();
        client.process_new_packets().unwrap();
        if !client.is_handshaking() && !srv.is_handshaking() {
            break;
        }
    }
    assert!(!client.is_handshaking() && !srv.is_handshaking());
    // The server sees the terminal's certificate, and the onshi verifier names it.
    let peer = srv.peer_certificates().unwrap()[0].to_vec();
    let trust = j.trust_store(onshi_pki::TrustPolicy::default()).unwrap();
    let v = trust.verify(&peer, chrono::Utc::now()).unwrap();
    assert_eq!(v.institution_code(), Some("1312345678"));
}
