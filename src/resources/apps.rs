//! The MCP Apps review forms (`ui://solvapay/review/…`, see [`crate::apps`]): one per tool with a
//! review in the catalog, each the same self-contained HTML page (`review.html`: no script or
//! style from anywhere, no network), which shows the review in the tool's result and submits
//! the call through the host on the person's click. Listed and readable when the caller may
//! call the tool.

use rmcp::model::{MetaObject, ReadResourceResult, Resource, ResourceContents};
use serde_json::json;

use crate::apps::MIME_TYPE;
use crate::catalog::{self, ToolSpec};

/// The scheme of every App resource.
pub(crate) const SCHEME: &str = "ui://";

/// The view: the host hands it the tool's result, it shows `_meta["solvapay/review"]` and calls
/// the tool back with `_meta["solvapay/reviewToken"]`.
const HTML: &str = include_str!("review.html");

/// The tools with a review form, and its URI.
fn reviewed() -> impl Iterator<Item = (&'static ToolSpec, &'static str)> {
    catalog::TOOLS
        .iter()
        .filter_map(|t| t.review.map(|uri| (t, uri)))
}

/// `_meta.ui` of the resource: no network, no nested frames (an empty CSP), and a border.
fn meta() -> MetaObject {
    let mut meta = MetaObject::new();
    meta.0.insert(
        catalog::UI_KEY.to_owned(),
        json!({ "csp": {}, "prefersBorder": true }),
    );
    meta
}

/// The review forms of the tools `allowed` says the caller may call.
pub(crate) fn list(allowed: impl Fn(&str) -> bool) -> Vec<Resource> {
    reviewed()
        .filter(|(tool, _)| allowed(tool.name))
        .map(|(tool, uri)| {
            Resource::new(uri, format!("{}-review", tool.name))
                .with_title(format!("Review: {}", tool.title))
                .with_description(format!(
                    "The form a person reviews and submits a {} call in (MCP Apps).",
                    tool.name
                ))
                .with_mime_type(MIME_TYPE)
                .with_meta(meta())
        })
        .collect()
}

/// The form at `uri`, when it is one and the caller may call its tool (`allowed`).
pub(crate) fn read(uri: &str, allowed: impl Fn(&str) -> bool) -> Option<ReadResourceResult> {
    let path = uri.get(SCHEME.len()..)?;
    let (_, named) = reviewed().find(|(tool, named)| {
        allowed(tool.name) && named.get(SCHEME.len()..).is_some_and(|p| p == path)
    })?;
    Some(ReadResourceResult::new(vec![
        ResourceContents::text(HTML, named)
            .with_mime_type(MIME_TYPE)
            .with_meta(meta()),
    ]))
}
