//! The real binary over stdio, driven by rmcp's client in either protocol era: a 2025-11-25
//! session (`initialize`) or 2026-07-28 stateless requests (`server/discover`, then `_meta` on
//! every request). Both give the same [`Peer`], so a test runs its scenario once per era.

use std::ops::Deref;

use rmcp::service::{Peer, RunningService, ServiceError};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{ErrorData, RoleClient, ServiceExt};

use super::bin::Home;
use super::person::Modern;

/// A protocol era.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Era {
    /// 2025-11-25: `initialize`, then a session.
    Session,
    /// 2026-07-28: stateless requests.
    Stateless,
}

/// Both eras, oldest first.
pub(crate) const ERAS: [Era; 2] = [Era::Session, Era::Stateless];

impl Era {
    /// The JSON-RPC code of the spec's resource-not-found error in this era.
    pub(crate) fn resource_not_found(self) -> i32 {
        match self {
            Self::Session => -32002,
            Self::Stateless => -32602,
        }
    }
}

/// A client connected to the binary in one era.
pub(crate) enum Connected {
    Session(RunningService<RoleClient, ()>),
    Stateless(RunningService<RoleClient, Modern>),
}

impl Deref for Connected {
    type Target = Peer<RoleClient>;

    fn deref(&self) -> &Self::Target {
        match self {
            Self::Session(s) => s.peer(),
            Self::Stateless(s) => s.peer(),
        }
    }
}

/// The binary in `home` with `args` (and `env`), connected over stdio in `era`.
pub(crate) async fn start(home: &Home, era: Era, args: &[&str], env: &[(&str, &str)]) -> Connected {
    let command = home.command().configure(|c| {
        c.env("RUST_LOG", "warn").args(args);
        for (name, value) in env {
            c.env(name, value);
        }
    });
    let transport = TokioChildProcess::new(command).unwrap();
    match era {
        Era::Session => Connected::Session(().serve(transport).await.unwrap()),
        Era::Stateless => Connected::Stateless(Modern::default().serve_modern(transport).await),
    }
}

/// The binary on the demo sandbox (its own data dir, with `extra` flags), connected in `era`.
pub(crate) async fn demo(era: Era, extra: &[&str]) -> (Home, Connected) {
    let home = Home::new();
    let mut args = vec!["--demo"];
    args.extend_from_slice(extra);
    let client = start(&home, era, &args, &[]).await;
    (home, client)
}

/// The protocol error a request failed with; fails the test on success or another failure.
pub(crate) fn protocol_error<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> ErrorData {
    match result {
        Err(ServiceError::McpError(e)) => e,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}
