//! MCP Apps (the `io.modelcontextprotocol/ui` extension, MCP layer): whether the host renders
//! them, the review form a money move answers with first on such a host, and the token the
//! form's submit carries back.
//!
//! A host that renders Apps declares it in its capabilities (`extensions`, with the
//! `text/html;profile=mcp-app` MIME type): in `initialize` (2025-11-25) or in every request's
//! `_meta` (2026-07-28). On such a host, `create_refund`, `grant_credits` and `cancel_renewal`
//! answer a first call with a result describing the pending move (nothing is sent) and a sealed
//! single-use token in the result's `_meta`; the view (`ui://solvapay/review/…`) shows it, and on
//! the person's click calls the same tool with the same arguments and the token in the request's
//! `_meta`. Sealing, binding and spending the token are [`crate::confirm`]'s.
//!
//! `get_revenue_metrics` names a read-only view too (`ui://solvapay/metrics/revenue`): its result
//! is today's, and the host draws it (figures and bars per currency).

use rmcp::RoleServer;
use rmcp::model::{MetaObject, Tool};
use rmcp::service::RequestContext;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalog;

/// The extension's identifier in client capabilities.
pub(crate) const EXTENSION: &str = "io.modelcontextprotocol/ui";
/// The MIME type of an App's HTML resource.
pub(crate) const MIME_TYPE: &str = "text/html;profile=mcp-app";
/// `_meta` key of the review token: in a review result, and in the submitting call.
pub(crate) const TOKEN_KEY: &str = "solvapay/reviewToken";
/// `_meta` key of the review form's content in a review result.
pub(crate) const REVIEW_KEY: &str = "solvapay/review";

/// True when the request's host declares that it renders MCP Apps.
pub(crate) fn renders(context: &RequestContext<RoleServer>) -> bool {
    let Some(extensions) = context.client_capabilities().and_then(|c| c.extensions) else {
        return false;
    };
    extensions
        .get(EXTENSION)
        .and_then(|settings| settings.get("mimeTypes"))
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t.as_str() == Some(MIME_TYPE)))
}

/// `tools` as a host that renders Apps lists them: the tools with a view (a review form, the
/// revenue chart) name it in `_meta.ui.resourceUri` (other hosts get the list without, which
/// keeps it small).
pub(crate) fn with_views(tools: &mut [Tool]) {
    for tool in tools {
        let Some((key, value)) = catalog::find(&tool.name).and_then(|t| t.view_meta()) else {
            continue;
        };
        tool.meta
            .get_or_insert_with(MetaObject::new)
            .0
            .insert(key.to_owned(), value);
    }
}

/// The review token the request carries in its `_meta`: a submit from the review form.
pub(crate) fn submitted(context: &RequestContext<RoleServer>) -> Option<&str> {
    context.meta.get(TOKEN_KEY).and_then(Value::as_str)
}

/// What the review form shows and submits: a heading, the resolved figures, the button, and
/// the call its submit makes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Review {
    /// The tool the submit calls.
    pub(crate) tool: &'static str,
    /// "Refund $25.00 to Jane Smith".
    pub(crate) title: String,
    /// The resolved figures, in order.
    pub(crate) rows: Vec<Row>,
    /// The submit button's label.
    pub(crate) action: &'static str,
    /// The arguments the submit calls the tool with (the first call's, as understood).
    pub(crate) arguments: Map<String, Value>,
}

/// One line of the form: a label and its value.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub(crate) label: &'static str,
    pub(crate) value: String,
}

impl Review {
    /// A form for `tool`, titled `title`, submitting `arguments`.
    pub(crate) fn new(
        tool: &'static str,
        title: String,
        action: &'static str,
        arguments: Map<String, Value>,
    ) -> Self {
        Self {
            tool,
            title,
            rows: Vec::new(),
            action,
            arguments,
        }
    }

    /// The form with one more line.
    pub(crate) fn row(mut self, label: &'static str, value: impl Into<String>) -> Self {
        self.rows.push(Row {
            label,
            value: value.into(),
        });
        self
    }

    /// The `_meta` of the review result: the form and the token its submit carries back.
    pub(crate) fn meta(&self, token: &str) -> MetaObject {
        let mut meta = MetaObject::new();
        meta.0.insert(
            REVIEW_KEY.to_owned(),
            serde_json::to_value(self).unwrap_or(Value::Null),
        );
        meta.0
            .insert(TOKEN_KEY.to_owned(), Value::String(token.to_owned()));
        meta
    }
}

/// True when `meta` (a call result's) is a review's: the call was not run yet.
pub(crate) fn is_review(meta: Option<&MetaObject>) -> bool {
    meta.is_some_and(|m| m.0.contains_key(TOKEN_KEY))
}
