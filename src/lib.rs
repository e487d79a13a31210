//! solvapay-mcp: an MCP server (stdio, or Streamable HTTP for a team) that gives AI assistants the SolvaPay billing toolset, with
//! an in-process local sandbox that stands in for SolvaPay when no key is set.
//!
//! Layers, from the bottom; each imports only the ones below it:
//! - **rules**: `text` (the character rules for text in and out), `redact` (secrets scrubbed
//!   from every text that leaves), `env` (the names of the environment variables) and `metrics`
//!   (the metrics' names and recording functions, a no-op until a recorder is installed).
//! - **data**: `model`: references, money, dates and the argument rules (`model::validate`).
//! - **client**: `api`: the typed SolvaPay REST client, built from its own `ClientSettings`; knows
//!   HTTP, not MCP.
//! - **failures**: `error`: a failure's kind and advice, and the one conversion from a failure to
//!   a tool result.
//! - **records**: `state` (the shared tables in PostgreSQL, when configured), `journal`
//!   (append-only files, or `state`) and `audit` (the audit log of write calls; its outcomes come
//!   from the failure's kind).
//! - **MCP**: `catalog` (the table of per-tool facts: annotations, confirmation, search hints),
//!   `schema` (the tool list made lean and standard), `tools` (one file per domain), `caller`
//!   (who is calling, over HTTP), `apps` (MCP Apps: does the host render them, the review
//!   form's content), `confirm`, `policy` (which tools are on), `server` (the handler
//!   every call passes through), `stdio` and `http` (the transports).
//! - **process**: `config` and `cli` (environment and flags, parsed once), `options`, `telemetry`
//!   (logs on stderr) and `serve` (the process run by `main`: modes, signals, shutdown).
//!
//! `sandbox` is a local imitation of SolvaPay's HTTP API; the client reaches it over HTTP like the
//! real one, so it shares only `model` with the rest.

pub mod api;
mod apps;
pub mod audit;
pub mod caller;
pub mod catalog;
pub mod cli;
mod completion;
pub mod config;
mod confirm;
pub mod env;
pub mod error;
pub mod http;
pub mod journal;
pub mod local;
pub mod metrics;
pub mod model;
pub mod options;
pub mod people;
pub mod policy;
mod prompts;
pub mod redact;
mod resources;
pub mod sandbox;
pub mod schema;
pub mod serve;
pub mod server;
pub mod state;
pub mod stdio;
pub mod telemetry;
pub mod text;
mod tools;

pub use api::SolvaPayClient;
pub use config::Config;
pub use server::BillingServer;
