//! `onshi balance`: a layer-4 (TCP) round-robin load balancer in front of several centers.
//!
//! Terminals authenticate to the center with mutual TLS, so the balancer must not end TLS:
//! it passes each connection through untouched to the next healthy backend, and the
//! center sees the terminal's certificate as if it were connected directly. A backend
//! that refuses connections is skipped until it answers again. It exists to show the
//! center scaling out (docs/PERFORMANCE.md); any TCP balancer (HAProxy in `mode tcp`,
//! nginx `stream`) does the same in production.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::net::{TcpListener, TcpStream};

/// How long to wait for a backend's TCP handshake before trying the next.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, clap::Args)]
pub struct BalanceArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// A center to spread connections over (repeat for each).
    #[arg(long = "backend", required = true)]
    pub backends: Vec<SocketAddr>,
}

pub async fn run(args: BalanceArgs) -> Result<()> {
    if args.backends.contains(&args.listen) {
        bail!(
            "the balancer cannot be one of its own backends ({})",
            args.listen
        );
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let stop = crate::serve::shutdown_signal();
    println!(
        "onshi balance: {} → {}",
        listener.local_addr()?,
        args.backends
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let backends: Arc<[SocketAddr]> = args.backends.into();
    let next = Arc::new(AtomicUsize::new(0));
    let accept = async {
        loop {
            let (client, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let backends = backends.clone();
            let next = next.clone();
            tokio::spawn(async move {
                if let Err(e) = forward(client, &backends, &next).await {
                    tracing::info!(%peer, error = %e, "connection not forwarded");
                }
            });
        }
    };
    tokio::select! {
        _ = accept => {}
        _ = stop => {}
    }
    Ok(())
}

/// Connects to the next backend that answers and copies bytes both ways until either
/// side closes.
async fn forward(mut client: TcpStream, backends: &[SocketAddr], next: &AtomicUsize) -> Result<()> {
    client.set_nodelay(true)?;
    let start = next.fetch_add(1, Ordering::Relaxed);
    for i in 0..backends.len() {
        let addr = backends[(start + i) % backends.len()];
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(mut server)) => {
                server.set_nodelay(true)?;
                tokio::io::copy_bidirectional(&mut client, &mut server).await?;
                return Ok(());
            }
            Ok(Err(e)) => tracing::warn!(%addr, error = %e, "backend refused; trying the next"),
            Err(_) => tracing::warn!(%addr, "backend did not answer; trying the next"),
        }
    }
    bail!("no backend answered")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An echo server that prefixes its answers with its name.
    async fn echo(name: &'static [u8]) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    let n = s.read(&mut buf).await.unwrap();
                    s.write_all(name).await.unwrap();
                    s.write_all(&buf[..n]).await.unwrap();
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn spreads_connections_and_skips_a_dead_backend() {
        let a = echo(b"a:").await;
        let b = echo(b"b:").await;
        // A port with nothing behind it.
        let dead = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap()
        };
        let backends: Arc<[SocketAddr]> = vec![a, dead, b].into();
        let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front_addr = front.local_addr().unwrap();
        let next = Arc::new(AtomicUsize::new(0));
        tokio::spawn(async move {
            loop {
                let (c, _) = front.accept().await.unwrap();
                let (backends, next) = (backends.clone(), next.clone());
                tokio::spawn(async move { forward(c, &backends, &next).await });
            }
        });
        let mut seen = Vec::new();
        for _ in 0..6 {
            let mut c = TcpStream::connect(front_addr).await.unwrap();
            c.write_all(b"hi").await.unwrap();
            let mut out = Vec::new();
            c.read_to_end(&mut out).await.unwrap();
            assert!(out.ends_with(b"hi"), "bytes pass through untouched");
            seen.push(out[0]);
        }
        assert!(
            seen.contains(&b'a') && seen.contains(&b'b'),
            "both backends used: {seen:?}"
        );
    }
}
