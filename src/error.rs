//! The one conversion from a failure to a tool result: [`ToolError`], built from an [`ApiError`] or a
//! [`FieldError`], answers `isError: true` with SolvaPay's documented envelope
//! `{"success": false, "error": {"code": "...", "message": "..."}}` as its text (the error object may
//! add `field`, `status`, `requestId` and `outcome`). The error carries its [`ErrorKind`], from which
//! the code and the audited outcome follow, and an [`Advice`] rendered once after the account of
//! what happened: decisions read the kind, never the text.

use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use serde::Serialize;
use serde_json::json;

use crate::api::{ApiError, Rejection, TransportKind};
use crate::env;
use crate::metrics::CallOutcome;
use crate::model::FieldError;

/// The documented error codes of SolvaPay's MCP tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
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

/// What went wrong, as a type: it decides the error code, what the audit records and the default
/// advice. Nothing downstream looks at the message text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument is missing, malformed or breaks a rule checked before any request; `field` is
    /// its path (`events[2].units`) when one argument is at fault.
    InvalidArgument {
        /// The argument at fault.
        field: Option<String>,
    },
    /// A rule refused the call (SolvaPay's 4xx, or one of this server's): nothing was applied.
    Refused,
    /// SolvaPay already holds such an object (a duplicate).
    Conflict,
    /// The referenced object does not exist.
    NotFound,
    /// No API key is configured.
    MissingKey,
    /// SolvaPay refused the API key.
    Unauthorized,
    /// The endpoint is not open to API keys.
    EndpointUnavailable,
    /// The person did not confirm (or the confirmation did not hold): nothing was sent.
    Declined,
    /// Stopped here before sending (e.g. the audit log cannot be written): nothing was sent.
    NotSent,
    /// SolvaPay could not be reached: nothing was sent.
    Unreachable,
    /// SolvaPay is rate limiting: nothing was applied.
    RateLimited,
    /// The request may have reached SolvaPay and been acted on, though no answer says so.
    OutcomeUnknown,
    /// SolvaPay failed with an answer that says nothing was done (or a read failed: reads change
    /// nothing).
    Upstream,
    /// SolvaPay answered with success in valid JSON this server cannot read; `field` is the JSON
    /// path at fault. Asking again gets the same answer.
    Unreadable {
        /// The field of the answer at fault (`purchases[2].amount`).
        field: String,
    },
    /// This server failed (a handler panicked, a step was cancelled).
    Internal,
}

impl ErrorKind {
    /// The documented code this kind is reported with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidArgument { .. } | Self::Refused | Self::Conflict | Self::Declined => {
                ErrorCode::ValidationError
            }
            Self::NotFound => ErrorCode::NotFound,
            Self::MissingKey | Self::Unauthorized | Self::EndpointUnavailable => {
                ErrorCode::Unauthorized
            }
            Self::NotSent
            | Self::Unreachable
            | Self::RateLimited
            | Self::OutcomeUnknown
            | Self::Upstream
            | Self::Unreadable { .. }
            | Self::Internal => ErrorCode::InternalError,
        }
    }

    /// What a call that failed this way did to SolvaPay's state.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::OutcomeUnknown => Outcome::Unknown,
            Self::Declined => Outcome::Declined,
            _ => Outcome::Failed,
        }
    }

    /// How a call that failed this way is counted in the metrics.
    pub fn counted(&self) -> CallOutcome {
        match (self.outcome(), self.code()) {
            (Outcome::Declined, _) => CallOutcome::Refused,
            (Outcome::Unknown, _) => CallOutcome::Unknown,
            (Outcome::Failed, ErrorCode::NotFound) => CallOutcome::NotFound,
            (Outcome::Failed, ErrorCode::ValidationError) => CallOutcome::ValidationError,
            (Outcome::Failed, ErrorCode::Unauthorized) => CallOutcome::Unauthorized,
            (Outcome::Failed, ErrorCode::InternalError) => CallOutcome::InternalError,
        }
    }

    /// The advice that goes with this kind unless the caller knows better.
    fn advice(&self) -> Advice {
        match self {
            Self::MissingKey => Advice::SetKey,
            Self::Unauthorized => Advice::CheckKey,
            Self::Unreachable | Self::Upstream => Advice::RetryLater,
            Self::RateLimited => Advice::WaitAndRetry,
            Self::OutcomeUnknown => Advice::CheckEffect,
            _ => Advice::None,
        }
    }
}

/// What the model should do next, as a type; rendered once, after the account of what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Advice {
    /// Nothing to add.
    None,
    /// Nothing was applied and it may work later.
    RetryLater,
    /// SolvaPay asked to slow down.
    WaitAndRetry,
    /// The call may have been applied: look before repeating it.
    CheckEffect,
    /// A refund may have been made: repeating it could refund twice.
    CheckRefund,
    /// No key: where to put one.
    SetKey,
    /// The key was refused: what to check.
    CheckKey,
    /// The operator must repair the audit log.
    FixAuditLog,
    /// A confirmation that expired or belongs to another call: ask again.
    AskAgain,
    /// The shared state (PostgreSQL) cannot be reached: the operator must restore it.
    CheckSharedState,
}

impl Advice {
    /// The sentence shown to the model (empty for [`Advice::None`]).
    pub fn text(self) -> String {
        match self {
            Self::None => String::new(),
            Self::RetryLater => "Retry later.".into(),
            Self::WaitAndRetry => "Wait a little and retry.".into(),
            Self::CheckEffect => "Check its effect before retrying.".into(),
            Self::CheckRefund => "Do not repeat the refund: check with list_transactions (and \
                                  get_transaction on the source) first."
                .into(),
            Self::SetKey => format!(
                "Set {} (an sk_sandbox_… key for test data) in this server's environment, e.g. the \
                 \"env\" block of the MCP client's configuration, then restart the server.",
                env::SECRET_KEY
            ),
            Self::CheckKey => format!(
                "Check that {} holds a valid, unexpired secret key for this environment.",
                env::SECRET_KEY
            ),
            Self::FixAuditLog => "Ask the operator to fix the audit log.".into(),
            Self::AskAgain => "Call again to ask anew.".into(),
            Self::CheckSharedState => format!(
                "Ask the operator to check the PostgreSQL database of {}; tools that only read \
                 still work.",
                env::STATE_URL
            ),
        }
    }
}

/// A failed tool call, as the model sees it: a kind, an account of what happened and advice.
#[derive(Debug, Clone)]
pub struct ToolError {
    kind: ErrorKind,
    /// What the failure is about ("Refund outcome unknown"), put before the detail.
    context: Option<&'static str>,
    /// What happened, without advice.
    detail: String,
    advice: Advice,
    /// SolvaPay's HTTP status, when it answered.
    status: Option<u16>,
    /// SolvaPay's request id, when it sent one.
    request_id: Option<String>,
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
    /// An error of `kind` saying `detail`, with the kind's advice.
    pub fn of(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            advice: kind.advice(),
            kind,
            context: None,
            detail: detail.into(),
            status: None,
            request_id: None,
        }
    }

    /// An error known only by its code (the message says everything): a rule's refusal, a missing
    /// object, a refused key or this server's own failure.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let kind = match code {
            ErrorCode::NotFound => ErrorKind::NotFound,
            ErrorCode::ValidationError => ErrorKind::Refused,
            ErrorCode::Unauthorized => ErrorKind::Unauthorized,
            ErrorCode::InternalError => ErrorKind::Internal,
        };
        Self::of(kind, message).advise(Advice::None)
    }

    /// A confirmation that was not given: `detail` says why; nothing was sent.
    pub fn declined(detail: impl Into<String>) -> Self {
        Self::of(ErrorKind::Declined, detail)
    }

    /// A validation error for `field`.
    pub fn invalid(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        FieldError::new(field, message.to_string()).into()
    }

    /// The same error with `advice` in place of the kind's.
    #[must_use]
    pub fn advise(mut self, advice: Advice) -> Self {
        self.advice = advice;
        self
    }

    /// The same error, said to be about `context` ("No usage events were recorded").
    #[must_use]
    pub fn about(mut self, context: &'static str) -> Self {
        self.context = Some(context);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The documented code.
    pub fn code(&self) -> ErrorCode {
        self.kind.code()
    }

    /// What the failed call did.
    pub fn outcome(&self) -> Outcome {
        self.kind.outcome()
    }

    /// The advice given.
    pub fn advice(&self) -> Advice {
        self.advice
    }

    /// The argument at fault, for validation errors found before any request; the field of
    /// SolvaPay's answer at fault, for an answer this server cannot read.
    pub fn field(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::InvalidArgument { field } => field.as_deref(),
            ErrorKind::Unreadable { field } => Some(field),
            _ => None,
        }
    }

    /// The message: context, what happened, then the advice.
    pub fn message(&self) -> String {
        let mut text = String::with_capacity(self.detail.len() + 64);
        if let Some(context) = self.context {
            text.push_str(context);
            text.push_str(": ");
        }
        text.push_str(&self.detail);
        let advice = self.advice.text();
        if !advice.is_empty() {
            text.push(' ');
            text.push_str(&advice);
        }
        text
    }

    /// The envelope shown as the result text.
    pub fn envelope(&self) -> serde_json::Value {
        json!({"success": false, "error": {"code": self.code(), "message": self.message()}})
    }

    /// The envelope plus the machine-readable details (field, status, requestId, outcome): the
    /// text of the error result.
    pub fn structured(&self) -> serde_json::Value {
        let mut value = self.envelope();
        if let Some(error) = value.get_mut("error").and_then(|e| e.as_object_mut()) {
            if let Some(field) = self.field() {
                error.insert("field".into(), json!(field));
            }
            if let Some(status) = self.status {
                error.insert("status".into(), json!(status));
            }
            if let Some(id) = &self.request_id {
                error.insert("requestId".into(), json!(id));
            }
            if self.outcome() == Outcome::Unknown {
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
        let detail = format!("Invalid argument `{}`: {}", e.field, e.message);
        Self::of(
            ErrorKind::InvalidArgument {
                field: Some(e.field),
            },
            detail,
        )
    }
}

impl From<ApiError> for ToolError {
    fn from(e: ApiError) -> Self {
        let (kind, detail) = match &e {
            ApiError::MissingKey => (
                ErrorKind::MissingKey,
                "Authentication required: no SolvaPay API key is configured.".to_owned(),
            ),
            ApiError::Status {
                status, message, ..
            } => match e.rejection() {
                Some(Rejection::Key) => (
                    ErrorKind::Unauthorized,
                    format!("SolvaPay refused the API key ({message})."),
                ),
                Some(Rejection::NoRoute) => (
                    ErrorKind::EndpointUnavailable,
                    format!("This SolvaPay endpoint is not available with an API key ({message})."),
                ),
                Some(Rejection::NotFound) => (ErrorKind::NotFound, message.clone()),
                Some(Rejection::Conflict) => (ErrorKind::Conflict, format!("{message} (conflict)")),
                Some(Rejection::Invalid) => (ErrorKind::Refused, message.clone()),
                Some(Rejection::RateLimited) => (
                    ErrorKind::RateLimited,
                    "SolvaPay is rate limiting requests.".to_owned(),
                ),
                None => (
                    if e.outcome_unknown() {
                        ErrorKind::OutcomeUnknown
                    } else {
                        ErrorKind::Upstream
                    },
                    format!("SolvaPay failed (HTTP {status}): {message}."),
                ),
            },
            ApiError::Transport {
                kind: TransportKind::Connect,
                detail,
            } => (
                ErrorKind::Unreachable,
                format!("Could not reach SolvaPay ({detail}); nothing was sent."),
            ),
            ApiError::Transport { kind, detail } => (
                ErrorKind::OutcomeUnknown,
                format!(
                    "SolvaPay {kind} ({detail}); the request may or may not have been applied."
                ),
            ),
            ApiError::DashboardOnly {
                operation,
                status,
                sdk_accepts_key: true,
            } => (
                ErrorKind::EndpointUnavailable,
                format!(
                    "{operation} is not available with an API key (a dashboard-only endpoint; \
                     SolvaPay answered HTTP {status} while its /v1/sdk routes accept the same \
                     key). This server will not call it again until restarted; the tools on \
                     /v1/sdk routes are not affected."
                ),
            ),
            ApiError::DashboardOnly {
                operation, status, ..
            } => (
                ErrorKind::EndpointUnavailable,
                format!(
                    "{operation} is not available with an API key (a dashboard-only endpoint; \
                     SolvaPay answered HTTP {status}), unless the key itself is refused: no \
                     /v1/sdk route has answered with it yet. If tools on /v1/sdk routes (e.g. \
                     get_customer) answer UNAUTHORIZED too, check that {} holds a valid key.",
                    env::SECRET_KEY
                ),
            ),
            ApiError::TooLarge { .. } | ApiError::Decode { .. } => {
                (ErrorKind::OutcomeUnknown, format!("{e}."))
            }
            ApiError::Unreadable { field, .. } => (
                ErrorKind::Unreadable {
                    field: field.clone(),
                },
                format!("{e}. Asking again gets the same answer: report it to the operator."),
            ),
            ApiError::Read(cause) => (
                ErrorKind::Upstream,
                match cause.as_ref() {
                    ApiError::Status {
                        status, message, ..
                    } => {
                        format!("SolvaPay failed (HTTP {status}): {message}; nothing was changed.")
                    }
                    ApiError::Transport { kind, detail } => {
                        format!("SolvaPay {kind} ({detail}); nothing was changed (a read).")
                    }
                    other => format!("{other}; nothing was changed (a read)."),
                },
            ),
        };
        let mut error = Self::of(kind, detail);
        let e = match e {
            ApiError::Read(cause) => *cause,
            other => other,
        };
        if let ApiError::Status {
            status, request_id, ..
        } = e
        {
            error.status = Some(status);
            error.request_id = request_id;
            if error.kind == ErrorKind::OutcomeUnknown {
                // A failed answer (500, 502–504) is not a lost one: the advice for reads holds, and
                // writes that cannot be repeated choose their own (refunds).
                error.advice = Advice::RetryLater;
            }
        }
        error
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

    /// The failure noted so far for the running call (outside [`scope`], none).
    pub(crate) fn noted() -> Option<ToolError> {
        FAILURE.try_with(|f| f.borrow().clone()).ok().flatten()
    }

    /// Records `error` as the running call's failure (outside [`scope`], nothing happens).
    pub(crate) fn note(error: &ToolError) {
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

    fn transport(kind: TransportKind) -> ToolError {
        ApiError::Transport {
            kind,
            detail: "tcp".into(),
        }
        .into()
    }

    /// Every failure SolvaPay can give, with the kind, code, advice and message it becomes.
    #[test]
    fn each_api_error_maps_to_a_kind_a_code_and_advice() {
        use Advice as A;
        use ErrorCode as C;
        use ErrorKind as K;
        let key = env::SECRET_KEY;
        let cases: Vec<(ToolError, K, C, A, String)> = vec![
            (
                ApiError::MissingKey.into(),
                K::MissingKey,
                C::Unauthorized,
                A::SetKey,
                format!(
                    "Authentication required: no SolvaPay API key is configured. Set {key} (an \
                     sk_sandbox_… key for test data) in this server's environment, e.g. the \
                     \"env\" block of the MCP client's configuration, then restart the server."
                ),
            ),
            (
                status(401, "Invalid or expired secret key"),
                K::Unauthorized,
                C::Unauthorized,
                A::CheckKey,
                format!(
                    "SolvaPay refused the API key (Invalid or expired secret key). Check that \
                     {key} holds a valid, unexpired secret key for this environment."
                ),
            ),
            (
                status(403, "Forbidden"),
                K::Unauthorized,
                C::Unauthorized,
                A::CheckKey,
                format!(
                    "SolvaPay refused the API key (Forbidden). Check that {key} holds a valid, \
                     unexpired secret key for this environment."
                ),
            ),
            (
                status(404, "Cannot GET /v1/ui/customers"),
                K::EndpointUnavailable,
                C::Unauthorized,
                A::None,
                "This SolvaPay endpoint is not available with an API key (Cannot GET \
                 /v1/ui/customers)."
                    .into(),
            ),
            (
                status(404, "Customer not found"),
                K::NotFound,
                C::NotFound,
                A::None,
                "Customer not found".into(),
            ),
            (
                status(409, "Customer with identifier email a@b.io already exists"),
                K::Conflict,
                C::ValidationError,
                A::None,
                "Customer with identifier email a@b.io already exists (conflict)".into(),
            ),
            (
                // SolvaPay sends some duplicates as 400 with nothing but the message to say so.
                status(400, "Customer with this email already exists"),
                K::Conflict,
                C::ValidationError,
                A::None,
                "Customer with this email already exists (conflict)".into(),
            ),
            (
                status(400, "Invalid email format"),
                K::Refused,
                C::ValidationError,
                A::None,
                "Invalid email format".into(),
            ),
            (
                status(422, "Validation failed"),
                K::Refused,
                C::ValidationError,
                A::None,
                "Validation failed".into(),
            ),
            (
                status(429, "slow down"),
                K::RateLimited,
                C::InternalError,
                A::WaitAndRetry,
                "SolvaPay is rate limiting requests. Wait a little and retry.".into(),
            ),
            (
                status(500, "boom"),
                K::OutcomeUnknown,
                C::InternalError,
                A::RetryLater,
                "SolvaPay failed (HTTP 500): boom. Retry later.".into(),
            ),
            (
                status(503, "Service Unavailable"),
                K::OutcomeUnknown,
                C::InternalError,
                A::RetryLater,
                "SolvaPay failed (HTTP 503): Service Unavailable. Retry later.".into(),
            ),
            (
                status(501, "Not Implemented"),
                K::Upstream,
                C::InternalError,
                A::RetryLater,
                "SolvaPay failed (HTTP 501): Not Implemented. Retry later.".into(),
            ),
            (
                transport(TransportKind::Connect),
                K::Unreachable,
                C::InternalError,
                A::RetryLater,
                "Could not reach SolvaPay (tcp); nothing was sent. Retry later.".into(),
            ),
            (
                transport(TransportKind::Timeout),
                K::OutcomeUnknown,
                C::InternalError,
                A::CheckEffect,
                "SolvaPay timed out (tcp); the request may or may not have been applied. Check \
                 its effect before retrying."
                    .into(),
            ),
            (
                transport(TransportKind::Interrupted),
                K::OutcomeUnknown,
                C::InternalError,
                A::CheckEffect,
                "SolvaPay connection interrupted (tcp); the request may or may not have been \
                 applied. Check its effect before retrying."
                    .into(),
            ),
            (
                ApiError::TooLarge { limit: 8 }.into(),
                K::OutcomeUnknown,
                C::InternalError,
                A::CheckEffect,
                "SolvaPay's answer exceeded 8 bytes and was discarded. Check its effect before \
                 retrying."
                    .into(),
            ),
            (
                ApiError::Decode {
                    operation: "POST /v1/sdk/customers".into(),
                    detail: "missing field `reference`".into(),
                }
                .into(),
                K::OutcomeUnknown,
                C::InternalError,
                A::CheckEffect,
                "SolvaPay's answer to POST /v1/sdk/customers could not be read: missing field \
                 `reference`. Check its effect before retrying."
                    .into(),
            ),
        ];
        for (error, kind, code, advice, message) in cases {
            assert_eq!(error.kind(), &kind, "{message}");
            assert_eq!(error.code(), code, "{message}");
            assert_eq!(error.advice(), advice, "{message}");
            assert_eq!(error.message(), message);
            assert_eq!(error.envelope()["error"]["message"], message);
        }
    }

    #[test]
    fn the_kind_decides_the_outcome() {
        assert_eq!(status(400, "x").outcome(), Outcome::Failed);
        assert_eq!(status(502, "x").outcome(), Outcome::Unknown);
        assert_eq!(transport(TransportKind::Connect).outcome(), Outcome::Failed);
        assert_eq!(
            transport(TransportKind::Timeout).outcome(),
            Outcome::Unknown
        );
        assert_eq!(ToolError::declined("no").outcome(), Outcome::Declined);
        let unknown = transport(TransportKind::Timeout);
        assert_eq!(unknown.structured()["error"]["outcome"], "unknown");
        assert!(
            status(500, "x").structured()["error"]
                .get("field")
                .is_none()
        );
    }

    #[test]
    fn advice_is_chosen_by_type_and_said_once() {
        let refund = status(500, "boom")
            .about("Refund outcome unknown")
            .advise(Advice::CheckRefund);
        assert_eq!(
            refund.message(),
            "Refund outcome unknown: SolvaPay failed (HTTP 500): boom. Do not repeat the refund: \
             check with list_transactions (and get_transaction on the source) first."
        );
        assert_eq!(refund.kind(), &ErrorKind::OutcomeUnknown);
        let invalid = ToolError::invalid("amount", "must be positive");
        assert_eq!(
            invalid.message(),
            "Invalid argument `amount`: must be positive"
        );
        assert_eq!(invalid.field(), Some("amount"));
        assert_eq!(invalid.structured()["error"]["field"], "amount");
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

    #[test]
    fn each_kind_is_counted_by_its_effect_then_its_code() {
        use crate::metrics::CallOutcome as O;
        assert_eq!(ErrorKind::Declined.counted(), O::Refused);
        assert_eq!(ErrorKind::OutcomeUnknown.counted(), O::Unknown);
        assert_eq!(ErrorKind::NotFound.counted(), O::NotFound);
        assert_eq!(ErrorKind::Refused.counted(), O::ValidationError);
        assert_eq!(
            ErrorKind::InvalidArgument { field: None }.counted(),
            O::ValidationError
        );
        assert_eq!(ErrorKind::Unauthorized.counted(), O::Unauthorized);
        assert_eq!(ErrorKind::NotSent.counted(), O::InternalError);
    }
}
