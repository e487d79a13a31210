//! `month_end_usage`: a month's usage of a product reconciled against its plans' limits and what
//! was billed, as one table; it only reads.

use serde_json::json;

use super::{ArgSpec, Arguments, Completes, PromptSpec, Setting, call, quoted};
use crate::model::month::Month;
use crate::model::validate::FieldError;
use crate::model::{CustomerRef, ProductRef};

pub(super) const PROMPT: PromptSpec = PromptSpec {
    name: "month_end_usage",
    title: "Month-end usage reconciliation",
    description: "For a product and a month: each purchase's usage against its plan's limit, what \
                  went over, and what was billed, as one table. Reads only.",
    arguments: &[
        ArgSpec {
            name: "product",
            description: "Product reference (prd_…) to reconcile.",
            required: true,
            completes: Some(Completes::Product),
        },
        ArgSpec {
            name: "month",
            description: "The month, YYYY-MM (e.g. 2026-01); default: last month.",
            required: false,
            completes: None,
        },
        ArgSpec {
            name: "customer",
            description: "Customer reference (cus_…) to reconcile alone; default: every \
                          customer of the product.",
            required: false,
            completes: Some(Completes::Customer),
        },
    ],
    needs: &[
        "get_product",
        "get_purchases_by_product",
        "get_purchases_by_customer",
        "check_limits",
        "list_transactions",
    ],
    optional: &[BALANCE],
    render,
};

/// The one optional step's tool: the product's balance, a cross-check of the billed total.
const BALANCE: &str = "get_product_balance";

fn render(args: &Arguments<'_>, setting: &Setting<'_>) -> Result<String, FieldError> {
    let product = ProductRef::parse("product", args.required("product")?)?;
    let given = args
        .optional("month")?
        .map(|m| Month::parse("month", m))
        .transpose()?;
    let customer = args
        .optional("customer")?
        .map(|c| CustomerRef::parse("customer", c))
        .transpose()?;
    let month = given.unwrap_or_else(|| Month::before(setting.today));
    let (Some(first), Some(last)) = (month.first_day(), month.last_day()) else {
        // Only a month out of the calendar has no days; a parsed one is within range.
        return Err(FieldError::new("month", format!("{month} has no days")));
    };

    let which_month = match given {
        Some(_) => String::new(),
        None => format!(
            "\nNo month was given: this is last month, {} (today is {} on SolvaPay's clock).",
            quoted(&month.to_string()),
            setting.today
        ),
    };
    let (whose, purchases) = match &customer {
        Some(customer) => (
            format!(" for customer {}", quoted(customer.as_str())),
            format!(
                "Call {} and keep the purchases of this product",
                call(
                    "get_purchases_by_customer",
                    json!({ "customerRef": customer.as_str() })
                )
            ),
        ),
        None => (
            String::new(),
            format!(
                "Call {} for its purchases",
                call(
                    "get_purchases_by_product",
                    json!({ "productRef": product.as_str() })
                )
            ),
        ),
    };
    let limits = call(
        "check_limits",
        json!({ "customerRef": "<the purchase's customer>", "productRef": product.as_str() }),
    );
    let cross_check = if (setting.allowed)(BALANCE) {
        format!(
            " Then call {} and compare its totals with the transactions.",
            call(BALANCE, json!({ "productRef": product.as_str() }))
        )
    } else {
        format!(
            " ({BALANCE} is not available here: the billed total comes from the transactions \
             alone.)"
        )
    };
    let billed = call(
        "list_transactions",
        json!({ "fromDate": first.to_string(), "toDate": last.to_string() }),
    );
    Ok(format!(
        "Reconcile the usage of product {product}{whose} for the month {month_q}, {first} to \
         {last} inclusive.{which_month}\n\
         This only reads: change nothing (no usage recorded, no refund, no link, no \
         cancellation).\n\n\
         Steps, in this order:\n\
         1. Call {get_product}: its name and plans, each plan's limit, free units and price per \
         unit.\n\
         2. {purchases} that were active at some time in {month_q}: started by {last} and not \
         ended before {first}.\n\
         3. For each of those purchases read its usage (used, overageUnits, overageCost, \
         periodStart to periodEnd) and its plan's limit (planSnapshot.limit, freeUnits), and \
         call {limits} for where its customer stands now. SolvaPay keeps usage for the current \
         period: when a purchase's period is not {month_q}, say so on its row rather than \
         estimate.\n\
         4. Note each purchase that went over its limit: by how many units and the overage \
         cost.\n\
         5. Call {billed} and follow nextOffset: the payments and refunds of this product \
         (productId){whose} in the month are what was billed.{cross_check}\n\
         6. Show one table: customer, purchase, plan, limit, used, over by, overage cost, billed \
         and refunded in the month (amounts as formatted, with their currency); then the totals \
         per currency, and each row where usage over the limit was not billed or a charge has no \
         usage behind it.",
        product = quoted(product.as_str()),
        month_q = quoted(&month.to_string()),
        get_product = call("get_product", json!({ "reference": product.as_str() })),
    ))
}
