//! The MCP Apps views (`ui://solvapay/…`, see [`crate::apps`]): the review form of each tool with
//! a review in the catalog (`review.html`: shows the review in the tool's result and submits the
//! call through the host on the person's click), and the read-only chart of a result
//! (`chart.html`: `get_revenue_metrics`'s figures and bars). Each is one self-contained HTML page
//! (no script or style from anywhere, no network) with the view side of the bridge (`bridge.js`)
//! put in where the page marks it. Listed and readable when the caller may call the tool.

use rmcp::model::{MetaObject, ReadResourceResult, Resource, ResourceContents};
use serde_json::json;

use crate::apps::MIME_TYPE;
use crate::catalog::{self, ToolSpec, View};

/// The scheme of every App resource.
pub(crate) const SCHEME: &str = "ui://";

/// The view side of the Apps bridge, shared by the pages.
const BRIDGE: &str = include_str!("bridge.js");
/// Where a page takes the bridge.
const BRIDGE_MARK: &str = "/*solvapay:bridge*/";
/// The review form: the host hands it the tool's result, it shows `_meta["solvapay/review"]` and
/// calls the tool back with `_meta["solvapay/reviewToken"]`.
const REVIEW: &str = include_str!("review.html");
/// The chart: the host hands it the tool's result, it draws its `structuredContent`.
const CHART: &str = include_str!("chart.html");

/// The tools with a view, and the view.
fn viewed() -> impl Iterator<Item = (&'static ToolSpec, View)> {
    catalog::TOOLS
        .iter()
        .filter_map(|t| t.view.map(|view| (t, view)))
}

/// The page of `view`, bridge included.
fn page(view: View) -> String {
    let html = match view {
        View::Review(_) => REVIEW,
        View::Chart(_) => CHART,
    };
    html.replacen(BRIDGE_MARK, BRIDGE, 1)
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

/// The views of the tools `allowed` says the caller may call.
pub(crate) fn list(allowed: impl Fn(&str) -> bool) -> Vec<Resource> {
    viewed()
        .filter(|(tool, _)| allowed(tool.name))
        .map(|(tool, view)| {
            let resource = match view {
                View::Review(uri) => Resource::new(uri, format!("{}-review", tool.name))
                    .with_title(format!("Review: {}", tool.title))
                    .with_description(format!(
                        "The form a person reviews and submits a {} call in (MCP Apps).",
                        tool.name
                    )),
                View::Chart(uri) => Resource::new(uri, format!("{}-chart", tool.name))
                    .with_title(format!("Chart: {}", tool.title))
                    .with_description(format!(
                        "A read-only chart of a {} result (MCP Apps).",
                        tool.name
                    )),
            };
            resource.with_mime_type(MIME_TYPE).with_meta(meta())
        })
        .collect()
}

/// The view at `uri`, when it is one and the caller may call its tool (`allowed`).
pub(crate) fn read(uri: &str, allowed: impl Fn(&str) -> bool) -> Option<ReadResourceResult> {
    let path = uri.get(SCHEME.len()..)?;
    let (_, view) = viewed().find(|(tool, view)| {
        allowed(tool.name) && view.uri().get(SCHEME.len()..).is_some_and(|p| p == path)
    })?;
    Some(ReadResourceResult::new(vec![
        ResourceContents::text(page(view), view.uri())
            .with_mime_type(MIME_TYPE)
            .with_meta(meta()),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_takes_the_bridge_once() {
        for html in [REVIEW, CHART] {
            assert_eq!(html.matches(BRIDGE_MARK).count(), 1);
        }
        for view in [View::Review("ui://a"), View::Chart("ui://b")] {
            let page = page(view);
            assert!(!page.contains(BRIDGE_MARK));
            assert!(page.contains("const bridge = (() => {"));
        }
    }
}
