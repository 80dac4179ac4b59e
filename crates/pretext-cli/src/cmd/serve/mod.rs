//! `pretext serve [--listen 127.0.0.1:PORT] [--backend flex|wgpu]`: a worker
//! that runs tensor operations for `pretext pretrain --devices ws://..`
//! (burn's remote server over WebSocket, behind [`guard`]).
mod guard;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, ToSocketAddrs};

use anyhow::{Context, Result, anyhow, bail};
use burn::server::{RemoteServer, TokenAuthorizer, WebSocketTransport};

use crate::backend::{Compute, TOKEN_VAR, token};
use guard::{DataPeers, Policy};

/// Arguments of `pretext serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to listen. Loopback unless told otherwise; any other address
    /// needs a token in PRETEXT_TOKEN, which clients must present.
    #[arg(long, default_value = "127.0.0.1:4000", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// The other workers of a run (host names or addresses, comma-separated),
    /// the only hosts allowed to fetch tensors from this one. Needs a token;
    /// a worker without one lets only this machine fetch.
    #[arg(long, value_delimiter = ',', value_name = "HOST,..")]
    pub peers: Vec<String>,
    /// The most connections held at once; more are answered 503 and closed.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_connections: usize,
    #[command(flatten)]
    pub compute: Compute,
}

/// The addresses of `--peers`, each resolved now so that a typo is an
/// error at start and not a refused transfer in the middle of a run.
fn resolve_peers(peers: &[String]) -> Result<Vec<IpAddr>> {
    let mut ips = Vec::new();
    for peer in peers {
        if peer.trim().is_empty() {
            bail!("--peers: an empty host name (a stray comma?)");
        }
        // An address resolves to itself; a name through the system's resolver.
        let found: Vec<IpAddr> = (peer.as_str(), 0)
            .to_socket_addrs()
            .map(|a| a.map(|a| a.ip()).collect())
            .unwrap_or_default();
        if found.is_empty() {
            bail!("--peers {peer}: no such host");
        }
        ips.extend(found);
    }
    Ok(ips)
}

pub fn run(args: Args) -> Result<()> {
    let token = token();
    if !args.listen.ip().is_loopback() && token.is_none() {
        bail!(
            "--listen {}: serving beyond this machine needs a token: set {TOKEN_VAR} here and on the machine that runs pretext pretrain",
            args.listen
        );
    }
    if args.max_connections == 0 {
        bail!("--max-connections 0: the worker could serve no one; give 1 or more");
    }
    let data_peers = match (&token, args.peers.is_empty()) {
        (None, true) => DataPeers::Loopback,
        (None, false) => bail!(
            "--peers: a worker without {TOKEN_VAR} serves this machine alone; set a token to let other workers in"
        ),
        (Some(_), _) => DataPeers::Only(resolve_peers(&args.peers)?),
    };
    let device = args.compute.open()?.device;
    let listener = TcpListener::bind(args.listen)
        .with_context(|| format!("--listen {}: cannot listen there", args.listen))?;
    let bound = listener.local_addr()?;
    // burn listens on a loopback port of its own; clients reach it through
    // the guard alone.
    let inner = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("cannot open a loopback port for the worker")?;
    let inner_addr = inner.local_addr()?;
    guard::spawn(
        listener,
        inner_addr,
        Policy {
            max_connections: args.max_connections,
            data_peers,
        },
    )
    .context("cannot start the worker's connection guard")?;
    let guarded = token.is_some();
    let mut server = RemoteServer::new([device]);
    if let Some(token) = token {
        server = server.with_authorizer(TokenAuthorizer::new(token).map_err(|e| anyhow!("{e}"))?);
    }
    // Tests and scripts read the bound address from this line (port 0 picks one).
    println!(
        "serving {} at ws://{bound} ({}Ctrl+C stops)",
        args.compute.name(),
        if guarded { "token required; " } else { "" }
    );
    std::io::stdout().flush()?;
    quiet_logging();
    server
        .serve(WebSocketTransport::from_listener(inner))
        .map_err(|e| anyhow!("serving at ws://{bound}: {e}"))
}

/// burn's server logs every tensor transfer at `info`; a worker logs
/// warnings and errors on stderr, unless `RUST_LOG` asks for more. (burn
/// installs its own logging only when none is installed.)
fn quiet_logging() {
    use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
