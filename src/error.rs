//! The one conversion from a failure to a tool result: [`ToolError`], built from an [`ApiError`] or a
//! [`FieldError`], answers `isError: true` with SolvaPay's documented envelope
//! `{"success": false, "error": {"code": "...", "message": "..."}}` as its text (the error object may
//! add `field`, `status`, `requestId` and `outcome`).

use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use serde::Serialize;
use serde_json::json;

use crate::api::{ApiError, TransportKind};
use crate::config::env;
use crate::model::FieldError;

/// The documented error codes of SolvaPay's MCP tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The referenced object does not exist.
    NotFound,
    /// Bad or missing arguments, or a business rule refused them.
    ValidationError,
    /// No key, or SolvaPay refused it.
    Unauthorized,
    /// SolvaPay failed or could not be reached.
    InternalError,
}

/// A failed tool call, as the model sees it.
#[derive(Debug, Clone)]
pub struct ToolError {
    /// One of the documented codes.
    pub code: ErrorCode,
    /// Short, actionable text.
    pub message: String,
    /// The argument at fault, for validation errors found before any request.
    pub field: Option<String>,
    /// SolvaPay's HTTP status, when it answered.
    pub status: Option<u16>,
    /// SolvaPay's request id, when it sent one.
    pub request_id: Option<String>,
    /// What the failed call did.
    pub outcome: Outcome,
}

/// What a failed call did to SolvaPay's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    /// Nothing was applied (refused before sending, or SolvaPay refused it).
    #[default]
    Failed,
    /// The request may have reached SolvaPay and been acted on, though no answer says so.
    Unknown,
    /// The person did not confirm (or the confirmation did not hold): nothing was sent.
    Declined,
}

impl ToolError {
    /// An error with no upstream details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            status: None,
            request_id: None,
            outcome: Outcome::Failed,
        }
    }

    /// The same error, marked as a confirmation that was not given.
    pub fn declined(mut self) -> Self {
        self.outcome = Outcome::Declined;
        self
    }

    /// A validation error for `field`.
    pub fn invalid(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        FieldError::new(field, message.to_string()).into()
    }

    /// The envelope shown as the result text.
    pub fn envelope(&self) -> serde_json::Value {
        json!({"success": false, "error": {"code": self.code, "message": self.message}})
    }

    /// The envelope plus the machine-readable details (field, status, requestId, outcome): the
    /// text of the error result.
    pub fn structured(&self) -> serde_json::Value {
        let mut value = self.envelope();
        if let Some(error) = value.get_mut("error").and_then(|e| e.as_object_mut()) {
            if let Some(field) = &self.field {
                error.insert("field".into(), json!(field));
            }
            if let Some(status) = self.status {
                error.insert("status".into(), json!(status));
            }
            if let Some(id) = &self.request_id {
                error.insert("requestId".into(), json!(id));
            }
            if self.outcome == Outcome::Unknown {
                error.insert("outcome".into(), json!("unknown"));
            }
        }
        value
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.envelope())
    }
}

impl From<FieldError> for ToolError {
    fn from(e: FieldError) -> Self {
        Self {
            code: ErrorCode::ValidationError,
            message: format!("Invalid argument `{}`: {}", e.field, e.message),
            field: Some(e.field),
            status: None,
            request_id: None,
            outcome: Outcome::Failed,
        }
    }
}

impl From<ApiError> for ToolError {
    fn from(e: ApiError) -> Self {
        let (code, message) = match &e {
            ApiError::MissingKey => (
                ErrorCode::Unauthorized,
                format!(
                    "Authentication required: no SolvaPay API key is configured. Set {} (an sk_sandbox_… \
                     key for test data) in this server's environment, e.g. the \"env\" block of the MCP \
                     client's configuration, then restart the server.",
                    env::SECRET_KEY
                ),
            ),
            ApiError::Status {
                status: 401 | 403,
                message,
                ..
            } => (
                ErrorCode::Unauthorized,
                format!(
                    "SolvaPay refused the API key ({message}). Check that {} holds a valid, unexpired \
                     secret key for this environment.",
                    env::SECRET_KEY
                ),
            ),
            ApiError::Status {
                status: 404,
                message,
                ..
            } if message.starts_with("Cannot ") => (
                ErrorCode::Unauthorized,
                format!("This SolvaPay endpoint is not available with an API key ({message})."),
            ),
            ApiError::Status {
                status: 404,
                message,
                ..
            } => (ErrorCode::NotFound, message.clone()),
            ApiError::Status {
                status: 409,
                message,
                ..
            } => (ErrorCode::ValidationError, format!("{message} (conflict)")),
            ApiError::Status {
                status: 400..=499,
                message,
                ..
            } if e.status() != Some(429) => (ErrorCode::ValidationError, message.clone()),
            ApiError::Status { status: 429, .. } => (
                ErrorCode::InternalError,
                "SolvaPay is rate limiting requests; wait a little and retry.".to_owned(),
            ),
            ApiError::Status {
                status, message, ..
            } => (
                ErrorCode::InternalError,
                format!("SolvaPay failed (HTTP {status}): {message}. Retry later."),
            ),
            ApiError::Transport {
                kind: TransportKind::Connect,
                detail,
            } => (
                ErrorCode::InternalError,
                format!("Could not reach SolvaPay ({detail}); nothing was sent. Retry later."),
            ),
            ApiError::Transport { kind, detail } => (
                ErrorCode::InternalError,
                format!(
                    "SolvaPay {kind} ({detail}); the request may or may not have been applied. \
                     Check its effect before retrying."
                ),
            ),
            ApiError::TooLarge { .. } | ApiError::Decode { .. } => {
                (ErrorCode::InternalError, e.to_string())
            }
        };
        let request_id = match &e {
            ApiError::Status { request_id, .. } => request_id.clone(),
            _ => None,
        };
        Self {
            code,
            message,
            field: None,
            status: e.status(),
            request_id,
            outcome: if e.outcome_unknown() {
                Outcome::Unknown
            } else {
                Outcome::Failed
            },
        }
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, rmcp::ErrorData> {
        // The details ride in the text envelope, not in `structuredContent`: clients validate
        // `structuredContent` against the tool's `outputSchema` even on errors (the MCP TypeScript
        // SDK does), and an error is not a result.
        report::note(&self);
        Ok(CallToolResult::error(vec![ContentBlock::text(self.structured().to_string())]).into())
    }
}

/// The failure of the tool call being run, kept (typed) for the audit record: the tools answer
/// through rmcp's router, which turns a [`ToolError`] into a result, and the audit needs to know
/// what the error meant, not what its text says.
pub(crate) mod report {
    use std::cell::RefCell;
    use std::future::Future;

    use super::ToolError;

    tokio::task_local! {
        static FAILURE: RefCell<Option<ToolError>>;
    }

    /// Runs `call`, returning its output and the last [`ToolError`] it answered with.
    pub(crate) async fn scope<F: Future>(call: F) -> (F::Output, Option<ToolError>) {
        FAILURE
            .scope(RefCell::new(None), async move {
                let output = call.await;
                let failure = FAILURE.with(|f| f.borrow_mut().take());
                (output, failure)
            })
            .await
    }

    /// Records `error` as the running call's failure (outside [`scope`], nothing happens).
    pub(super) fn note(error: &ToolError) {
        let _ = FAILURE.try_with(|f| *f.borrow_mut() = Some(error.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, message: &str) -> ToolError {
        ApiError::Status {
            status,
            message: message.into(),
            error: None,
            request_id: Some("r-9".into()),
        }
        .into()
    }

    #[test]
    fn statuses_map_to_the_documented_codes() {
        assert_eq!(
            status(400, "Invalid email format").code,
            ErrorCode::ValidationError
        );
        assert_eq!(status(422, "x").code, ErrorCode::ValidationError);
        assert_eq!(
            status(409, "already exists").code,
            ErrorCode::ValidationError
        );
        assert_eq!(
            status(401, "Invalid or expired secret key").code,
            ErrorCode::Unauthorized
        );
        assert_eq!(status(403, "x").code, ErrorCode::Unauthorized);
        assert_eq!(status(404, "Customer not found").code, ErrorCode::NotFound);
        assert_eq!(
            status(404, "Cannot GET /v1/ui/customers").code,
            ErrorCode::Unauthorized
        );
        assert_eq!(status(429, "slow down").code, ErrorCode::InternalError);
        assert_eq!(status(500, "boom").code, ErrorCode::InternalError);
        assert_eq!(
            ToolError::from(ApiError::MissingKey).code,
            ErrorCode::Unauthorized
        );
    }

    #[test]
    fn envelope_text_and_structured_details() {
        let e = status(404, "Customer with reference cus_INVALID not found");
        assert_eq!(
            e.envelope(),
            json!({"success": false, "error": {"code": "NOT_FOUND", "message": "Customer with reference cus_INVALID not found"}})
        );
        assert_eq!(e.structured()["error"]["status"], 404);
        assert_eq!(e.structured()["error"]["requestId"], "r-9");
    }
}
