//! `onboard_customer`: find or create a customer, then make them a checkout link for a product's
//! plan, once the person has confirmed what it is for.

use serde_json::json;

use super::{ArgSpec, Arguments, Completes, PromptSpec, Setting, call, quoted};
use crate::model::validate::{self, FieldError};
use crate::model::{PlanRef, ProductRef};

pub(super) const PROMPT: PromptSpec = PromptSpec {
    name: "onboard_customer",
    title: "Onboard a customer and send a checkout link",
    description: "Find or create a customer by email, then create a checkout link for a product's \
                  plan after the person confirms.",
    arguments: &[
        ArgSpec {
            name: "email",
            description: "The customer's email, e.g. jane@acme.com.",
            required: true,
            completes: None,
        },
        ArgSpec {
            name: "name",
            description: "The customer's name, used when the customer is created.",
            required: false,
            completes: None,
        },
        ArgSpec {
            name: "product",
            description: "Product reference (prd_…) to sell.",
            required: true,
            completes: Some(Completes::Product),
        },
        ArgSpec {
            name: "plan",
            description: "Plan reference (pln_…) of that product; default: the person picks one.",
            required: false,
            completes: Some(Completes::Plan),
        },
    ],
    needs: &[
        "ensure_customer",
        "get_product",
        "list_plans_for_product",
        "create_checkout_session",
    ],
    optional: &[],
    render,
};

fn render(args: &Arguments<'_>, _setting: &Setting<'_>) -> Result<String, FieldError> {
    let email = validate::email("email", args.required("email")?)?;
    let name = args
        .optional("name")?
        .map(|n| validate::name("name", n, 1, 100))
        .transpose()?;
    let product = ProductRef::parse("product", args.required("product")?)?;
    let plan = args
        .optional("plan")?
        .map(|p| PlanRef::parse("plan", p))
        .transpose()?;

    let ensure = match &name {
        Some(name) => json!({ "email": email, "name": name }),
        None => json!({ "email": email }),
    };
    let who = match &name {
        Some(name) => format!("{} <{}>", quoted(name), quoted(&email)),
        None => quoted(&email),
    };
    let pick_plan = match &plan {
        Some(plan) => format!(
            "Check that plan {} is one of its plans and is active; if it is not, stop and tell \
             the person.",
            quoted(plan.as_str())
        ),
        None => format!(
            "No plan was given: call {} and ask the person which plan to use (say which one is \
             the default).",
            call(
                "list_plans_for_product",
                json!({ "productRef": product.as_str() })
            )
        ),
    };
    let plan_value = plan
        .as_ref()
        .map_or("<the plan chosen in step 2>", |p| p.as_str());
    let checkout = json!({
        "customerRef": "<the customer reference from step 1>",
        "productRef": product.as_str(),
        "planRef": plan_value,
    });
    Ok(format!(
        "Onboard the customer {who} and send them a checkout link for product {product}.\n\n\
         Steps, in this order:\n\
         1. Call {ensure}. It finds the customer by email or creates them (never a duplicate); \
         note the customer's reference (cus_…) and whether it was created.\n\
         2. Call {get_product} and check that the product exists and is active. {pick_plan}\n\
         3. Ask the person to confirm before anything is sent to the customer: show the \
         customer (reference, name, email), the product and the plan with its price. Do not go \
         on without their yes.\n\
         4. Once confirmed, call {checkout}.\n\
         5. Give the person the checkoutUrl and say that it is for the customer to open; do not \
         send it anywhere yourself.",
        product = quoted(product.as_str()),
        ensure = call("ensure_customer", ensure),
        get_product = call("get_product", json!({ "reference": product.as_str() })),
        checkout = call("create_checkout_session", checkout),
    ))
}
