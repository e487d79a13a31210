//! The resources this server offers (MCP layer, beside `tools`): one dispatcher for
//! `resources/list`, `resources/templates/list` and `resources/read`, each kind of resource in a
//! file of its own. A kind adds itself with one `mod`, one line in [`list`] or [`templates`], and
//! one arm in [`read`].
//!
//! Every resource is read through the same policy as the tool that reads the same thing: a
//! resource whose tool the caller may not call is neither listed nor readable (as unknown as a
//! resource the server does not have).

pub(crate) mod apps;
pub(crate) mod records;

use rmcp::model::{ReadResourceResult, Resource, ResourceTemplate};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};

use crate::server::BillingServer;

/// The fixed resources `context`'s caller may read.
pub(crate) fn list(server: &BillingServer, context: &RequestContext<RoleServer>) -> Vec<Resource> {
    apps::list(|tool| server.may_call(tool, context))
}

/// The resource templates `context`'s caller may read.
pub(crate) fn templates(
    server: &BillingServer,
    context: &RequestContext<RoleServer>,
) -> Vec<ResourceTemplate> {
    records::templates(|tool| server.may_call(tool, context))
}

/// The resource at `uri`, read as `context`'s caller (`server` calls SolvaPay with their client).
/// An unknown URI, or one the caller may not read, is the spec's resource-not-found error (rmcp
/// gives it the code of the session's protocol era).
pub(crate) async fn read(
    server: &BillingServer,
    uri: &str,
    context: &RequestContext<RoleServer>,
) -> Result<ReadResourceResult, ErrorData> {
    if let Some(path) = after_scheme(uri, records::SCHEME) {
        return records::read(server, uri, path, context).await;
    }
    if after_scheme(uri, apps::SCHEME).is_some() {
        return apps::read(uri, |tool| server.may_call(tool, context))
            .ok_or_else(|| not_found(uri));
    }
    Err(not_found(uri))
}

/// What follows `scheme` (`"solvapay://"`) in `uri`, whatever the scheme's case: a URI's scheme
/// is case-insensitive (RFC 3986 §3.1), so `SOLVAPAY://…` names the same resource.
fn after_scheme<'u>(uri: &'u str, scheme: &str) -> Option<&'u str> {
    let head = uri.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| uri.get(scheme.len()..))
        .flatten()
}

/// The spec's resource-not-found error for `uri` (-32002; rmcp turns it into -32602 for
/// 2026-07-28 peers, as that revision asks).
pub(crate) fn not_found(uri: &str) -> ErrorData {
    ErrorData::resource_not_found(
        format!("resource not found: {}", quoted(uri)),
        Some(serde_json::json!({ "uri": quoted(uri) })),
    )
}

/// `uri` as an error may repeat it: one line of at most 200 characters, with the characters that
/// hide or reorder text dropped.
fn quoted(uri: &str) -> String {
    crate::text::sanitize(uri, 200)
}
