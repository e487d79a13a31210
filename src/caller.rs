//! Who is calling (the MCP layer's leaf, beside `confirm`): on the HTTP transport the HTTP layer
//! authenticates each request and leaves a [`Caller`] for the tools, the confirmation and the
//! audit to read; over stdio there is none, and the server's own client and policy serve.

use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::service::RequestContext;

use crate::api::SolvaPayClient;
use crate::policy::ToolPolicy;

/// Who is calling, on the HTTP transport. The HTTP layer authenticates each request and puts
/// its `Caller` into the request's [`http::request::Parts`] extensions (rmcp hands the `Parts` to
/// the handler); a call or list without one (stdio) uses the server's own client and policy.
#[derive(Clone)]
pub struct Caller {
    /// For logs, the audit log and limits: a token's name, or `key …` and the last 12 characters
    /// of the key's SHA-256 hex. Never a secret.
    pub name: Arc<str>,
    /// The SolvaPay client this caller's calls go through (its key, its redactor).
    pub api: SolvaPayClient,
    /// The tools this caller may list and call (within the server's own).
    pub policy: Arc<ToolPolicy>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("name", &self.name)
            .field("policy", &self.policy.to_string())
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// The caller of the request `context` belongs to, if the transport authenticated one.
    pub fn of(context: &RequestContext<RoleServer>) -> Option<&Self> {
        context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Self>())
    }
}
