//! The names of the environment variables this program reads (a leaf: imports nothing). `config`
//! reads them; `error` names the key's variable in its advice.

/// The provider secret key (`sk_live_…`, `sk_sandbox_…` or `sk_test_…`).
pub const SECRET_KEY: &str = "SOLVAPAY_SECRET_KEY";
/// Accepted alias of [`SECRET_KEY`] (the name the openclaw plugin uses).
pub const API_KEY: &str = "SOLVAPAY_API_KEY";
/// REST base URL; a trailing `/` is stripped.
pub const BASE_URL: &str = "SOLVAPAY_API_BASE_URL";
/// Base URL for the `/v1/ui/*` routes, when they live elsewhere (defaults to the REST base URL).
pub const UI_BASE_URL: &str = "SOLVAPAY_UI_BASE_URL";
/// Per-attempt timeout in seconds (1–55); a whole call, retries included, stops at 45 s.
pub const TIMEOUT_SECS: &str = "SOLVAPAY_TIMEOUT_SECS";
/// The secret sealing 2026-07-28 confirmation states (hex or base64, at least 32 bytes); the same
/// on every replica. Random per process when unset.
pub const REQUEST_STATE_KEY: &str = "SOLVAPAY_REQUEST_STATE_KEY";
/// PostgreSQL URL of the state shared by replicas (journals, caps' totals, audit log, sessions).
pub const STATE_URL: &str = "SOLVAPAY_STATE_URL";
