//! Logging: `tracing` to stderr only (stdout carries JSON-RPC), filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Default level: `info` for this crate, `warn` for the rest.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,solvapay_mcp=info"));
    // A second call (tests) leaves the first subscriber in place.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
}
