//! How a successful tool result looks: `structuredContent` (checked against the advertised
//! `outputSchema`), a one-line summary for the model, and the same JSON as text for clients that
//! only show text.

use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use schemars::JsonSchema;
use serde::Serialize;

/// A one-line, human-readable account of a result ("Created customer cus_… (jane@acme.com)").
pub(crate) trait Summary {
    fn summary(&self) -> String;
}

/// A structured tool result. Named `Json` because rmcp's `#[tool]` macro derives the `outputSchema`
/// from a return type spelled `Result<Json<T>, _>`.
pub(crate) struct Json<T>(pub(crate) T);

impl<T: Serialize + JsonSchema + Summary + 'static> IntoCallToolResult for Json<T> {
    fn into_call_tool_result(self) -> Result<CallToolResponse, rmcp::ErrorData> {
        let summary = self.0.summary();
        let value = serde_json::to_value(&self.0).map_err(|e| {
            rmcp::ErrorData::internal_error(format!("result could not be serialised: {e}"), None)
        })?;
        let mut result = CallToolResult::structured(value.clone());
        result.content = vec![
            ContentBlock::text(summary),
            ContentBlock::text(value.to_string()),
        ];
        Ok(result.into())
    }
}
