//! `blocked_customer`: why a customer is blocked (their limits, their purchases' states, their
//! usage), then a checkout link that would unblock them, once the person has said yes.

use serde_json::json;

use super::{ArgSpec, Arguments, Completes, PromptSpec, Setting, call, quoted};
use crate::model::validate::FieldError;
use crate::model::{CustomerRef, PlanRef, ProductRef};

pub(super) const PROMPT: PromptSpec = PromptSpec {
    name: "blocked_customer",
    title: "Why was a customer blocked?",
    description: "Check a customer's limits, purchases and usage to say why they are blocked, \
                  then offer a checkout link after the person confirms.",
    arguments: &[
        ArgSpec {
            name: "customer",
            description: "Customer reference (cus_…) who is blocked.",
            required: true,
            completes: Some(Completes::Customer),
        },
        ArgSpec {
            name: "product",
            description: "Product reference (prd_…) they are blocked on; default: each product \
                          they bought.",
            required: false,
            completes: Some(Completes::Product),
        },
        ArgSpec {
            name: "plan",
            description: "Plan reference (pln_…) of that product to check against and to offer; \
                          needs `product`.",
            required: false,
            completes: Some(Completes::Plan),
        },
    ],
    needs: &[
        "get_customer",
        "get_purchases_by_customer",
        "get_purchase",
        "check_limits",
    ],
    optional: &[CHECKOUT],
    render,
};

/// The one optional step's tool: the checkout link offered at the end.
const CHECKOUT: &str = "create_checkout_session";

fn render(args: &Arguments<'_>, setting: &Setting<'_>) -> Result<String, FieldError> {
    let customer = CustomerRef::parse("customer", args.required("customer")?)?;
    let product = args
        .optional("product")?
        .map(|p| ProductRef::parse("product", p))
        .transpose()?;
    let plan = args
        .optional("plan")?
        .map(|p| PlanRef::parse("plan", p))
        .transpose()?;
    if plan.is_some() && product.is_none() {
        return Err(FieldError::new(
            "plan",
            "needs the `product` argument too (a plan belongs to one product)",
        ));
    }

    let product_value = product
        .as_ref()
        .map_or("<each product of their purchases>", |p| p.as_str());
    let on = match &product {
        Some(product) => format!(" on product {}", quoted(product.as_str())),
        None => String::new(),
    };
    let limits = match &plan {
        Some(plan) => json!({
            "customerRef": customer.as_str(),
            "productRef": product_value,
            "planRef": plan.as_str(),
        }),
        None => json!({ "customerRef": customer.as_str(), "productRef": product_value }),
    };
    let offer = if (setting.allowed)(CHECKOUT) {
        let plan_value = plan
            .as_ref()
            .map_or("<the plan the person chose>", |p| p.as_str());
        let checkout = json!({
            "customerRef": customer.as_str(),
            "productRef": product
                .as_ref()
                .map_or("<the product they are blocked on>", |p| p.as_str()),
            "planRef": plan_value,
        });
        format!(
            "6. If buying or upgrading would unblock them, offer a checkout link: say which plan \
             and its price, and ask the person. Only after their yes, call {}, and give the \
             person the checkoutUrl for the customer to open; do not send it anywhere yourself.",
            call(CHECKOUT, checkout)
        )
    } else {
        format!(
            "6. If buying or upgrading would unblock them, say which plan and its price. No \
             checkout link can be made here ({CHECKOUT} is not available on this server): tell \
             the person to make one where it is enabled."
        )
    };
    Ok(format!(
        "Find out why customer {customer_q} is blocked{on}. Change nothing until step 6.\n\n\
         Steps, in this order:\n\
         1. Call {get_customer}: check that the customer exists; note their name and email.\n\
         2. Call {purchases}: each purchase's state (active, trialing, past_due, suspended, \
         cancelled with accessUntil, ended (endDate passed), expired, refunded){on}.\n\
         3. Call {limits}: the state (within_limits, limit_reached, needs_activation, \
         purchase_required, not_enrolled), used of the allowance, remaining, and the period.\n\
         4. For the purchase that should give access, call {purchase} for its usage this period \
         (used, overageUnits, periodStart to periodEnd) against its plan's limit.\n\
         5. Say why in a few sentences: no purchase, a purchase that ended, expired, was \
         cancelled or refunded, a payment past due, a plan that needs activation, or the \
         period's limit used up (and when it resets).\n\
         {offer}",
        customer_q = quoted(customer.as_str()),
        get_customer = call("get_customer", json!({ "reference": customer.as_str() })),
        purchases = call(
            "get_purchases_by_customer",
            json!({ "customerRef": customer.as_str() })
        ),
        limits = call("check_limits", limits),
        purchase = call(
            "get_purchase",
            json!({ "reference": "<that purchase's reference>" })
        ),
    ))
}
