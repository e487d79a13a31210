//! `create_refund`, the one money-moving tool, and its guards: the operator's caps, the human's
//! confirmation, and the refund journal that lets at most one request reach SolvaPay per intent.

use crate::tools::Parameters;
use rmcp::RoleServer;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::transactions::resolve;
use super::{Reply, Summary, opt_text};
use crate::api::{ApiError, RefundAnswer, RefundRequest};
use crate::apps::Review;
use crate::confirm::{Binding, Consent};
use crate::error::{Advice, ErrorCode, ErrorKind, ToolError};
use crate::journal::{Admission, Prior, RefundIntent, RefundOutcome};
use crate::model::transaction::{RefundPlan, TransactionWire};
use crate::model::{Money, TransactionRef};
use crate::server::BillingServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CreateRefundArgs {
    /// Payment to refund (txn_…).
    #[serde(alias = "sourceTransactionId")]
    source_transaction_ref: String,
    /// Minor units (2500 = $25.00); omit to refund everything left.
    amount: Option<i64>,
    /// Default requested_by_customer.
    reason: Option<String>,
    /// true only to make a second, identical refund on purpose.
    new_refund: Option<bool>,
}

/// The `status` of a refund awaiting its review form's submit.
const AWAITING_REVIEW: &str = "awaiting_review";

/// The outcome of `create_refund`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefundResult {
    /// The new refund transaction, when SolvaPay names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    refund_reference: Option<String>,
    /// initiated until SolvaPay confirms it asynchronously, then completed.
    status: String,
    source_transaction_ref: String,
    /// Amount refunded now.
    amount: Money,
    /// True when part of the original stays refundable; false when it is now fully refunded.
    partial: bool,
    original_amount: Money,
    /// Still refundable after this refund.
    remaining_refundable: Money,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl Summary for RefundResult {
    fn summary(&self) -> String {
        if self.status == AWAITING_REVIEW {
            return format!(
                "Not refunded yet: a refund of {} for {} awaits the person's review in the form \
                 shown to them; nothing was sent to SolvaPay.",
                self.amount.formatted, self.source_transaction_ref
            );
        }
        let kind = if self.partial {
            "Partial"
        } else {
            "Full (nothing left to refund)"
        };
        let reference = self
            .refund_reference
            .as_deref()
            .map_or_else(|| "not returned yet".to_owned(), str::to_owned);
        format!(
            "{kind} refund of {} {} for {}; refund reference {reference}",
            self.amount.formatted, self.status, self.source_transaction_ref
        )
    }
}

#[tool_router(router = refund_tools, vis = "pub(crate)")]
impl BillingServer {
    #[tool(
        description = "Refund a completed payment, fully (omit amount) or partly. Checked against what is still refundable; an identical refund is never sent twice. Returns the refund reference and status.",
        output_schema = rmcp::handler::server::tool::schema_for_output::<RefundResult>()
    )]
    async fn create_refund(
        &self,
        Parameters(args): Parameters<CreateRefundArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Reply<RefundResult>, ToolError> {
        let named = TransactionRef::parse("sourceTransactionRef", &args.source_transaction_ref)?;
        if let Some(a) = args.amount.filter(|a| *a <= 0) {
            return Err(ToolError::invalid(
                "amount",
                format!("must be a positive number of minor units (got {a})"),
            ));
        }
        let limits = &self.options().refund_limits;
        if let (Some(a), Some(cap)) = (
            args.amount,
            limits.per_call.filter(|cap| args.amount > Some(*cap)),
        ) {
            return Err(ToolError::invalid(
                "amount",
                format!("{a} exceeds the per-call refund cap of {cap} set by the operator"),
            ));
        }
        let reason = opt_text("reason", args.reason.as_deref(), 500)?
            .unwrap_or_else(|| "requested_by_customer".to_owned());
        let source = resolve(self, &named).await?;
        // However the payment was named (reference, internal id, older parameter name), the
        // question, the journal and the result use its canonical reference.
        let key = source
            .canonical_ref()
            .and_then(|r| TransactionRef::from_upstream("sourceTransactionRef", r).ok())
            .unwrap_or(named);
        let already = self.api().refunded_so_far(&source).await?;
        let plan = RefundPlan::new(&source, already, args.amount)?;
        limits
            .reserve(plan.amount)
            .await
            .map_err(|e| e.into_tool_error("amount"))?;
        let sent = self
            .confirmed_refund(&key, &source, &plan, &args, &reason, &context)
            .await;
        if !matches!(sent, Ok(Reply::Done(_))) {
            limits.release(plan.amount).await;
        }
        sent
    }
}

impl BillingServer {
    /// The person's confirmation (or, on a host that renders MCP Apps, the review form), then the
    /// refund.
    async fn confirmed_refund(
        &self,
        key: &TransactionRef,
        source: &TransactionWire,
        plan: &RefundPlan,
        args: &CreateRefundArgs,
        reason: &str,
        context: &RequestContext<RoleServer>,
    ) -> Result<Reply<RefundResult>, ToolError> {
        // Bound to the call as understood (the payment however named, the amount resolved), so a
        // confirmation holds for this refund only.
        let understood = understood(key, args, reason);
        let binding = Binding {
            tool: "create_refund",
            arguments: &understood,
            amount: Some(plan.amount),
        };
        let question = question(key, source, plan);
        match self.confirmer().ask(context, &binding, &question).await? {
            Consent::Given => {}
            Consent::Ask(input) => return Ok(Reply::Ask(input)),
            Consent::Review(token) => {
                let review = review(key, source, plan, understood.clone());
                let pending = refund_result(key.clone(), plan, reason.to_owned(), None);
                return Ok(Reply::review(pending, review, token));
            }
        }
        let answer = self.guarded_refund(key, source, plan, args, reason).await?;
        Ok(Reply::Done(refund_result(
            key.clone(),
            plan,
            reason.to_owned(),
            Some(answer),
        )))
    }

    /// Journal admission, the one request, and its recorded outcome.
    async fn guarded_refund(
        &self,
        key: &TransactionRef,
        source: &TransactionWire,
        plan: &RefundPlan,
        args: &CreateRefundArgs,
        reason: &str,
    ) -> Result<RefundAnswer, ToolError> {
        let intent = RefundIntent {
            source: key.to_string(),
            amount: args.amount,
            reason: reason.to_owned(),
        };
        let journal = &self.options().journal;
        let id = match journal
            .admit(intent, args.new_refund == Some(true))
            .await
            .map_err(journal_error)?
        {
            Admission::Proceed(id) => id,
            Admission::Duplicate(prior) => return Err(duplicate(key, &prior)),
        };
        let body = RefundRequest {
            original_transaction_id: source.internal_id().unwrap_or(key.as_str()).to_owned(),
            refund_amount: plan.amount,
            currency: plan.currency.clone(),
            reason: reason.to_owned(),
            metadata: Map::new(),
        };
        let answer = self.api().create_refund(&body).await;
        let outcome = match &answer {
            Ok(a) => RefundOutcome::Succeeded {
                refund: a.reference(),
                amount: plan.amount,
            },
            Err(e) if e.outcome_unknown() => RefundOutcome::Unknown {
                message: e.to_string(),
            },
            Err(e) => RefundOutcome::Failed {
                message: e.to_string(),
            },
        };
        if let Err(e) = journal.record(&id, outcome).await {
            tracing::error!("refund {id}: outcome not journaled: {e}");
        }
        answer.map_err(refund_error)
    }
}

/// The call as understood: the payment however named, the amount and reason as given.
fn understood(key: &TransactionRef, args: &CreateRefundArgs, reason: &str) -> Map<String, Value> {
    let mut understood = Map::new();
    understood.insert("sourceTransactionRef".into(), key.as_str().into());
    understood.insert("amount".into(), args.amount.into());
    understood.insert("reason".into(), reason.into());
    understood.insert("newRefund".into(), (args.new_refund == Some(true)).into());
    understood
}

/// The review form of a refund: the payment, its customer, the amount, and what remains.
fn review(
    key: &TransactionRef,
    source: &TransactionWire,
    plan: &RefundPlan,
    understood: Map<String, Value>,
) -> Review {
    let amount = plan.currency.format(plan.amount);
    let customer = source.from_entity_name.as_deref().unwrap_or("not named");
    let mut arguments = understood;
    // The submit sends the arguments the tool takes: no amount when it was left out (refund
    // everything left), which binds the token to the amount resolved now.
    arguments.retain(|_, v| !v.is_null());
    Review::new(
        "create_refund",
        format!("Refund {amount} to {customer}"),
        "Refund",
        arguments,
    )
    .row(
        "Payment",
        format!("{key} ({})", plan.currency.format(plan.base)),
    )
    .row("Customer", customer)
    .row("Refund now", amount)
    .row("Refunded before", plan.currency.format(plan.already))
    .row(
        "Refundable after",
        plan.currency.format(plan.remaining_after()),
    )
}

/// "Refund $25.00 of txn_D7E8F9G0 (payment of $49.00) to Jane Smith?"
fn question(key: &TransactionRef, source: &TransactionWire, plan: &RefundPlan) -> String {
    let amount = plan.currency.format(plan.amount);
    let original = plan.currency.format(plan.base);
    let to = source
        .from_entity_name
        .as_deref()
        .map(|n| format!(" to {n}"))
        .unwrap_or_default();
    format!("Refund {amount} of {key} (payment of {original}){to}?")
}

fn duplicate(key: &TransactionRef, prior: &Prior) -> ToolError {
    let when = prior
        .at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let what = match &prior.outcome {
        RefundOutcome::Pending => {
            "is still in flight or was interrupted; its outcome is unknown".to_owned()
        }
        RefundOutcome::Unknown { message } => format!("has an unknown outcome ({message})"),
        RefundOutcome::Succeeded { refund, amount } => format!(
            "succeeded ({amount} minor units, refund {})",
            refund.as_deref().unwrap_or("reference not returned")
        ),
        RefundOutcome::Failed { message } => format!("failed ({message})"),
    };
    ToolError::new(
        ErrorCode::ValidationError,
        format!(
            "Not sent: an identical refund of {key} was requested at {when} and {what}. Check with \
             list_transactions. To refund the same amount again on purpose, call with newRefund: true."
        ),
    )
}

fn journal_error(e: crate::journal::JournalError) -> ToolError {
    let advice = match &e {
        crate::journal::JournalError::Shared(_) => Advice::CheckSharedState,
        _ => Advice::None,
    };
    ToolError::of(
        ErrorKind::NotSent,
        format!("Not sent: the refund journal cannot be written ({e})."),
    )
    .advise(advice)
}

/// A refund failure: when it may have gone through, say how to check instead of retrying.
fn refund_error(e: ApiError) -> ToolError {
    let error = ToolError::from(e);
    if error.outcome() == crate::error::Outcome::Unknown {
        // Not "retry later" nor "check its effect before retrying": a refund that may have
        // happened must not be repeated on a guess.
        error
            .about("Refund outcome unknown")
            .advise(Advice::CheckRefund)
    } else {
        error
    }
}

/// The result of the refund SolvaPay answered `answer` for; with none, the refund awaiting its
/// review (nothing sent).
fn refund_result(
    key: TransactionRef,
    plan: &RefundPlan,
    reason: String,
    answer: Option<RefundAnswer>,
) -> RefundResult {
    let refund_reference = answer.as_ref().and_then(RefundAnswer::reference);
    let (status, message) = match answer {
        None => (
            AWAITING_REVIEW.to_owned(),
            Some(
                "Nothing was refunded yet: the person reviews this refund in the review form \
                 and submits it there."
                    .to_owned(),
            ),
        ),
        Some(RefundAnswer::Transaction(t)) => {
            (t.status.unwrap_or_else(|| "initiated".into()), None)
        }
        Some(RefundAnswer::Message(m)) => (
            "initiated".to_owned(),
            Some(format!(
                "SolvaPay accepted the refund{} but named no refund transaction; it settles \
                 asynchronously. Check with list_transactions.",
                m.map(|m| format!(" (\"{}\")", crate::text::sanitize(&m, 200)))
                    .unwrap_or_default()
            )),
        ),
    };
    RefundResult {
        refund_reference,
        status,
        source_transaction_ref: key.to_string(),
        amount: Money::new(plan.amount, &plan.currency),
        partial: plan.partial(),
        original_amount: Money::new(plan.base, &plan.currency),
        remaining_refundable: Money::new(plan.remaining_after(), &plan.currency),
        reason,
        message,
    }
}
