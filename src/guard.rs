//! What happens around a write-tool call: the human's confirmation before it (MCP elicitation), and
//! the audit line after it.

use std::time::Duration;

use rmcp::model::{CallToolResponse, ProtocolVersion};
use rmcp::service::{ElicitationError, Peer, RequestContext};
use rmcp::{RoleServer, elicit_safe};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::audit::{self, AuditEntry};
use crate::error::{ErrorCode, ToolError};
use crate::options::{ConfirmMode, ServerOptions};
use crate::policy;
use crate::tools::catalog::ToolSpec;

/// How long a person has to answer a confirmation.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(120);

/// The form shown to the person.
#[derive(Debug, Deserialize, JsonSchema)]
struct Confirmation {
    /// Tick to go ahead.
    confirm: bool,
}

elicit_safe!(Confirmation);

/// Asks the person to confirm `spec`'s call when it is destructive or moves money, the operator left
/// confirmation on, and the client can be asked. `Err` means: do not send anything.
pub(crate) async fn confirm(
    options: &ServerOptions,
    spec: &ToolSpec,
    args: &Map<String, Value>,
    context: &RequestContext<RoleServer>,
) -> Result<(), ToolError> {
    // create_refund asks itself, once it knows the amount, currency and customer.
    if !policy::needs_confirmation(spec) || spec.name == "create_refund" {
        return Ok(());
    }
    ask(options, context, &summary(spec.name, args)).await
}

/// Asks the person `question` unless the operator turned confirmation off or the client cannot be
/// asked. `Err` means: declined, cancelled or unanswered — do not send anything.
pub(crate) async fn ask(
    options: &ServerOptions,
    context: &RequestContext<RoleServer>,
    question: &str,
) -> Result<(), ToolError> {
    if options.confirm == ConfirmMode::Off {
        return Ok(());
    }
    // Server-to-client requests exist only before 2026-07-28; newer clients get the annotations.
    if context
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
    {
        return Ok(());
    }
    elicit(&context.peer, question).await
}

async fn elicit(peer: &Peer<RoleServer>, question: &str) -> Result<(), ToolError> {
    let declined = |why: &str| {
        ToolError::new(
            ErrorCode::ValidationError,
            format!(
                "Not done: the user {why} the confirmation (\"{question}\"); nothing was sent to SolvaPay."
            ),
        )
    };
    match peer
        .elicit_with_timeout::<Confirmation>(question, Some(CONFIRM_TIMEOUT))
        .await
    {
        Ok(Some(Confirmation { confirm: true })) => Ok(()),
        Ok(_) | Err(ElicitationError::UserDeclined | ElicitationError::NoContent) => {
            Err(declined("declined"))
        }
        Err(ElicitationError::UserCancelled) => Err(declined("cancelled")),
        // The client never offered elicitation: its own approval prompt (driven by the
        // destructive annotation) is the confirmation.
        Err(ElicitationError::CapabilityNotSupported) => Ok(()),
        Err(e) => {
            tracing::warn!("confirmation failed: {e}");
            Err(declined("did not answer"))
        }
    }
}

/// The JSON envelope in an error result's text (`Null` when the text is not JSON).
fn error_envelope(result: &rmcp::model::CallToolResult) -> Value {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .find_map(|t| serde_json::from_str::<Value>(&t.text).ok())
        .unwrap_or(Value::Null)
}

/// A plain sentence describing what the call would do.
pub(crate) fn summary(tool: &str, args: &Map<String, Value>) -> String {
    let arg = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| args.get(*n).and_then(Value::as_str))
            .unwrap_or("?")
            .to_owned()
    };
    match tool {
        "create_refund" => {
            let source = arg(&["sourceTransactionRef", "sourceTransactionId"]);
            let amount = match args.get("amount").and_then(Value::as_i64) {
                Some(a) => format!("{a} minor units"),
                None => "the full remaining amount".to_owned(),
            };
            format!("Refund {amount} of transaction {source}?")
        }
        "cancel_renewal" => format!(
            "Cancel the renewal of purchase {}?",
            arg(&["purchaseRef", "purchaseId"])
        ),
        "delete_customer" => format!("Delete customer {}?", arg(&["reference"])),
        "delete_product" => format!("Delete product {} and its plans?", arg(&["reference"])),
        "delete_plan" => format!(
            "Delete plan {} of product {}?",
            arg(&["planRef"]),
            arg(&["productRef"])
        ),
        other => format!("Run {other}?"),
    }
}

/// Appends the audit line of a write call; a failure to write it is logged, never hidden.
pub(crate) async fn audit(
    options: &ServerOptions,
    tool: &str,
    arguments: &serde_json::value::RawValue,
    response: &Result<CallToolResponse, rmcp::ErrorData>,
) {
    let Some(log) = &options.audit else { return };
    let (outcome, code, message, references) = match response {
        Ok(CallToolResponse::Complete(result)) => {
            if result.is_error == Some(true) {
                let structured = error_envelope(result);
                let error = &structured["error"];
                let message = error["message"].as_str().map(str::to_owned);
                let unknown = error["outcome"] == "unknown";
                let declined = message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("Not done: the user"));
                let outcome = if unknown {
                    "unknown"
                } else if declined {
                    "declined"
                } else {
                    "error"
                };
                (
                    outcome,
                    error["code"].as_str().map(str::to_owned),
                    message,
                    Vec::new(),
                )
            } else {
                let structured = result.structured_content.as_ref();
                (
                    "ok",
                    None,
                    None,
                    structured.map(audit::references).unwrap_or_default(),
                )
            }
        }
        Ok(_) => ("ok", None, None, Vec::new()),
        Err(e) => ("error", None, Some(e.message.to_string()), Vec::new()),
    };
    let entry = AuditEntry {
        time: OffsetDateTime::now_utc(),
        tool,
        arguments,
        outcome,
        code: code.as_deref(),
        message: message.as_deref(),
        references,
    };
    if let Err(e) = log.record(&entry).await {
        tracing::error!("could not write the audit log: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn summaries_name_what_will_happen() {
        assert_eq!(
            summary(
                "create_refund",
                &args(json!({"sourceTransactionId": "txn_D7E8F9G0", "amount": 2500}))
            ),
            "Refund 2500 minor units of transaction txn_D7E8F9G0?"
        );
        assert_eq!(
            summary(
                "create_refund",
                &args(json!({"sourceTransactionRef": "txn_1"}))
            ),
            "Refund the full remaining amount of transaction txn_1?"
        );
        assert_eq!(
            summary(
                "cancel_renewal",
                &args(json!({"purchaseId": "pur_T3U4V5W6"}))
            ),
            "Cancel the renewal of purchase pur_T3U4V5W6?"
        );
    }
}
