//! The center's front door for terminals: HTTPS with mutual TLS. rustls checks that the
//! client certificate chains to the institution CA; the center then checks it with its own
//! verifier (revocation included), finds the enrolled terminal, and hands the request the
//! terminal's identity.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use onshi_model::InstitutionCode;
use onshi_pki::CertKind;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::{AppState, router};

/// Who is calling, as established by the TLS handshake.
#[derive(Debug, Clone)]
pub enum ClientIdentity {
    /// An enrolled terminal of a registered institution.
    Terminal {
        institution: InstitutionCode,
        terminal_id: String,
        /// The terminal certificate's DER, re-verified on each request so that a
        /// revocation takes effect on open connections too.
        cert: Arc<Vec<u8>>,
    },
    /// A TLS client without a certificate: it may fetch public documents (CRLs, the
    /// OpenAPI document) but not use a terminal route.
    Anonymous,
    /// A TLS client whose certificate the center does not accept (the reason is logged).
    Refused(String),
}

/// The server's TLS configuration: its certificate chain and key, and the CA whose
/// terminal certificates it accepts.
pub fn server_config(
    server_cert: &[u8],
    server_key_pkcs8: &[u8],
    institution_ca: &[u8],
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(institution_ca.to_vec()))?;
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    // Clients without a certificate may connect, for the public documents (CRLs); every
    // terminal route refuses them.
    .allow_unauthenticated()
    .build()
    .map_err(|e| rustls::Error::General(e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![
                CertificateDer::from(server_cert.to_vec()),
                CertificateDer::from(institution_ca.to_vec()),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key_pkcs8.to_vec())),
        )?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Establishes who is on the other end of a handshake.
async fn identify(state: &AppState, peer: Option<&CertificateDer<'_>>) -> ClientIdentity {
    let Some(der) = peer else {
        return ClientIdentity::Anonymous;
    };
    let Some(card) = state.card() else {
        return ClientIdentity::Refused("the center runs without its PKI".into());
    };
    let verified =
        match card
            .trust
            .verify_kind(der.as_ref(), chrono::Utc::now(), &[CertKind::Terminal])
        {
            Ok(v) => v,
            Err(e) => return ClientIdentity::Refused(e.to_string()),
        };
    let (Some(code), Some(terminal_id)) = (verified.institution_code(), verified.terminal_id())
    else {
        return ClientIdentity::Refused("certificate names no institution".into());
    };
    let Ok(institution) = InstitutionCode::parse(code) else {
        return ClientIdentity::Refused(format!(
            "certificate names a malformed institution code {code:?}"
        ));
    };
    match state
        .store()
        .terminal(&crate::hex(verified.fingerprint()))
        .await
    {
        Ok(Some(t)) if t.revoked_at.is_none() => ClientIdentity::Terminal {
            institution,
            terminal_id: terminal_id.to_owned(),
            cert: Arc::new(der.as_ref().to_vec()),
        },
        Ok(Some(_)) => ClientIdentity::Refused("terminal revoked".into()),
        Ok(None) => ClientIdentity::Refused("terminal not enrolled".into()),
        Err(e) => ClientIdentity::Refused(format!("enrolment lookup failed: {e}")),
    }
}

/// Serves the center over mutual TLS on `listener` until `shutdown` completes.
pub async fn serve_tls(
    listener: TcpListener,
    state: AppState,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    let app: Router = router(state.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer_addr): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        let state = state.clone();
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let tls =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::info!(%peer_addr, error = %e, "TLS handshake refused");
                        return;
                    }
                    Err(_) => return,
                };
            let identity = identify(
                &state,
                tls.get_ref().1.peer_certificates().and_then(|c| c.first()),
            )
            .await;
            if let ClientIdentity::Refused(why) = &identity {
                tracing::warn!(%peer_addr, reason = %why, "client certificate not accepted");
            }
            let svc = app.map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(identity.clone());
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer_addr));
                req
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc));
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "connection ended");
                    }
                }
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
                }
            }
        });
        // Reap finished connections so the set does not grow.
        while tasks.try_join_next().is_some() {}
    }
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(15), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}
