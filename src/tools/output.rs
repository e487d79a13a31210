//! How a successful tool result looks: `structuredContent` (checked against the advertised
//! `outputSchema`), a one-line summary for the model, and the same JSON as text for clients that
//! only show text.

use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use schemars::JsonSchema;
use serde::Serialize;

use crate::apps::Review;
use crate::text;

/// A one-line, human-readable account of a result ("Created customer cus_… (jane@acme.com)").
pub(crate) trait Summary {
    fn summary(&self) -> String;
}

/// Most items a list summary names.
const NAMED: usize = 3;

/// "Jane Smith (cus_A1B2C3D4), Bob (cus_X7Y8Z9W0)": the first three items joined by `sep`, then
/// "…" when more follow, so a model reads which rows came back, not just how many.
pub(crate) fn first_items(items: impl IntoIterator<Item = String>, sep: &str) -> String {
    let mut items = items.into_iter();
    let mut named: Vec<String> = items.by_ref().take(NAMED).collect();
    if items.next().is_some() {
        named.push("…".to_owned());
    }
    named.join(sep)
}

/// A structured tool result. Named `Json` because rmcp's `#[tool]` macro derives the `outputSchema`
/// from a return type spelled `Result<Json<T>, _>`.
pub(crate) struct Json<T>(pub(crate) T);

impl<T: Serialize + JsonSchema + Summary + 'static> IntoCallToolResult for Json<T> {
    fn into_call_tool_result(self) -> Result<CallToolResponse, rmcp::ErrorData> {
        self.into_result().map(Into::into)
    }
}

impl<T: Serialize + Summary> Json<T> {
    /// The result: the summary, the structured content, and the same JSON as text.
    fn into_result(self) -> Result<CallToolResult, rmcp::ErrorData> {
        let summary = text::scrub(&self.0.summary()).into_owned();
        let mut value = serde_json::to_value(&self.0).map_err(|e| {
            rmcp::ErrorData::internal_error(format!("result could not be serialised: {e}"), None)
        })?;
        // Data from SolvaPay (names, descriptions, metadata) is untrusted text: no string of a
        // result may hide or reorder what a person reads.
        text::scrub_json(&mut value);
        // One tree (the structured content, scrubbed) and one serialisation of it for the text
        // block, so both carry the same JSON. Through `to_string`, not `Value`'s `Display`, which
        // writes through `fmt::Formatter` (a customer: 2.0–3.9 µs against 1.7–2.9 µs; 50
        // transactions: 260–550 µs against 245–360 µs; BENCHMARKS.md, fourth session).
        let text = serde_json::to_string(&value).map_err(|e| {
            rmcp::ErrorData::internal_error(format!("result could not be serialised: {e}"), None)
        })?;
        let mut result =
            CallToolResult::success(vec![ContentBlock::text(summary), ContentBlock::text(text)]);
        result.structured_content = Some(value);
        Ok(result)
    }
}

/// A structured result, or (on 2026-07-28) a confirmation the person must give first. Tools that
/// return it name their `output_schema` in `#[tool]` (the macro only sees through `Json<T>`).
pub(crate) enum Reply<T> {
    /// The call ran: its result.
    Done(T),
    /// Nothing was sent: the client must ask the person and call again.
    Ask(rmcp::model::InputRequiredResult),
    /// Nothing was sent: the move as it would be made (in the tool's own output type, so the
    /// result matches its `outputSchema`), and the review form with its token in `_meta`, which
    /// a host that renders MCP Apps shows; the form's submit calls again.
    Review(Box<Pending<T>>),
}

/// A move awaiting its review (see [`Reply::Review`]).
pub(crate) struct Pending<T> {
    /// The tool's result as it would be, marked as not done.
    pub(crate) result: T,
    /// What the form shows and submits.
    pub(crate) review: Review,
    /// The sealed single-use token its submit carries.
    pub(crate) token: String,
}

impl<T> Reply<T> {
    /// A reply awaiting `review`, its submit carrying `token`.
    pub(crate) fn review(result: T, review: Review, token: String) -> Self {
        Self::Review(Box::new(Pending {
            result,
            review,
            token,
        }))
    }
}

impl<T: Serialize + JsonSchema + Summary + 'static> IntoCallToolResult for Reply<T> {
    fn into_call_tool_result(self) -> Result<CallToolResponse, rmcp::ErrorData> {
        match self {
            Self::Done(result) => Json(result).into_call_tool_result(),
            Self::Ask(input) => Ok(CallToolResponse::InputRequired(input)),
            Self::Review(pending) => {
                let Pending {
                    result,
                    review,
                    token,
                } = *pending;
                let mut result = Json(result).into_result()?;
                result.meta = Some(review.meta(&token));
                Ok(result.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::first_items;

    #[test]
    fn a_list_summary_names_three_rows_then_an_ellipsis() {
        let named = |n: usize| first_items((1..=n).map(|i| format!("r{i}")), ", ");
        assert_eq!(named(0), "");
        assert_eq!(named(3), "r1, r2, r3");
        assert_eq!(named(4), "r1, r2, r3, …");
    }
}
