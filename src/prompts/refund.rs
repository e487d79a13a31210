//! `refund_request`: look into a customer's refund request (the payment, what is left to refund,
//! their purchases), then refund with the person's confirmation, which `create_refund` asks for
//! itself once it knows the amount.

use serde_json::json;

use super::{ArgSpec, Arguments, Completes, PromptSpec, Setting, call, quoted};
use crate::model::validate::{self, FieldError};
use crate::model::{CustomerRef, TransactionRef};

pub(super) const PROMPT: PromptSpec = PromptSpec {
    name: "refund_request",
    title: "Look into a refund request",
    description: "Find the customer's payment, what is left to refund and what they bought, then \
                  refund it once the person confirms the amount.",
    arguments: &[
        ArgSpec {
            name: "customer",
            description: "Customer reference (cus_…) asking for the refund.",
            required: true,
            completes: Some(Completes::Customer),
        },
        ArgSpec {
            name: "payment",
            description: "Transaction reference (txn_…) of the payment; default: the person \
                          picks one of the customer's payments.",
            required: false,
            completes: Some(Completes::Payment),
        },
        ArgSpec {
            name: "reason",
            description: "Why the customer wants it back (stored with the refund).",
            required: false,
            completes: None,
        },
    ],
    needs: &[
        "get_customer",
        "get_transaction",
        "list_transactions",
        "get_purchases_by_customer",
        "create_refund",
    ],
    optional: &[],
    render,
};

fn render(args: &Arguments<'_>, _setting: &Setting<'_>) -> Result<String, FieldError> {
    let customer = CustomerRef::parse("customer", args.required("customer")?)?;
    let payment = args
        .optional("payment")?
        .map(|p| TransactionRef::parse("payment", p))
        .transpose()?;
    let reason = validate::opt_text("reason", args.optional("reason")?, 500)?;

    let find_payment = match &payment {
        Some(payment) => format!(
            "Call {}. Check that it is a completed payment (type payment) made by this customer \
             (its `from` names them); if it is not, stop and tell the person.",
            call(
                "get_transaction",
                json!({ "transactionRef": payment.as_str() })
            )
        ),
        None => format!(
            "No payment was given: call {} and follow nextOffset; the customer's payments are \
             those of type payment whose `from` names them. Show them (reference, date, amount) \
             and ask the person which one the request is about.",
            call("list_transactions", json!({ "status": "completed" }))
        ),
    };
    let payment_value = payment
        .as_ref()
        .map_or("<the payment from step 2>", |p| p.as_str());
    let refund = match &reason {
        Some(reason) => json!({ "sourceTransactionRef": payment_value, "reason": reason }),
        None => json!({ "sourceTransactionRef": payment_value }),
    };
    let asked = match &reason {
        Some(reason) => format!(", giving the reason {}", quoted(reason)),
        None => String::new(),
    };
    Ok(format!(
        "Look into the refund request of customer {customer}{asked}.\n\n\
         Steps, in this order:\n\
         1. Call {get_customer}: note the customer's name and email (a transaction names its \
         payer by name).\n\
         2. {find_payment}\n\
         3. Work out what is left to refund: call {refunds} and follow nextOffset; add up the \
         refunds (type refund, not failed or cancelled) whose metadata names this payment \
         (originalTransactionRef). The payment's amount minus those is what is left. If nothing \
         is left, stop and say so.\n\
         4. Call {purchases}: say which purchase the payment was for and whether it is still \
         active. If its renewal should stop too, say so; do not cancel it here.\n\
         5. Show the person the payment (reference, date, amount), what was already refunded, \
         what is left, the purchase and the reason, and ask how much to refund: all that is left \
         or a part (in minor units).\n\
         6. Call {refund}, adding `amount` (minor units) only for a part. The tool itself asks \
         the person to confirm the amount and the payment before any money moves: wait for that \
         answer and never work around it (no other tool, no repeat with newRefund).\n\
         7. Report the refund reference, its status and what stays refundable.",
        customer = quoted(customer.as_str()),
        get_customer = call("get_customer", json!({ "reference": customer.as_str() })),
        refunds = call("list_transactions", json!({})),
        purchases = call(
            "get_purchases_by_customer",
            json!({ "customerRef": customer.as_str() })
        ),
        refund = call("create_refund", refund),
    ))
}
