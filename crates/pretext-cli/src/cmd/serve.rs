//! `pretext serve [--listen 127.0.0.1:PORT] [--backend flex|wgpu]`: a worker
//! that runs tensor operations for `pretext pretrain --devices ws://..`
//! (burn's remote server over WebSocket).
use std::io::Write;
use std::net::{SocketAddr, TcpListener};

use anyhow::{Context, Result, anyhow, bail};
use burn::server::{RemoteServer, TokenAuthorizer, WebSocketTransport};

use crate::backend::{Compute, TOKEN_VAR, token};

/// Arguments of `pretext serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to listen. Loopback unless told otherwise; any other address
    /// needs a token in PRETEXT_TOKEN, which clients must present.
    #[arg(long, default_value = "127.0.0.1:4000", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub compute: Compute,
}

pub fn run(args: Args) -> Result<()> {
    let token = token();
    if !args.listen.ip().is_loopback() && token.is_none() {
        bail!(
            "--listen {}: serving beyond this machine needs a token: set {TOKEN_VAR} here and on the machine that runs pretext pretrain",
            args.listen
        );
    }
    let device = args.compute.device()?;
    let listener = TcpListener::bind(args.listen)
        .with_context(|| format!("--listen {}: cannot listen there", args.listen))?;
    let bound = listener.local_addr()?;
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
        .serve(WebSocketTransport::from_listener(listener))
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
