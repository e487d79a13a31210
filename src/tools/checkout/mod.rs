//! Getting a customer to pay: checkout links, billing-portal links, and the usage-limit check that
//! says whether they must.

use crate::tools::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod limits;

use self::limits::{
    LimitsResult, LinkTool, enrols_on_check, grants_plan_access, limits_result, not_enrolled,
};
use super::{Json, Summary};
use crate::api::PurchaseQuery;
use crate::error::ToolError;
use crate::model::checkout::{CreateCheckoutSession, CreateCustomerSession};
use crate::model::limits::LimitsRequest;
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
        description = "Check a customer's usage against their plan for a product: used, allowance, remaining, period. Only reads: creates no checkout session and no purchase; when the customer must pay or upgrade, nextStep says how to get a link (create_checkout_session)."
    )]
    async fn check_limits(
        &self,
        Parameters(args): Parameters<CheckLimitsArgs>,
    ) -> Result<Json<LimitsResult>, ToolError> {
        let customer = CustomerRef::parse("customerRef", &args.customer_ref)?;
        let product = ProductRef::parse("productRef", &args.product_ref)?;
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
            customer_ref: customer.to_string(),
            product_ref: product.to_string(),
            include_checkout_session: false,
        };
        let limits = api.check_limits(&body).await?;
        let link = LinkTool::of(&self.options().policy);
        Ok(Json(limits_result(
            &customer, &product, limits, purchase, link,
        )))
    }
}
