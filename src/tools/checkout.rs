//! Getting a customer to pay: checkout links, billing-portal links, and the usage-limit check that
//! says whether they must.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Json, Summary};
use crate::api::PurchaseQuery;
use crate::error::ToolError;
use crate::model::checkout::{CreateCheckoutSession, CreateCustomerSession};
use crate::model::limits::{LimitResponse, LimitsRequest};
use crate::model::purchase::Purchase;
use crate::model::{CustomerRef, PlanRef, ProductRef};
use crate::server::BillingServer;

/// How long a billing-portal link stays valid.
const PORTAL_MINUTES: i64 = 15;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CheckoutArgs {
    #[serde(alias = "customerId")]
    customer_ref: String,
    #[serde(alias = "productReference")]
    product_ref: String,
    /// Default: the product's default plan.
    plan_ref: Option<String>,
    /// http(s) URL to send the customer to afterwards.
    return_url: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CustomerSessionArgs {
    #[serde(alias = "customerId", alias = "reference")]
    customer_ref: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CheckLimitsArgs {
    #[serde(alias = "customerId")]
    customer_ref: String,
    #[serde(alias = "productReference")]
    product_ref: String,
}

/// A hosted checkout link.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckoutLink {
    checkout_url: String,
    session_id: String,
    customer_ref: String,
    product_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan_ref: Option<String>,
}

/// A billing-portal link (payment methods, invoices, purchases).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PortalLink {
    customer_url: String,
    session_id: String,
    customer_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_name: Option<String>,
    /// ISO 8601.
    expires_at: String,
    expires_in_minutes: i64,
}

/// Where a customer stands against their usage allowance.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LimitsResult {
    customer_ref: String,
    product_ref: String,
    /// `within_limits`, `limit_reached`, `needs_activation` or `purchase_required`.
    state: String,
    within_limits: bool,
    /// Units left this period.
    remaining: i64,
    /// Units used this period, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    used: Option<i64>,
    /// Units allowed per period, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowance: Option<i64>,
    /// True when the plan has no cap.
    unlimited: bool,
    /// Unit counted, e.g. "requests".
    unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    period_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period_end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan_name: Option<String>,
    /// True for a free plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    free: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purchase_ref: Option<String>,
    /// Where to pay, upgrade or activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    checkout_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credit_balance: Option<i64>,
}

impl Summary for CheckoutLink {
    fn summary(&self) -> String {
        format!(
            "Checkout link for {} / {}: {}",
            self.customer_ref, self.product_ref, self.checkout_url
        )
    }
}

impl Summary for PortalLink {
    fn summary(&self) -> String {
        let who = self.customer_name.as_deref().unwrap_or(&self.customer_ref);
        format!(
            "Billing portal for {who} (valid {} min, until {}): {}",
            self.expires_in_minutes, self.expires_at, self.customer_url
        )
    }
}

impl Summary for LimitsResult {
    fn summary(&self) -> String {
        let usage = match (self.used, self.allowance, self.unlimited) {
            (Some(u), _, true) => format!("used {u} {} (unlimited)", self.unit),
            (Some(u), Some(a), false) => format!("used {u} of {a} {}", self.unit),
            _ => format!("{} {} remaining", self.remaining, self.unit),
        };
        let period = match (&self.period_start, &self.period_end) {
            (Some(s), Some(e)) => format!(" this period ({s} to {e})"),
            _ => String::new(),
        };
        let pay = self
            .checkout_url
            .as_deref()
            .map(|u| format!("; checkout: {u}"))
            .unwrap_or_default();
        match self.state.as_str() {
            "needs_activation" => format!("Needs activation before use (not used up){pay}"),
            "purchase_required" => format!("No active purchase: the customer must buy a plan{pay}"),
            "limit_reached" => format!(
                "Limit reached: {usage}{period}; {} remaining{pay}",
                self.remaining
            ),
            _ => format!(
                "Within limits: {usage}{period}; {} remaining",
                self.remaining
            ),
        }
    }
}

fn return_url(raw: Option<&str>) -> Result<Option<String>, ToolError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    match url::Url::parse(raw) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && raw.len() <= 2048 =>
        {
            Ok(Some(u.to_string()))
        }
        _ => Err(ToolError::invalid(
            "returnUrl",
            format!("{raw:?} is not an http(s) URL"),
        )),
    }
}

/// The allowance of a plan snapshot: the smallest positive of `limit` and `freeUnits`; `Some(0)`
/// means unlimited; `None` means unknown.
fn allowance(purchase: &Purchase) -> Option<i64> {
    let plan = purchase.plan_snapshot.as_ref()?;
    let caps = [plan.limit, plan.free_units];
    if caps.iter().all(Option::is_none) {
        return None;
    }
    Some(
        caps.into_iter()
            .flatten()
            .filter(|c| *c > 0)
            .min()
            .unwrap_or(0),
    )
}

fn limits_result(
    customer: &CustomerRef,
    product: &ProductRef,
    limits: LimitResponse,
    purchase: Option<Purchase>,
) -> LimitsResult {
    let allowance = purchase.as_ref().and_then(allowance);
    let unlimited = allowance == Some(0);
    let usage = purchase.as_ref().and_then(|p| p.usage.clone());
    let used = usage.as_ref().map(|u| u.used).or_else(|| {
        allowance
            .filter(|a| *a > 0)
            .map(|a| (a - limits.remaining).max(0))
    });
    let state = if limits.activation_required == Some(true) {
        "needs_activation"
    } else if limits.within_limits {
        "within_limits"
    } else if purchase.is_none() {
        "purchase_required"
    } else {
        "limit_reached"
    };
    let plan = purchase.as_ref().and_then(|p| p.plan_snapshot.as_ref());
    LimitsResult {
        customer_ref: customer.to_string(),
        product_ref: product.to_string(),
        state: state.to_owned(),
        within_limits: limits.within_limits,
        remaining: limits.remaining,
        used,
        allowance: allowance.filter(|a| *a > 0),
        unlimited,
        unit: limits.meter_name.unwrap_or_else(|| "units".to_owned()),
        period_start: usage.as_ref().and_then(|u| u.period_start.clone()),
        period_end: usage.and_then(|u| u.period_end),
        plan_name: plan.and_then(|p| p.name.clone()),
        free: plan.map(|p| p.price == 0),
        purchase_ref: purchase.as_ref().map(|p| p.reference.clone()),
        checkout_url: limits.checkout_url,
        credit_balance: limits.credit_balance,
    }
}

#[tool_router(router = checkout_tools, vis = "pub(crate)")]
impl BillingServer {
    #[tool(
        description = "Create a hosted checkout link for a customer to buy a product's plan. Send checkoutUrl to the customer."
    )]
    async fn create_checkout_session(
        &self,
        Parameters(args): Parameters<CheckoutArgs>,
    ) -> Result<Json<CheckoutLink>, ToolError> {
        let customer = CustomerRef::parse("customerRef", &args.customer_ref)?;
        let product = ProductRef::parse("productRef", &args.product_ref)?;
        let plan = args
            .plan_ref
            .as_deref()
            .map(|p| PlanRef::parse("planRef", p))
            .transpose()?;
        let body = CreateCheckoutSession {
            customer_ref: customer.to_string(),
            product_ref: product.to_string(),
            plan_ref: plan.map(|p| p.to_string()),
            return_url: return_url(args.return_url.as_deref())?,
        };
        let session = self.api().create_checkout_session(&body).await?;
        Ok(Json(CheckoutLink {
            checkout_url: session.checkout_url,
            session_id: session.session_id,
            customer_ref: body.customer_ref,
            product_ref: body.product_ref,
            plan_ref: body.plan_ref,
        }))
    }

    #[tool(
        description = "Create a billing-portal link where a customer manages payment methods, invoices and purchases. Valid 15 minutes."
    )]
    async fn create_customer_session(
        &self,
        Parameters(args): Parameters<CustomerSessionArgs>,
    ) -> Result<Json<PortalLink>, ToolError> {
        let customer = CustomerRef::parse("customerRef", &args.customer_ref)?;
        let body = CreateCustomerSession {
            customer_ref: customer.to_string(),
        };
        let api = self.api();
        let (session, person) = tokio::join!(
            api.create_customer_session(&body),
            api.get_customer(&customer)
        );
        let session = session?;
        let fallback = time::OffsetDateTime::now_utc() + time::Duration::minutes(PORTAL_MINUTES);
        let expires_at = session.expires_at.unwrap_or_else(|| {
            fallback
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        });
        Ok(Json(PortalLink {
            customer_url: session.customer_url,
            session_id: session.session_id,
            customer_ref: body.customer_ref,
            customer_name: person.ok().and_then(|c| c.name),
            expires_at,
            expires_in_minutes: PORTAL_MINUTES,
        }))
    }

    #[tool(
        description = "Check a customer's usage against their plan for a product: used, allowance, remaining, period, and a checkoutUrl when they must pay or upgrade."
    )]
    async fn check_limits(
        &self,
        Parameters(args): Parameters<CheckLimitsArgs>,
    ) -> Result<Json<LimitsResult>, ToolError> {
        let customer = CustomerRef::parse("customerRef", &args.customer_ref)?;
        let product = ProductRef::parse("productRef", &args.product_ref)?;
        let body = LimitsRequest {
            customer_ref: customer.to_string(),
            product_ref: product.to_string(),
            include_checkout_session: true,
        };
        let filter = PurchaseQuery {
            customer: Some(&customer),
            product: Some(&product),
            status: None,
        };
        let api = self.api();
        let (limits, purchases) = tokio::join!(api.check_limits(&body), api.list_purchases(filter));
        let purchase = purchases.unwrap_or_default().into_iter().find(|p| {
            p.grants_access()
                && p.product_ref
                    .as_deref()
                    .is_none_or(|r| r == product.as_str())
        });
        Ok(Json(limits_result(&customer, &product, limits?, purchase)))
    }
}
