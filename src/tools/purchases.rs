//! Purchase tools: list, get, per customer, per product, and cancel a renewal. SolvaPay's purchase
//! lists do not page; status filters on per-customer/per-product lists are applied here.

use crate::tools::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use rmcp::RoleServer;
use rmcp::service::RequestContext;
use serde_json::{Map, Value};

use super::{Json, Reply, Summary, first_items, opt_text};
use crate::api::PurchaseQuery;
use crate::apps::Review;
use crate::confirm::{Binding, Consent};
use crate::error::ToolError;
use crate::model::purchase::{CancelPurchase, Purchase, PurchaseStatus, PurchaseWire};
use crate::model::{CustomerRef, ProductRef, PurchaseRef};
use crate::server::BillingServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ListPurchasesArgs {
    status: Option<PurchaseStatus>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PurchaseRefArgs {
    /// Purchase reference, e.g. pur_T3U4V5W6.
    #[serde(alias = "id", alias = "purchaseRef", alias = "purchaseId")]
    reference: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CustomerPurchasesArgs {
    /// Customer reference (cus_…).
    #[serde(alias = "customerId")]
    customer_ref: String,
    status: Option<PurchaseStatus>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ProductPurchasesArgs {
    /// Product reference (prd_…).
    #[serde(alias = "productReference")]
    product_ref: String,
    status: Option<PurchaseStatus>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CancelRenewalArgs {
    /// Purchase reference (pur_…).
    #[serde(alias = "purchaseId", alias = "reference")]
    purchase_ref: String,
    /// Why (stored on the purchase).
    reason: Option<String>,
}

/// Purchases (all of them: SolvaPay does not page these lists).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PurchaseList {
    /// The customer, for per-customer lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_name: Option<String>,
    /// How many there are (the whole list).
    total: usize,
    /// How many are active or trialing.
    active_count: usize,
    purchases: Vec<Purchase>,
}

/// The purchase after its renewal was cancelled.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelledRenewal {
    /// True when an earlier call had cancelled it: this one changed nothing.
    already_cancelled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(flatten)]
    purchase: Purchase,
    /// Not sent yet: awaiting the review form's submit.
    #[serde(skip)]
    #[schemars(skip)]
    pending: bool,
}

impl Summary for Purchase {
    fn summary(&self) -> String {
        format!("Purchase {}", self.line())
    }
}

impl Summary for PurchaseList {
    fn summary(&self) -> String {
        let who = match (&self.customer_name, &self.customer_ref) {
            (Some(name), Some(r)) => format!("{name} ({r}) has "),
            (None, Some(r)) => format!("{r} has "),
            _ => String::new(),
        };
        let n = self.purchases.len();
        let noun = if n == 1 { "purchase" } else { "purchases" };
        let named = first_items(self.purchases.iter().map(Purchase::line), "; ");
        let named = if named.is_empty() {
            named
        } else {
            format!(": {named}")
        };
        format!("{who}{n} {noun}, {} active{named}", self.active_count)
    }
}

impl Summary for CancelledRenewal {
    fn summary(&self) -> String {
        if self.pending {
            return format!(
                "Not cancelled yet: cancelling the renewal of {} awaits the person's review in \
                 the form shown to them; nothing was sent to SolvaPay.",
                self.purchase.reference
            );
        }
        let until = self
            .purchase
            .access_until
            .as_deref()
            .unwrap_or("the end of the current period");
        let done = if self.already_cancelled {
            "was already cancelled (nothing changed)"
        } else {
            "cancelled"
        };
        format!(
            "Renewal of {} {done}; status {}, access until {until}",
            self.purchase.reference, self.purchase.status
        )
    }
}

/// Builds the purchases, applies the local status filter, and counts the active ones.
fn purchase_list(purchases: Vec<PurchaseWire>, status: Option<PurchaseStatus>) -> PurchaseList {
    let purchases: Vec<Purchase> = purchases
        .into_iter()
        .map(Purchase::from)
        .filter(|p| status.is_none_or(|s| p.state == Some(s)))
        .collect();
    PurchaseList {
        customer_ref: None,
        customer_name: None,
        total: purchases.len(),
        active_count: purchases.iter().filter(|p| p.grants_access()).count(),
        purchases,
    }
}

#[tool_router(router = purchase_tools, vis = "pub(crate)")]
impl BillingServer {
    #[tool(
        description = "List all purchases (subscriptions, one-time buys), optionally by status."
    )]
    async fn list_purchases(
        &self,
        Parameters(args): Parameters<ListPurchasesArgs>,
    ) -> Result<Json<PurchaseList>, ToolError> {
        let filter = PurchaseQuery {
            status: args.status,
            ..PurchaseQuery::default()
        };
        let purchases = self.api().list_purchases(filter).await?;
        Ok(Json(purchase_list(purchases, args.status)))
    }

    #[tool(description = "Get one purchase: status, plan, dates, usage.")]
    async fn get_purchase(
        &self,
        Parameters(args): Parameters<PurchaseRefArgs>,
    ) -> Result<Json<Purchase>, ToolError> {
        let reference = PurchaseRef::parse("reference", &args.reference)?;
        Ok(Json(self.api().get_purchase(&reference).await?.into()))
    }

    #[tool(
        description = "A customer's purchases with plan, price, start and next billing dates, and the customer's name."
    )]
    async fn get_purchases_by_customer(
        &self,
        Parameters(args): Parameters<CustomerPurchasesArgs>,
    ) -> Result<Json<PurchaseList>, ToolError> {
        let customer = CustomerRef::parse("customerRef", &args.customer_ref)?;
        let api = self.api();
        let (purchases, person) = tokio::join!(
            api.customer_purchases(&customer),
            api.get_customer(&customer)
        );
        let mut list = purchase_list(purchases?, args.status);
        if let Err(e) = &person {
            tracing::warn!(error = %e, "customer name unavailable");
        }
        list.customer_name = person.ok().and_then(|c| c.name);
        list.customer_ref = Some(customer.to_string());
        Ok(Json(list))
    }

    #[tool(description = "A product's purchases, optionally by status.")]
    async fn get_purchases_by_product(
        &self,
        Parameters(args): Parameters<ProductPurchasesArgs>,
    ) -> Result<Json<PurchaseList>, ToolError> {
        let product = ProductRef::parse("productRef", &args.product_ref)?;
        let purchases = self.api().product_purchases(&product).await?;
        Ok(Json(purchase_list(purchases, args.status)))
    }

    #[tool(
        description = "Stop a purchase from renewing. The customer keeps access until accessUntil (end of the paid period). Safe to repeat: a renewal already cancelled answers alreadyCancelled true.",
        output_schema = rmcp::handler::server::tool::schema_for_output::<CancelledRenewal>()
    )]
    async fn cancel_renewal(
        &self,
        Parameters(args): Parameters<CancelRenewalArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Reply<CancelledRenewal>, ToolError> {
        let reference = PurchaseRef::parse("purchaseRef", &args.purchase_ref)?;
        let body = CancelPurchase {
            reason: opt_text("reason", args.reason.as_deref(), 500)?,
        };
        let mut understood = Map::new();
        understood.insert("purchaseRef".into(), reference.as_str().into());
        if let Some(reason) = &body.reason {
            understood.insert("reason".into(), reason.as_str().into());
        }
        let binding = Binding {
            tool: "cancel_renewal",
            arguments: &understood,
            amount: None,
        };
        let question = format!("Cancel the renewal of purchase {reference}?");
        match self.confirmer().ask(&context, &binding, &question).await? {
            Consent::Given => {}
            Consent::Ask(input) => return Ok(Reply::Ask(input)),
            Consent::Review(token) => {
                let purchase = Purchase::from(self.api().get_purchase(&reference).await?);
                return Ok(pending_cancellation(purchase, understood, token));
            }
        }
        let api = self.api();
        let refused = match api.cancel_purchase(&reference, &body).await {
            Ok((purchase, message)) => {
                return Ok(Reply::Done(CancelledRenewal {
                    already_cancelled: false,
                    message,
                    purchase: purchase.into(),
                    pending: false,
                }));
            }
            // SolvaPay answers 400 for a purchase it cannot cancel, for whatever reason; the
            // purchase itself says whether that is because its renewal is cancelled already.
            Err(e) if e.status() == Some(400) => e,
            Err(e) => return Err(e.into()),
        };
        match api.get_purchase(&reference).await {
            Ok(purchase) if purchase.cancelled_at.is_some() => Ok(Reply::Done(CancelledRenewal {
                already_cancelled: true,
                message: Some("The renewal was already cancelled; nothing changed.".to_owned()),
                purchase: purchase.into(),
                pending: false,
            })),
            _ => Err(refused.into()),
        }
    }
}

/// The cancellation of `purchase`'s renewal awaiting its review form's submit (nothing sent).
fn pending_cancellation(
    purchase: Purchase,
    arguments: Map<String, Value>,
    token: String,
) -> Reply<CancelledRenewal> {
    let review = renewal_review(&purchase, arguments);
    let pending = CancelledRenewal {
        already_cancelled: purchase.cancelled_at.is_some(),
        message: Some(
            "Not cancelled yet: the person reviews this in the review form and submits it there."
                .to_owned(),
        ),
        purchase,
        pending: true,
    };
    Reply::review(pending, review, token)
}

/// The review form of a cancellation: the purchase, its customer and product, and until when the
/// customer keeps access.
fn renewal_review(purchase: &Purchase, arguments: Map<String, Value>) -> Review {
    let customer = purchase
        .customer_email
        .as_deref()
        .or(purchase.customer_ref.as_deref())
        .unwrap_or("not named");
    let product = purchase
        .product_name
        .as_deref()
        .or(purchase.product_ref.as_deref())
        .unwrap_or("not named");
    let until = purchase
        .next_billing_date
        .as_deref()
        .or(purchase.end_date.as_deref())
        .unwrap_or("the end of the current period");
    Review::new(
        "cancel_renewal",
        format!("Cancel the renewal of {product} for {customer}"),
        "Cancel renewal",
        arguments,
    )
    .row("Purchase", purchase.reference.clone())
    .row("Customer", customer)
    .row("Product", product)
    .row("Status", purchase.status.clone())
    .row(
        "Charged",
        purchase
            .amount
            .as_ref()
            .map_or_else(|| "not given".to_owned(), |m| m.formatted.clone()),
    )
    .row("Access until", until)
}
