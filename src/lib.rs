//! solvapay-mcp: an MCP server (stdio) that gives AI assistants the SolvaPay billing toolset.
//!
//! Layers, each knowing only the one below it:
//! `config` (CLI and environment) → `server` + `tools` (MCP) → `api` (typed SolvaPay REST client) → HTTP.
//! `error` holds the one conversion from an API failure to a tool result.

pub mod api;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod config;
mod confirm;
pub mod error;
pub mod journal;
pub mod model;
pub mod options;
pub mod policy;
pub mod redact;
pub mod sandbox;
pub mod server;
pub mod stdio;
pub mod telemetry;
pub mod text;
mod tools;

pub use api::SolvaPayClient;
pub use config::Config;
pub use server::BillingServer;
