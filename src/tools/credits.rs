//! The `credits` toolset: SolvaPay's 2026 endpoints, beyond the hosted server's 32 tools. A
//! customer's credit balance, credit grants (confirmed by the person, capped by the operator, and
//! sent with one `Idempotency-Key` per intent, kept in the grant journal so a repeat after an
//! unknown outcome cannot grant twice), reactivation of a cancelled renewal, and plan activation.

use rmcp::RoleServer;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Json, Reply, Summary, opt_text};
use crate::api::ApiError;
use crate::apps::Review;
use crate::confirm::{Binding, Consent};
use crate::error::{Advice, ErrorCode, ErrorKind, Outcome, ToolError};
use crate::journal::{GrantAdmission, GrantIntent, GrantOutcome, GrantPrior, JournalError};
use crate::model::credit::{
    ActivateRequest, Activation, ActivationStatus, CustomerBalance, GrantRequest, credit_value,
};
use crate::model::purchase::Purchase;
use crate::model::{CustomerRef, Money, PlanRef, ProductRef, PurchaseRef};
use crate::server::BillingServer;
use crate::tools::Parameters;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CustomerBalanceArgs {
    /// Customer reference (cus_…).
    customer_ref: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GrantCreditsArgs {
    /// Customer reference (cus_…).
    customer_ref: String,
    /// Credits to add (integer; 100 credits = $0.01 at SolvaPay's usual scale).
    credits: i64,
    /// Why (stored with the grant).
    reason: Option<String>,
    /// true only to make a second, identical grant on purpose.
    new_grant: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ReactivateRenewalArgs {
    /// Purchase reference (pur_…).
    purchase_ref: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ActivatePlanArgs {
    /// Customer reference (cus_…).
    customer_ref: String,
    /// Product reference (prd_…).
    product_ref: String,
    /// Plan reference (pln_…).
    plan_ref: String,
}

/// The outcome of `grant_credits`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreditGrant {
    customer_ref: String,
    /// Credits granted.
    credits: i64,
    /// What they are worth.
    value: Money,
    /// The customer's credits after the grant, when SolvaPay said.
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance_value: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The key SolvaPay deduplicates this grant by.
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<String>,
    /// True when this call resent an earlier grant whose outcome was unknown, with its key.
    resent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl Summary for CreditGrant {
    fn summary(&self) -> String {
        if self.idempotency_key.is_none() {
            return format!(
                "Not granted yet: a grant of {} credits ({}) to {} awaits the person's review in \
                 the form shown to them; nothing was sent to SolvaPay.",
                self.credits, self.value.formatted, self.customer_ref
            );
        }
        let balance = match (&self.balance, &self.balance_value) {
            (Some(b), Some(v)) => format!("; balance now {b} credits ({})", v.formatted),
            _ => String::new(),
        };
        let resent = if self.resent {
            " (resent with the earlier attempt's Idempotency-Key: granted once)"
        } else {
            ""
        };
        format!(
            "Granted {} credits ({}) to {}{balance}{resent}",
            self.credits, self.value.formatted, self.customer_ref
        )
    }
}

impl Summary for CustomerBalance {
    fn summary(&self) -> String {
        format!(
            "{} has {} credits ({})",
            self.customer_ref, self.credits, self.value.formatted
        )
    }
}

/// The purchase after its renewal was restored.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReactivatedRenewal {
    /// True when the purchase was not cancelled: nothing changed.
    already_active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(flatten)]
    purchase: Purchase,
}

impl Summary for ReactivatedRenewal {
    fn summary(&self) -> String {
        let done = if self.already_active {
            "was not cancelled (nothing changed)"
        } else {
            "reactivated: it renews again"
        };
        format!(
            "Purchase {} {done}; status {}",
            self.purchase.reference, self.purchase.status
        )
    }
}

impl Summary for Activation {
    fn summary(&self) -> String {
        let purchase = self.purchase_ref.as_deref().unwrap_or("no purchase named");
        let url = self
            .checkout_url
            .as_deref()
            .unwrap_or("no checkout link given");
        match self.status {
            ActivationStatus::Activated => format!("Plan activated: purchase {purchase}"),
            ActivationStatus::AlreadyActive => {
                format!("Plan already active (purchase {purchase}); nothing changed")
            }
            ActivationStatus::TopupRequired => format!(
                "Not activated: the customer needs credits first ({} credits now); top up with \
                 grant_credits or a checkout ({url})",
                self.credit_balance.unwrap_or(0)
            ),
            ActivationStatus::PaymentRequired => {
                format!("Not activated: the customer must pay first ({url})")
            }
            ActivationStatus::Invalid | ActivationStatus::Unknown => format!(
                "Not activated: {}",
                self.message.as_deref().unwrap_or("SolvaPay gave no reason")
            ),
        }
    }
}

#[tool_router(router = credit_tools, vis = "pub(crate)")]
impl BillingServer {
    #[tool(
        description = "A customer's prepaid credit balance: credits and their value. Credit-based plans debit it per usage unit."
    )]
    async fn get_customer_balance(
        &self,
        Parameters(args): Parameters<CustomerBalanceArgs>,
    ) -> Result<Json<CustomerBalance>, ToolError> {
        let customer = CustomerRef::parse("customerRef", &args.customer_ref)?;
        let wire = self.api().customer_balance(&customer).await?;
        Ok(Json(CustomerBalance::new(wire, customer.as_str())))
    }

    #[tool(
        description = "Add prepaid credits to a customer's balance (goodwill, manual top-up). Asks the person first; never granted twice, even when retried.",
        output_schema = rmcp::handler::server::tool::schema_for_output::<CreditGrant>()
    )]
    async fn grant_credits(
        &self,
        Parameters(args): Parameters<GrantCreditsArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Reply<CreditGrant>, ToolError> {
        let customer = CustomerRef::parse("customerRef", &args.customer_ref)?;
        if args.credits <= 0 {
            return Err(ToolError::invalid(
                "credits",
                format!(
                    "must be a positive number of credits (got {})",
                    args.credits
                ),
            ));
        }
        let reason = opt_text("reason", args.reason.as_deref(), 256)?;
        let limits = &self.options().grant_limits;
        limits
            .reserve(args.credits)
            .await
            .map_err(|e| e.into_tool_error("credits"))?;
        let sent = self
            .confirmed_grant(&customer, &args, reason, &context)
            .await;
        if !matches!(sent, Ok(Reply::Done(_))) {
            limits.release(args.credits).await;
        }
        sent
    }

    #[tool(
        description = "Undo cancel_renewal: a purchase cancelled but not yet ended renews again. Safe to repeat: a purchase not cancelled answers alreadyActive true."
    )]
    async fn reactivate_renewal(
        &self,
        Parameters(args): Parameters<ReactivateRenewalArgs>,
    ) -> Result<Json<ReactivatedRenewal>, ToolError> {
        let reference = PurchaseRef::parse("purchaseRef", &args.purchase_ref)?;
        let api = self.api();
        let refused = match api.reactivate_purchase(&reference).await {
            Ok((purchase, message)) => {
                return Ok(Json(ReactivatedRenewal {
                    already_active: false,
                    message,
                    purchase: purchase.into(),
                }));
            }
            // 400: not cancelled, or already ended; the purchase itself says which.
            Err(e) if e.status() == Some(400) => e,
            Err(e) => return Err(e.into()),
        };
        match api.get_purchase(&reference).await.map(Purchase::from) {
            Ok(purchase) if purchase.cancelled_at.is_none() && purchase.grants_access() => {
                Ok(Json(ReactivatedRenewal {
                    already_active: true,
                    message: Some("The purchase was not cancelled; nothing changed.".to_owned()),
                    purchase,
                }))
            }
            _ => Err(refused.into()),
        }
    }

    #[tool(
        description = "Put a customer on a plan without checkout: free plans activate; a credit-based plan needs credits (status topup_required), a paid plan payment (payment_required, checkoutUrl)."
    )]
    async fn activate_plan(
        &self,
        Parameters(args): Parameters<ActivatePlanArgs>,
    ) -> Result<Json<Activation>, ToolError> {
        let body = ActivateRequest {
            customer_ref: CustomerRef::parse("customerRef", &args.customer_ref)?.to_string(),
            product_ref: ProductRef::parse("productRef", &args.product_ref)?.to_string(),
            plan_ref: PlanRef::parse("planRef", &args.plan_ref)?.to_string(),
        };
        Ok(Json(self.api().activate_plan(&body).await?.into()))
    }
}

impl BillingServer {
    /// The person's confirmation (or, on a host that renders MCP Apps, the review form), then the
    /// grant.
    async fn confirmed_grant(
        &self,
        customer: &CustomerRef,
        args: &GrantCreditsArgs,
        reason: Option<String>,
        context: &RequestContext<RoleServer>,
    ) -> Result<Reply<CreditGrant>, ToolError> {
        let mut understood = Map::new();
        understood.insert("customerRef".into(), customer.as_str().into());
        understood.insert("credits".into(), args.credits.into());
        understood.insert("reason".into(), reason.clone().into());
        understood.insert("newGrant".into(), (args.new_grant == Some(true)).into());
        let binding = Binding {
            tool: "grant_credits",
            arguments: &understood,
            amount: Some(args.credits),
        };
        let question = format!("Grant {} credits to {customer}?", args.credits);
        match self.confirmer().ask(context, &binding, &question).await? {
            Consent::Given => self
                .guarded_grant(customer, args, reason)
                .await
                .map(Reply::Done),
            Consent::Ask(input) => Ok(Reply::Ask(input)),
            Consent::Review(token) => {
                // The balance as it is now, for the form (and an unknown customer is refused
                // before any form is shown).
                let balance = CustomerBalance::new(
                    self.api().customer_balance(customer).await?,
                    customer.as_str(),
                );
                Ok(pending_grant(
                    customer, args, reason, &balance, understood, token,
                ))
            }
        }
    }

    /// The customer's scale, journal admission, the grant with its key, and its recorded outcome.
    async fn guarded_grant(
        &self,
        customer: &CustomerRef,
        args: &GrantCreditsArgs,
        reason: Option<String>,
    ) -> Result<CreditGrant, ToolError> {
        // A read first: an unknown customer is refused before any grant is sent, and the answer
        // gives the scale the credits are valued at.
        let scale = self.api().customer_balance(customer).await?.scale();
        let intent = GrantIntent {
            customer: customer.to_string(),
            credits: args.credits,
            reason: reason.clone(),
        };
        let journal = &self.options().grants;
        let (key, resent) = match journal
            .admit(intent, args.new_grant == Some(true))
            .await
            .map_err(journal_error)?
        {
            GrantAdmission::Send { key, reused } => (key, reused),
            GrantAdmission::Duplicate(prior) => return Err(duplicate(customer, &prior)),
        };
        let body = GrantRequest {
            credits: args.credits,
            reason: reason.clone(),
        };
        let answer = self.api().grant_credits(customer, &body, &key).await;
        let outcome = match &answer {
            Ok(a) => GrantOutcome::Succeeded { balance: a.balance },
            Err(e) if e.outcome_unknown() => GrantOutcome::Unknown {
                message: e.to_string(),
            },
            Err(e) => GrantOutcome::Failed {
                message: e.to_string(),
            },
        };
        if let Err(e) = journal.record(&key, outcome).await {
            tracing::error!("grant {key}: outcome not journaled: {e}");
        }
        let answer = answer.map_err(grant_error)?;
        let credits = answer.credits.unwrap_or(args.credits);
        Ok(CreditGrant {
            customer_ref: customer.to_string(),
            credits,
            value: credit_value(credits, scale),
            balance: answer.balance,
            balance_value: answer.balance.map(|b| credit_value(b, scale)),
            reason,
            idempotency_key: Some(key),
            resent,
            message: None,
        })
    }
}

/// The grant awaiting its review form's submit (nothing sent), with the customer's `balance` now.
fn pending_grant(
    customer: &CustomerRef,
    args: &GrantCreditsArgs,
    reason: Option<String>,
    balance: &CustomerBalance,
    mut arguments: Map<String, Value>,
    token: String,
) -> Reply<CreditGrant> {
    let value = credit_value(args.credits, balance.credits_per_minor_unit);
    // The submit sends the arguments the tool takes: none that were left out.
    arguments.retain(|_, v| !v.is_null());
    let review = Review::new(
        "grant_credits",
        format!(
            "Grant {} credits ({}) to {customer}",
            args.credits, value.formatted
        ),
        "Grant credits",
        arguments,
    )
    .row("Customer", customer.as_str())
    .row("Credits", args.credits.to_string())
    .row("Worth", value.formatted.clone())
    .row(
        "Balance now",
        format!("{} credits ({})", balance.credits, balance.value.formatted),
    )
    .row(
        "Balance after",
        format!("{} credits", balance.credits.saturating_add(args.credits)),
    )
    .row(
        "Reason",
        reason.clone().unwrap_or_else(|| "none given".into()),
    );
    let pending = CreditGrant {
        customer_ref: customer.to_string(),
        credits: args.credits,
        value,
        balance: None,
        balance_value: None,
        reason,
        idempotency_key: None,
        resent: false,
        message: Some(
            "Not granted yet: the person reviews this grant in the review form and submits it \
             there."
                .to_owned(),
        ),
    };
    Reply::review(pending, review, token)
}

fn duplicate(customer: &CustomerRef, prior: &GrantPrior) -> ToolError {
    let when = prior
        .at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    ToolError::new(
        ErrorCode::ValidationError,
        format!(
            "Not sent: an identical grant to {customer} succeeded at {when} (Idempotency-Key {}). \
             Check with get_customer_balance. To grant the same credits again on purpose, call \
             with newGrant: true.",
            prior.key
        ),
    )
}

fn journal_error(e: JournalError) -> ToolError {
    let advice = match &e {
        JournalError::Shared(_) => Advice::CheckSharedState,
        _ => Advice::None,
    };
    ToolError::of(
        ErrorKind::NotSent,
        format!("Not sent: the credit-grant journal cannot be written ({e})."),
    )
    .advise(advice)
}

/// A grant that may have gone through: the same call again resends it with the same key.
fn grant_error(e: ApiError) -> ToolError {
    let error = ToolError::from(e);
    if error.outcome() == Outcome::Unknown {
        error
            .about(
                "Grant outcome unknown; calling again with the same arguments resends it with the \
                 same Idempotency-Key, so it cannot be granted twice",
            )
            .advise(Advice::None)
    } else {
        error
    }
}
