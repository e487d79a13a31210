//! The human's confirmation of a destructive or money-moving call (the MCP layer, called by
//! `server` and the refund tool), in both protocol eras. Which tools are confirmed, and by whom, is
//! the catalog row's [`catalog::Confirmation`].
//!
//! - **2025-11-25 sessions** (`initialize`): the server asks with an `elicitation/create` request and
//!   waits for the answer.
//! - **2026-07-28 requests** (stateless): there are no server→client requests, so the tool call is
//!   answered with an *input-required* result (MRTR) carrying the form and a sealed `requestState`;
//!   the client asks the person and calls again with the answer and the state. The state is sealed
//!   with a per-process secret and authenticates the tool, the arguments and the resolved amount
//!   (so it cannot be replayed for another call, or after the amount changed), expires, and can be
//!   used once.
//!
//! Clients that declare no form elicitation are not asked: their own approval prompt, driven by the
//! tool annotations (`destructiveHint`), is the confirmation.
//!
//! Hosts that render MCP Apps ([`crate::apps`]) are not asked either, for the tools with a review
//! form: the first call answers with the review and a sealed single-use token ([`review`]), and
//! the form's submit, carrying the token, is the confirmation.

mod review;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction,
    ElicitationSchema, InputRequest, InputRequests, InputRequiredResult, InputResponses,
    ProtocolVersion, RequestStateCodec, SealOptions,
};
use rmcp::service::{ElicitationError, RequestContext};
use rmcp::{RoleServer, elicit_safe};
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::caller::Caller;
use crate::catalog::{self, ToolSpec};
use crate::error::{Advice, ErrorKind, ToolError};
use crate::options::ConfirmMode;
use crate::state::SharedState;
use crate::state::spent::SpentStates;

/// How long a person has to answer a confirmation, by default.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The key of the one input request in an input-required result.
const INPUT_KEY: &str = "confirm";

/// The form shown to the person.
#[derive(Debug, Deserialize, JsonSchema)]
struct Confirmation {
    /// Tick to go ahead.
    confirm: bool,
}

elicit_safe!(Confirmation);

/// What a call needs before it may proceed.
#[derive(Debug)]
pub(crate) enum Consent {
    /// Go ahead: the person agreed, or this client is not asked.
    Given,
    /// Answer the call with this input-required result (2026-07-28): nothing is sent yet.
    Ask(InputRequiredResult),
    /// Answer the call with its review form and this sealed token (a host that renders MCP
    /// Apps): nothing is sent yet.
    Review(String),
}

/// Why a confirmation did not lead to the call: nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The person declined.
    Declined,
    /// The person cancelled the form.
    Cancelled,
    /// No answer within the time allowed (or the client failed to ask).
    Unanswered,
    /// The answer's state expired before the call came back, does not belong to this call (other
    /// tool, arguments or amount), was altered, or was already used.
    Stale,
    /// The review form's token expired, does not belong to this call (other tool, arguments,
    /// amount or caller), was altered, or was already used.
    StaleReview,
}

impl Refusal {
    fn what(self) -> &'static str {
        match self {
            Self::Declined => "the user declined the confirmation",
            Self::Cancelled => "the user cancelled the confirmation",
            Self::Unanswered => "the user did not answer the confirmation",
            Self::Stale => {
                "the confirmation has expired or does not belong to this call (other arguments or \
                 amount, altered, or already used)"
            }
            Self::StaleReview => {
                "the review form was already submitted, has expired, or does not belong to this \
                 call (other tool, arguments, amount or caller)"
            }
        }
    }

    fn advice(self) -> Advice {
        match self {
            Self::Stale | Self::StaleReview => Advice::AskAgain,
            Self::Declined | Self::Cancelled | Self::Unanswered => Advice::None,
        }
    }
}

/// A refused confirmation as the model sees it: declined, whatever the reason (the audit records
/// it so), with nothing sent.
pub(crate) fn refused(refusal: Refusal, question: &str) -> ToolError {
    ToolError::declined(format!(
        "Not done: {} (\"{question}\"); nothing was sent to SolvaPay.",
        refusal.what()
    ))
    .advise(refusal.advice())
}

/// What a retried 2026-07-28 call carries back: the answers and the sealed state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answer {
    responses: Option<InputResponses>,
    state: Option<String>,
}

impl Answer {
    /// Takes the MRTR fields out of `request` (the tools never see them).
    pub(crate) fn take(request: &mut CallToolRequestParams) -> Self {
        Self {
            responses: request.input_responses.take(),
            state: request.request_state.take(),
        }
    }
}

/// What a confirmation is bound to: the tool, its arguments and, where it was resolved, the amount.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binding<'a> {
    /// The tool called.
    pub(crate) tool: &'a str,
    /// The arguments as the client sent them.
    pub(crate) arguments: &'a Map<String, Value>,
    /// The amount the call will move (minor units), when it was resolved before asking.
    pub(crate) amount: Option<i64>,
}

impl Binding<'_> {
    /// The bytes the sealed state authenticates: the call, and who makes it (over HTTP, the
    /// authenticated caller, so one caller cannot spend a confirmation another was asked).
    /// `serde_json::Map` is ordered by key, so the same arguments give the same bytes whatever
    /// order the client sent them in.
    fn associated_data(&self, caller: Option<&str>) -> Vec<u8> {
        let arguments = serde_json::to_vec(self.arguments).unwrap_or_default();
        let amount = self.amount.map(|a| a.to_string()).unwrap_or_default();
        let caller = caller.unwrap_or_default();
        let mut data =
            Vec::with_capacity(self.tool.len() + arguments.len() + amount.len() + caller.len() + 3);
        data.extend_from_slice(self.tool.as_bytes());
        data.push(0);
        data.extend_from_slice(&arguments);
        data.push(0);
        data.extend_from_slice(amount.as_bytes());
        data.push(0);
        data.extend_from_slice(caller.as_bytes());
        data
    }
}

/// The sealed payload of a `requestState`.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    /// One-time use: a state is spent when it is accepted.
    nonce: String,
}

/// The secret that seals and opens 2026-07-28 confirmation states. Replicas that share it open
/// each other's states; one made by [`random`](Self::random) is this process's alone. Its `Debug`
/// never shows it.
pub struct RequestStateKey(SecretSlice<u8>);

impl std::fmt::Debug for RequestStateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestStateKey(<redacted>)")
    }
}

impl Default for RequestStateKey {
    fn default() -> Self {
        Self::random()
    }
}

/// Why a configured [`RequestStateKey`] cannot be used. Never carries the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestStateKeyError {
    /// Neither hex nor base64.
    #[error("is neither hex nor base64 (generate one with `openssl rand -hex 32`)")]
    NotEncoded,
    /// Decodes to fewer than [`RequestStateCodec::MIN_KEY_LENGTH`] bytes.
    #[error(
        "decodes to {0} bytes; at least 32 are needed (generate one with `openssl rand -hex 32`)"
    )]
    TooShort(usize),
}

impl RequestStateKey {
    /// A fresh random key: states it seals open in this process only.
    pub fn random() -> Self {
        let secret: [u8; RequestStateCodec::MIN_KEY_LENGTH] = rand::random();
        Self(SecretSlice::from(secret.to_vec()))
    }

    /// A key given as hex (an even number of hex digits) or base64 (standard or URL-safe, padded
    /// or not), at least [`RequestStateCodec::MIN_KEY_LENGTH`] bytes once decoded. Surrounding
    /// whitespace is ignored.
    pub fn parse(raw: &str) -> Result<Self, RequestStateKeyError> {
        use base64::Engine as _;
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        let raw = raw.trim();
        let bytes = hex(raw)
            .or_else(|| {
                [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                    .iter()
                    .find_map(|engine| engine.decode(raw).ok())
            })
            .filter(|b| !b.is_empty())
            .ok_or(RequestStateKeyError::NotEncoded)?;
        if bytes.len() < RequestStateCodec::MIN_KEY_LENGTH {
            return Err(RequestStateKeyError::TooShort(bytes.len()));
        }
        Ok(Self(SecretSlice::from(bytes)))
    }

    /// The codec sealing with this key.
    fn codec(&self) -> RequestStateCodec {
        // Both constructors guarantee the codec's minimum length, so the unchecked one is safe.
        RequestStateCodec::new_unchecked(self.0.expose_secret().to_vec())
    }
}

/// `raw` decoded as hex, when it is an even number of hex digits.
fn hex(raw: &str) -> Option<Vec<u8>> {
    if !raw.len().is_multiple_of(2) || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    raw.as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

/// Asks for confirmations; one per server process.
pub(crate) struct Confirmer {
    mode: ConfirmMode,
    timeout: Duration,
    codec: RequestStateCodec,
    /// Nonces of states already accepted, with when they stop mattering (their expiry).
    spent: Mutex<HashMap<String, Instant>>,
    /// With a shared state, the deployment's spent nonces (a state is good for one call across
    /// every replica); checked after this process's own.
    spent_shared: Option<SpentStates>,
}

impl std::fmt::Debug for Confirmer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmer")
            .field("mode", &self.mode)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Confirmer {
    /// A confirmer in `mode`, giving a person `timeout` to answer, sealing its states with `key`;
    /// with `shared`, a state is spent for the whole deployment.
    pub(crate) fn new(
        mode: ConfirmMode,
        timeout: Duration,
        key: &RequestStateKey,
        shared: Option<&SharedState>,
    ) -> Self {
        Self {
            mode,
            timeout,
            codec: key.codec(),
            spent: Mutex::new(HashMap::new()),
            spent_shared: shared.map(SpentStates::new),
        }
    }

    /// The confirmation asked before `spec`'s tool runs: for [`catalog::Confirmation::BeforeCall`]
    /// tools, a question naming what the call removes or ends; every other call goes ahead (tools
    /// that confirm [`ByTool`](catalog::Confirmation::ByTool) ask through [`ask`](Self::ask)).
    pub(crate) async fn before_call(
        &self,
        spec: &ToolSpec,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<Consent, ToolError> {
        match spec.confirmation() {
            catalog::Confirmation::BeforeCall => {}
            catalog::Confirmation::NotAsked | catalog::Confirmation::ByTool => {
                return Ok(Consent::Given);
            }
        }
        let no_arguments = Map::new();
        let arguments = request.arguments.as_ref().unwrap_or(&no_arguments);
        let binding = Binding {
            tool: spec.name,
            arguments,
            amount: None,
        };
        let question = question(spec.name, arguments);
        self.ask(context, &binding, &question).await
    }

    /// Asks the person `question` about the call `binding` describes, unless the operator turned
    /// confirmation off or the client cannot be asked. `Err` means: do not send anything.
    pub(crate) async fn ask(
        &self,
        context: &RequestContext<RoleServer>,
        binding: &Binding<'_>,
        question: &str,
    ) -> Result<Consent, ToolError> {
        if self.mode == ConfirmMode::Off {
            return Ok(Consent::Given);
        }
        let reviewed = catalog::find(binding.tool).is_some_and(|t| t.review().is_some());
        if reviewed && crate::apps::renders(context) {
            return self.review(context, binding, question).await;
        }
        let stateless = context
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        if !stateless {
            return self
                .elicit(context, question)
                .await
                .map(|()| Consent::Given);
        }
        if !declares_form_elicitation(context) {
            return Ok(Consent::Given);
        }
        let answer = context
            .extensions
            .get::<Answer>()
            .cloned()
            .unwrap_or_default();
        let caller = Caller::of(context).map(|c| &*c.name);
        match answer.state {
            None => self
                .input_required(binding, caller, question)
                .map(Consent::Ask),
            Some(state) => {
                self.check(binding, caller, question, &state, answer.responses.as_ref())
                    .await
            }
        }
    }

    /// 2025-11-25: an `elicitation/create` request, awaited.
    async fn elicit(
        &self,
        context: &RequestContext<RoleServer>,
        question: &str,
    ) -> Result<(), ToolError> {
        match context
            .peer
            .elicit_with_timeout::<Confirmation>(question, Some(self.timeout))
            .await
        {
            Ok(Some(Confirmation { confirm: true })) => Ok(()),
            Ok(_) | Err(ElicitationError::UserDeclined | ElicitationError::NoContent) => {
                Err(refused(Refusal::Declined, question))
            }
            Err(ElicitationError::UserCancelled) => Err(refused(Refusal::Cancelled, question)),
            // The client never offered elicitation: its own approval prompt (driven by the
            // destructive annotation) is the confirmation.
            Err(ElicitationError::CapabilityNotSupported) => Ok(()),
            Err(e) => {
                tracing::warn!("confirmation failed: {e}");
                Err(refused(Refusal::Unanswered, question))
            }
        }
    }

    /// 2026-07-28, first round: the form and a sealed state bound to this call.
    fn input_required(
        &self,
        binding: &Binding<'_>,
        caller: Option<&str>,
        question: &str,
    ) -> Result<InputRequiredResult, ToolError> {
        let internal = |e: &dyn std::fmt::Display| {
            ToolError::of(
                ErrorKind::NotSent,
                format!(
                    "Not done: the confirmation could not be prepared ({e}); nothing was sent."
                ),
            )
        };
        let schema = ElicitationSchema::from_type::<Confirmation>().map_err(|e| internal(&e))?;
        let state = State {
            nonce: format!("{:032x}", rand::random::<u128>()),
        };
        let data = binding.associated_data(caller);
        let sealed = self
            .codec
            .seal_json_with(
                &state,
                &SealOptions::new().associated_data(&data).ttl(self.timeout),
            )
            .map_err(|e| internal(&e))?;
        let form = ElicitRequest::new(ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: question.to_owned(),
            requested_schema: schema,
        });
        let mut requests = InputRequests::new();
        requests.insert(INPUT_KEY.to_owned(), InputRequest::Elicitation(form));
        Ok(InputRequiredResult::new(Some(requests), Some(sealed)))
    }

    /// 2026-07-28, the retried call: the state must open for this very call, and the answer agree.
    async fn check(
        &self,
        binding: &Binding<'_>,
        caller: Option<&str>,
        question: &str,
        sealed: &str,
        responses: Option<&InputResponses>,
    ) -> Result<Consent, ToolError> {
        let data = binding.associated_data(caller);
        let state: State = self.codec.open_json_with(sealed, &data).map_err(|e| {
            // One answer for every failure to open (the codec's advice: no oracle); the detail
            // goes to the log.
            tracing::debug!("confirmation state refused: {e}");
            refused(Refusal::Stale, question)
        })?;
        let Some(response) = responses.and_then(|r| r.get(INPUT_KEY)) else {
            // A state with no answer: ask again, with a fresh state.
            return self
                .input_required(binding, caller, question)
                .map(Consent::Ask);
        };
        let answer = ElicitResult::deserialize(response).map_err(|_| {
            ToolError::invalid(
                "inputResponses",
                "the confirmation answer is not an elicitation result",
            )
        })?;
        match answer.action {
            ElicitationAction::Accept => {
                let confirmed = answer
                    .content
                    .as_ref()
                    .and_then(|c| c.get("confirm"))
                    .and_then(Value::as_bool)
                    == Some(true);
                if !confirmed {
                    return Err(refused(Refusal::Declined, question));
                }
                if !self.spend(&state.nonce) {
                    return Err(refused(Refusal::Stale, question));
                }
                self.spend_shared(&state.nonce, question, Refusal::Stale)
                    .await?;
                Ok(Consent::Given)
            }
            ElicitationAction::Cancel => Err(refused(Refusal::Cancelled, question)),
            // Decline, and any action a newer client may send: not a yes.
            _ => Err(refused(Refusal::Declined, question)),
        }
    }

    /// Marks an accepted state as used; false when it already was. Entries are kept until their
    /// state would have expired anyway.
    fn spend(&self, nonce: &str) -> bool {
        let now = Instant::now();
        let mut spent = self
            .spent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        spent.retain(|_, until| *until > now);
        spent.insert(nonce.to_owned(), now + self.timeout).is_none()
    }

    /// With a shared state, spends `nonce` for the deployment: refused as `stale` when another
    /// replica already accepted it, and not done at all when the database cannot say.
    async fn spend_shared(
        &self,
        nonce: &str,
        question: &str,
        stale: Refusal,
    ) -> Result<(), ToolError> {
        let Some(shared) = &self.spent_shared else {
            return Ok(());
        };
        match shared.spend(nonce, self.timeout).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(refused(stale, question)),
            Err(e) => {
                tracing::error!("confirmation state: {e}");
                Err(ToolError::of(
                    ErrorKind::NotSent,
                    format!(
                        "Not done: the confirmation could not be checked against the shared \
                         state ({e}); nothing was sent."
                    ),
                )
                .advise(Advice::CheckSharedState))
            }
        }
    }
}

/// True when the request's client declares form elicitation (an empty `elicitation` object means
/// form, for compatibility).
fn declares_form_elicitation(context: &RequestContext<RoleServer>) -> bool {
    context
        .client_capabilities()
        .and_then(|c| c.elicitation)
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

/// The question for a [`catalog::Confirmation::BeforeCall`] call of `tool`.
fn question(tool: &str, args: &Map<String, Value>) -> String {
    let arg = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| args.get(*n).and_then(Value::as_str))
            .unwrap_or("?")
            .to_owned()
    };
    match tool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn questions_name_what_will_happen() {
        assert_eq!(
            question(
                "cancel_renewal",
                &args(json!({"purchaseId": "pur_T3U4V5W6"}))
            ),
            "Cancel the renewal of purchase pur_T3U4V5W6?"
        );
        assert_eq!(
            question(
                "delete_plan",
                &args(json!({"planRef": "pln_1", "productRef": "prd_1"}))
            ),
            "Delete plan pln_1 of product prd_1?"
        );
    }

    #[test]
    fn a_request_state_key_is_hex_or_base64_of_at_least_32_bytes() {
        use base64::Engine as _;
        let bytes: Vec<u8> = (0u8..32).collect();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfb_u8; 40]);
        for good in [hex.clone(), hex.to_uppercase(), format!(" {b64}\n"), b64url] {
            assert!(RequestStateKey::parse(&good).is_ok(), "{good}");
        }
        let seal = |key: &RequestStateKey| key.codec().seal_json(&"x").unwrap();
        let from_hex = RequestStateKey::parse(&hex).unwrap();
        let from_b64 = RequestStateKey::parse(&b64).unwrap();
        let opened: String = from_b64.codec().open_json(&seal(&from_hex)).unwrap();
        assert_eq!(
            opened, "x",
            "hex and base64 of the same bytes are the same key"
        );
        assert_eq!(
            RequestStateKey::parse(&hex[..62]).unwrap_err(),
            RequestStateKeyError::TooShort(31)
        );
        for bad in ["", "   ", "not a key!", "%%%%"] {
            assert_eq!(
                RequestStateKey::parse(bad).unwrap_err(),
                RequestStateKeyError::NotEncoded,
                "{bad:?}"
            );
        }
        assert_eq!(format!("{from_hex:?}"), "RequestStateKey(<redacted>)");
        let other = RequestStateKey::random();
        assert!(other.codec().open_json::<String>(&seal(&from_hex)).is_err());
    }

    #[test]
    fn a_binding_ignores_key_order_but_not_values() {
        let a = args(json!({"reference": "cus_1", "x": 1}));
        let b = args(json!({"x": 1, "reference": "cus_1"}));
        let c = args(json!({"reference": "cus_2", "x": 1}));
        let bind = |arguments, amount| Binding {
            tool: "delete_customer",
            arguments,
            amount,
        };
        assert_eq!(
            bind(&a, None).associated_data(None),
            bind(&b, None).associated_data(None)
        );
        assert_ne!(
            bind(&a, None).associated_data(None),
            bind(&c, None).associated_data(None)
        );
        assert_ne!(
            bind(&a, Some(100)).associated_data(None),
            bind(&a, Some(101)).associated_data(None)
        );
        assert_ne!(
            bind(&a, None).associated_data(Some("alice")),
            bind(&a, None).associated_data(Some("bob"))
        );
        assert_ne!(
            bind(&a, None).associated_data(Some("alice")),
            bind(&a, None).associated_data(None)
        );
    }
}
