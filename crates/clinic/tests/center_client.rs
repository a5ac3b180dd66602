//! `CenterClient` against a small mutual-TLS server: the terminal presents its certificate,
//! trusts only the institution CA, maps problem+json codes, and tells "no answer" apart.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use onshi_clinic::{CenterClient, CenterError, ProblemCode, TerminalCredentials};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;

struct Pki {
    _dir: tempfile::TempDir,
    ca: Vec<u8>,
    server: onshi_pki::IssuedKeyPair,
    terminal: onshi_pki::IssuedKeyPair,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now() - Duration::minutes(5);
    let mut j = onshi_pki::Jlis::load_or_create(dir.path(), now, None).unwrap();
    let ip = "127.0.0.1".parse().unwrap();
    let server = j.issue_server_with_key(&["localhost"], &[ip], now).unwrap();
    let terminal = j
        .issue_terminal_with_key("0110113719", "desk-1", now)
        .unwrap();
    let ca = j.ca(onshi_pki::CaKind::Institution).cert_der().to_vec();
    Pki {
        _dir: dir,
        ca,
        server,
        terminal,
    }
}

fn credentials(p: &Pki) -> TerminalCredentials {
    TerminalCredentials::from_der(
        p.terminal.cert.der.clone(),
        p.terminal.key.pkcs8_der().to_vec(),
        p.ca.clone(),
    )
}

type Answer = (u16, &'static str, String);

/// Serves canned answers (status, content type, body) in order, one per connection, and
/// records each request line, the client certificate's length and the body.
fn serve(p: &Pki, answers: Vec<Answer>) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(p.ca.clone())).unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from(p.server.cert.der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(p.server.key.pkcs8_der().to_vec())),
            )
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (status, ctype, body) in answers {
            let (tcp, _) = listener.accept().unwrap();
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut reader = BufReader::new(&mut tls);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                log.lock().unwrap().push("handshake refused".into());
                continue;
            }
            let mut length = 0;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut request_body = vec![0; length];
            reader.read_exact(&mut request_body).unwrap();
            let client_cert = tls
                .conn
                .peer_certificates()
                .map(|c| c[0].len())
                .unwrap_or(0);
            log.lock().unwrap().push(format!(
                "{} cert={client_cert} body={}",
                line.trim_end(),
                String::from_utf8_lossy(&request_body)
            ));
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            tls.write_all(reply.as_bytes()).unwrap();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (addr, seen)
}

fn problem(status: u16, code: &str) -> Answer {
    (
        status,
        "application/problem+json",
        serde_json::json!({"type": format!("urn:onshi:problem:{code}"), "title": "t",
            "status": status, "code": code, "message_ja": "メッセージ", "detail": "d"})
        .to_string(),
    )
}

fn link_request() -> onshi_clinic::wire::LinkRequest {
    onshi_clinic::wire::LinkRequest {
        institution_code: "0110113719".into(),
        certificate: vec![1],
        challenge: vec![2],
        signed_at: onshi_clinic::SignedAt::at(Utc::now()),
        signature: vec![3],
    }
}

#[tokio::test]
async fn mutual_tls_challenge_and_problem_codes() {
    let p = pki();
    let challenge = serde_json::json!({
        "challenge": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "expires_at": "2025-06-02T00:02:00Z"})
    .to_string();
    let (addr, seen) = serve(
        &p,
        vec![
            (200, "application/json", challenge),
            problem(409, "card_not_linked"),
            problem(403, "certificate_revoked"),
            problem(400, "something_new"),
            (502, "text/plain", "bad gateway".into()),
        ],
    );
    let base = format!("https://localhost:{}", addr.port());
    let client = CenterClient::new(&base, &credentials(&p)).unwrap();
    let c = client.challenge().await.unwrap();
    assert_eq!(c.bytes, (0u8..32).collect::<Vec<_>>());
    for expected in [
        ProblemCode::CardNotLinked,
        ProblemCode::CertificateRevoked,
        ProblemCode::Other("something_new".into()),
    ] {
        match client.link_card(&link_request()).await {
            Err(CenterError::Refused { code, problem, .. }) => {
                assert_eq!(code, expected);
                assert_eq!(code.as_str(), problem.code);
                assert_eq!(problem.message_ja, "メッセージ");
            }
            other => panic!("{other:?}"),
        }
    }
    // A gateway error without a problem body: the center itself did not answer.
    assert!(matches!(
        client.link_card(&link_request()).await,
        Err(CenterError::Unreachable { .. })
    ));
    let seen = seen.lock().unwrap();
    assert!(
        seen[0].starts_with("POST /v1/card/challenge HTTP/1.1 cert="),
        "{}",
        seen[0]
    );
    assert!(
        !seen[0].contains("cert=0 "),
        "the terminal presented its certificate"
    );
    assert!(seen[0].ends_with("body={}"));
    assert!(seen[1].starts_with("POST /v1/card/link "));
    assert!(seen[1].contains(r#""certificate":"AQ==""#), "{}", seen[1]);
}

#[tokio::test]
async fn a_checks_next_challenge_is_used_once_while_fresh() {
    let p = pki();
    let fetched = serde_json::json!({
        "challenge": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "expires_at": (Utc::now() + Duration::seconds(120)).to_rfc3339()})
    .to_string();
    let answer_json = |expires: chrono::DateTime<Utc>| {
        serde_json::json!({
            "check_id": "1", "reception_id": "1", "reference": "1", "validity": "1",
            "processed_at": "2025-06-02T09:00:00", "as_of": "2025-06-02", "records": [],
            "next_challenge": {"challenge": "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
                               "expires_at": expires.to_rfc3339()}})
    };
    let (addr, seen) = serve(
        &p,
        vec![
            (
                200,
                "application/json",
                answer_json(Utc::now() + Duration::seconds(119)).to_string(),
            ),
            (200, "application/json", fetched.clone()),
            (200, "application/json", fetched),
        ],
    );
    let base = format!("https://localhost:{}", addr.port());
    let client = CenterClient::new(&base, &credentials(&p)).unwrap();
    let answer = |expires: chrono::DateTime<Utc>| -> onshi_clinic::wire::CardCheck {
        serde_json::from_value(answer_json(expires)).unwrap()
    };
    // A check's answer leaves its carried challenge with the client, which hands it out
    // once, without a request.
    let check = onshi_clinic::wire::CardCheckRequest {
        institution_code: "0110113719".into(),
        method: onshi_clinic::Method::Pin,
        certificate: vec![1],
        challenge: vec![2],
        signed_at: onshi_clinic::SignedAt::at(Utc::now()),
        signature: Some(vec![3]),
        face: None,
        visual: None,
        consents: vec![],
        as_of: None,
    };
    client.check_card(&check).await.unwrap();
    assert_eq!(
        client.challenge_or_spare().await.unwrap().bytes,
        vec![7u8; 32]
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "only the check: no request for a kept challenge"
    );
    // Used: the next one is fetched.
    assert_eq!(
        client.challenge_or_spare().await.unwrap().bytes,
        (0u8..32).collect::<Vec<_>>()
    );
    // One about to expire is not handed out (the PIN entry could outlast it).
    client.keep_spare(&answer(Utc::now() + Duration::seconds(20)));
    assert_eq!(
        client.challenge_or_spare().await.unwrap().bytes,
        (0u8..32).collect::<Vec<_>>()
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let p = pki();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = CenterClient::new(&format!("https://127.0.0.1:{port}"), &credentials(&p)).unwrap();
    assert!(matches!(
        client.challenge().await,
        Err(CenterError::Unreachable { .. })
    ));
}

#[tokio::test]
async fn a_server_outside_the_institution_ca_is_not_trusted() {
    let p = pki();
    let other = pki();
    let (addr, _) = serve(&other, vec![(200, "application/json", "{}".into())]);
    // The terminal trusts only its own institution CA.
    let base = format!("https://localhost:{}", addr.port());
    let client = CenterClient::new(&base, &credentials(&p)).unwrap();
    match client.challenge().await {
        Err(CenterError::Unreachable { reason }) => {
            assert!(reason.to_lowercase().contains("certificate"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn credentials_load_from_the_enrolment_directory() {
    let p = pki();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, label: &str, der: &[u8]| {
        std::fs::write(dir.path().join(name), onshi_pki::to_pem(label, der)).unwrap()
    };
    write("terminal.crt.pem", "CERTIFICATE", &p.terminal.cert.der);
    write(
        "terminal.key.pem",
        "PRIVATE KEY",
        p.terminal.key.pkcs8_der(),
    );
    write("ca.pem", "CERTIFICATE", &p.ca);
    let creds = TerminalCredentials::load(dir.path()).unwrap();
    creds.client_config().unwrap();
    assert_eq!(creds.institution_code().unwrap().as_str(), "0110113719");
    std::fs::remove_file(dir.path().join("ca.pem")).unwrap();
    assert!(TerminalCredentials::load(dir.path()).is_err());
}
