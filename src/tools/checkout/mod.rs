//! Getting a customer to pay: checkout links, billing-portal links, and the usage-limit check that
//! says whether they must.

use crate::tools::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod limits;

use self::limits::{LimitsResult, LinkTool, enrols_on_check, grants_plan_access, not_enrolled};
use super::{Json, Summary};
use crate::api::PurchaseQuery;
use crate::error::ToolError;
use crate::model::checkout::{
    CheckoutSessionWire, CreateCheckoutSession, CreateCustomerSession, CustomerSessionWire,
};
use crate::model::dates;
use crate::model::limits::LimitsRequest;
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
    /// Check against this plan (pln_…).
    plan_ref: Option<String>,
}

/// A hosted checkout link.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckoutLink {
    checkout_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    customer_ref: String,
    product_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan_ref: Option<String>,
}

impl CheckoutLink {
    fn from_wire(w: CheckoutSessionWire, asked: CreateCheckoutSession) -> Self {
        Self {
            checkout_url: w.checkout_url.unwrap_or_default(),
            session_id: w.session_id,
            customer_ref: asked.customer_ref.to_string(),
            product_ref: asked.product_ref.to_string(),
            plan_ref: asked.plan_ref.map(|p| p.to_string()),
        }
    }
}

/// A billing-portal link (payment methods, invoices, purchases).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PortalLink {
    customer_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    customer_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_name: Option<String>,
    /// ISO 8601.
    expires_at: String,
    expires_in_minutes: i64,
}

impl PortalLink {
    /// `now` dates the expiry when SolvaPay does not state it.
    fn from_wire(
        w: CustomerSessionWire,
        customer: CustomerRef,
        customer_name: Option<String>,
        now: time::OffsetDateTime,
    ) -> Self {
        let expires_at = w
            .expires_at
            .unwrap_or_else(|| dates::timestamp(now + time::Duration::minutes(PORTAL_MINUTES)));
        Self {
            customer_url: w.customer_url.unwrap_or_default(),
            session_id: w.session_id,
            customer_ref: customer.to_string(),
            customer_name,
            expires_at,
            expires_in_minutes: PORTAL_MINUTES,
        }
    }
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
            customer_ref: customer,
            product_ref: product,
            plan_ref: plan,
            return_url: return_url(args.return_url.as_deref())?,
        };
        let session = self.api().create_checkout_session(&body).await?;
        Ok(Json(CheckoutLink::from_wire(session, body)))
    }

    #[tool(
        description = "Create a billing-portal link where a customer manages payment methods, invoices and purchases. Valid 15 minutes."
    )]
    async fn create_customer_session(
        &self,
        Parameters(args): Parameters<CustomerSessionArgs>,
    ) -> Result<Json<PortalLink>, ToolError> {
        let customer = CustomerRef::parse("customerRef", &args.customer_ref)?;
        let api = self.api();
        let body = CreateCustomerSession {
            customer_ref: customer.clone(),
        };
        let (session, person) = tokio::join!(
            api.create_customer_session(&body),
            api.get_customer(&customer)
        );
        Ok(Json(PortalLink::from_wire(
            session?,
            body.customer_ref,
            person.ok().and_then(|c| c.name),
            self.options().clock.now(),
        )))
    }

    #[tool(
        description = "Check a customer's usage against their plan for a product: used, allowance, remaining, period. Only reads: creates no checkout session and no purchase; when the customer must pay or upgrade, nextStep says how to get a link (create_checkout_session)."
    )]
    async fn check_limits(
        &self,
        Parameters(args): Parameters<CheckLimitsArgs>,
    ) -> Result<Json<LimitsResult>, ToolError> {
        let customer = CustomerRef::parse("customerRef", &args.customer_ref)?;
        let product = ProductRef::parse("productRef", &args.product_ref)?;
        let plan_ref = args
            .plan_ref
            .as_deref()
            .map(|p| PlanRef::parse("planRef", p))
            .transpose()?;
        let api = self.api();
        let filter = PurchaseQuery {
            customer: Some(&customer),
            product: Some(&product),
            status: None,
        };
        // The purchase is read first: for a customer without one, SolvaPay's limit check enrols
        // them in the product's free default plan, a write this tool must not make.
        let purchase = api
            .list_purchases(filter)
            .await?
            .into_iter()
            .map(Purchase::from)
            .find(|p| grants_plan_access(p, &product));
        if purchase.is_none() {
            let plans = api.list_product_plans(&product).await?;
            if let Some(plan) = plans.iter().find(|p| enrols_on_check(p)) {
                // Unknown customers are NOT_FOUND, as SolvaPay's limit check would answer.
                api.get_customer(&customer).await?;
                return Ok(Json(not_enrolled(&customer, &product, plan)));
            }
        }
        let body = LimitsRequest {
            customer_ref: customer,
            product_ref: product,
            include_checkout_session: false,
            plan_ref,
        };
        let limits = api.check_limits(&body).await?;
        let link = LinkTool::of(&self.options().policy);
        Ok(Json(LimitsResult::from_wire(
            limits,
            body.customer_ref,
            body.product_ref,
            purchase,
            link,
        )))
    }
}
