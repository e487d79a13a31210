//! Every response type driven with mutated, real-shaped bodies through the one decoder: numbers as
//! integers, floats or numeric strings, `null` for absent, extra fields, a `{data}` envelope. Each
//! conversion gives the value sent, or (a number field holding text) an error naming the field.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::balance::ProductBalanceWire;
use super::{ApiError, decode};
use crate::model::credit::CustomerBalanceWire;
use crate::model::customer::{Customer, CustomerWire};
use crate::model::limits::LimitsWire;
use crate::model::plan::{Plan, PlanWire};
use crate::model::product::{Product, ProductWire};
use crate::model::purchase::{Purchase, PurchaseWire};
use crate::model::rows::Rows;
use crate::model::transaction::{StatsWire, Transaction, TransactionWire};
use crate::model::usage::{BulkUsageWire, CreditDebitWire};
use crate::model::{Money, ProductRef};
use crate::redact::Redactor;

/// What a case reads back: the numbers at its fields, in order (`None` = absent).
type Read = fn(&[u8]) -> Result<Vec<Option<i64>>, ApiError>;

struct Case {
    name: &'static str,
    body: Value,
    /// JSON pointers of the number fields, and the path the decoder names for each.
    numbers: &'static [(&'static str, &'static str)],
    /// JSON pointers of text fields SolvaPay may send as `null`.
    nullable: &'static [&'static str],
    read: Read,
}

fn units(m: Option<&Money>) -> Option<i64> {
    m.map(|m| m.amount)
}

fn dec<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    decode(
        "GET /v1/sdk/x",
        body,
        &Redactor::new(std::iter::empty::<&str>()),
    )
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "customer",
            body: json!({"reference": "cus_A1B2C3D4", "email": "jane@acme.com", "name": "Jane",
                "purchases": [{"reference": "pur_1", "productName": "Bot", "amount": 4900}]}),
            numbers: &[("/purchases/0/amount", "purchases[0].amount")],
            nullable: &["/email", "/name", "/purchases/0/productName"],
            read: |b| {
                let c = Customer::from(dec::<CustomerWire>(b)?);
                Ok(vec![units(
                    c.purchases.first().and_then(|p| p.amount.as_ref()),
                )])
            },
        },
        Case {
            name: "plan",
            body: json!({"reference": "pln_1", "name": "Pro", "price": 4900, "setupFee": 500,
                "trialDays": 14, "freeUnits": 100, "currency": "usd"}),
            numbers: &[
                ("/price", "price"),
                ("/setupFee", "setupFee"),
                ("/trialDays", "trialDays"),
                ("/freeUnits", "freeUnits"),
            ],
            nullable: &["/name", "/currency"],
            read: |b| {
                let product = ProductRef::parse("p", "prd_1").map_err(|_| ApiError::MissingKey)?;
                let p = Plan::from_wire(dec::<PlanWire>(b)?, &product);
                Ok(vec![
                    units(p.price.as_ref()),
                    units(p.setup_fee.as_ref()),
                    p.trial_days,
                    p.free_units,
                ])
            },
        },
        Case {
            name: "purchase",
            body: json!({"reference": "pur_1", "status": "active", "productName": "Bot", "amount": 4900,
                "planSnapshot": {"price": 4900, "limit": 1000},
                "usage": {"used": 12, "overageUnits": 2, "overageCost": 30}}),
            numbers: &[
                ("/amount", "amount"),
                ("/planSnapshot/price", "planSnapshot.price"),
                ("/planSnapshot/limit", "planSnapshot.limit"),
                ("/usage/used", "usage.used"),
                ("/usage/overageCost", "usage.overageCost"),
            ],
            nullable: &["/productName", "/status"],
            read: |b| {
                let p = Purchase::from(dec::<PurchaseWire>(b)?);
                let snap = p.plan_snapshot.as_ref();
                let usage = p.usage.as_ref();
                Ok(vec![
                    units(p.amount.as_ref()),
                    units(snap.and_then(|s| s.price.as_ref())),
                    snap.and_then(|s| s.limit),
                    usage.map(|u| u.used),
                    units(usage.and_then(|u| u.overage_cost.as_ref())),
                ])
            },
        },
        Case {
            name: "product",
            body: json!({"reference": "prd_1", "name": "Bot", "totalTransactions": 7,
                "plans": [{"reference": "pln_1", "price": 2500}]}),
            numbers: &[
                ("/totalTransactions", "totalTransactions"),
                ("/plans/0/price", "plans[0].price"),
            ],
            nullable: &["/name"],
            read: |b| {
                let p = Product::from(dec::<ProductWire>(b)?);
                Ok(vec![
                    p.total_transactions.and_then(|t| i64::try_from(t).ok()),
                    units(p.plans.first().and_then(|p| p.price.as_ref())),
                ])
            },
        },
        Case {
            name: "limits",
            body: json!({"withinLimits": true, "remaining": 13, "creditBalance": 250, "meterName": "requests",
                "plans": [{"reference": "pln_1", "name": "Pro"}]}),
            numbers: &[
                ("/remaining", "remaining"),
                ("/creditBalance", "creditBalance"),
            ],
            nullable: &["/meterName", "/plans/0/name"],
            read: |b| {
                let l = dec::<LimitsWire>(b)?;
                Ok(vec![l.remaining, l.credit_balance])
            },
        },
        Case {
            name: "stats",
            body: json!({"total": 9, "totalAmount": 12000, "completedTransactions": 6, "byType": {"refund": 1}}),
            numbers: &[
                ("/total", "total"),
                ("/totalAmount", "totalAmount"),
                ("/completedTransactions", "completedTransactions"),
            ],
            nullable: &["/byType"],
            read: |b| {
                let s = dec::<StatsWire>(b)?;
                Ok(vec![
                    i64::try_from(s.total).ok(),
                    s.total_amount,
                    i64::try_from(s.completed_transactions).ok(),
                ])
            },
        },
        Case {
            name: "transaction",
            body: json!({"reference": "txn_1", "type": "payment", "status": "completed", "amount": 4900,
                "fee": 150, "currency": "USD", "description": "Pro"}),
            numbers: &[("/amount", "amount"), ("/fee", "fee")],
            nullable: &["/description", "/status"],
            read: |b| {
                let t = Transaction::from(dec::<TransactionWire>(b)?);
                Ok(vec![units(t.amount.as_ref()), units(t.fee.as_ref())])
            },
        },
        Case {
            name: "credit debit",
            body: json!({"debited": true, "amount": 30, "unitsRemaining": 147, "reason": "debited"}),
            numbers: &[("/amount", "amount"), ("/unitsRemaining", "unitsRemaining")],
            nullable: &["/reason"],
            read: |b| {
                let d = dec::<CreditDebitWire>(b)?;
                Ok(vec![d.amount, d.units_remaining])
            },
        },
        Case {
            name: "bulk usage",
            body: json!({"inserted": 2, "results": [{"success": true, "reference": "use_1"}]}),
            numbers: &[("/inserted", "inserted")],
            nullable: &["/results/0/reference"],
            read: |b| {
                let bulk = dec::<BulkUsageWire>(b)?;
                Ok(vec![bulk.inserted.and_then(|n| i64::try_from(n).ok())])
            },
        },
        Case {
            name: "product balance",
            body: json!({"reference": "prd_P9Q0R1S2", "name": "Bot", "balance": 2400, "totalTransactions": 2}),
            numbers: &[
                ("/balance", "balance"),
                ("/totalTransactions", "totalTransactions"),
            ],
            nullable: &["/name"],
            read: |b| {
                let p = dec::<ProductBalanceWire>(b)?;
                Ok(vec![p.balance, i64::try_from(p.total_transactions).ok()])
            },
        },
        Case {
            name: "customer balance",
            body: json!({"customerRef": "cus_A1B2C3D4", "credits": 1500, "creditsPerMinorUnit": 100,
                "displayCurrency": "USD"}),
            numbers: &[
                ("/credits", "credits"),
                ("/creditsPerMinorUnit", "creditsPerMinorUnit"),
            ],
            nullable: &["/displayCurrency"],
            read: |b| {
                let c = dec::<CustomerBalanceWire>(b)?;
                Ok(vec![c.credits, c.credits_per_minor_unit])
            },
        },
        Case {
            name: "customer list",
            body: json!({"customers": [{"reference": "cus_A1B2C3D4", "email": "jane@acme.com",
                "purchases": [{"reference": "pur_1", "amount": 900}]}], "total": 1}),
            numbers: &[("/total", "total")],
            nullable: &["/customers/0/email"],
            read: |b| {
                let rows = dec::<Rows<CustomerWire>>(b)?;
                Ok(vec![rows.total.and_then(|t| i64::try_from(t).ok())])
            },
        },
    ]
}

/// `n` written the way `form` says: integer, float, numeric string, or a string with ".0".
fn written(n: i64, form: u8) -> Value {
    match form % 4 {
        0 => json!(n),
        1 => json!(n as f64),
        2 => json!(n.to_string()),
        _ => json!(format!("{n}.0")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_response_type_bends_to_odd_bodies_or_names_the_field(
        case in 0usize..12,
        values in proptest::collection::vec(0i64..10_000_000, 5),
        forms in proptest::collection::vec(0u8..4, 5),
        nulls in proptest::collection::vec(any::<bool>(), 3),
        extra in proptest::option::of("[a-z]{1,8}"),
        wrapped in any::<bool>(),
        poison in proptest::option::of((0usize..5, prop_oneof![Just(json!("n/a")), Just(json!({"amount": 1})), Just(json!([1])), Just(json!(true))])),
    ) {
        let cases = cases();
        let case = &cases[case % cases.len()];
        let mut body = case.body.clone();
        let mut expected = Vec::new();
        for (i, (pointer, _)) in case.numbers.iter().enumerate() {
            let n = values[i % values.len()];
            *body.pointer_mut(pointer).unwrap() = written(n, forms[i % forms.len()]);
            expected.push(Some(n));
        }
        for (i, pointer) in case.nullable.iter().enumerate() {
            if nulls[i % nulls.len()] {
                *body.pointer_mut(pointer).unwrap() = Value::Null;
            }
        }
        if let (Some(key), Value::Object(map)) = (&extra, &mut body) {
            map.insert(format!("x_{key}"), json!({"unknown": [1, null, "two"]}));
        }
        let poisoned = poison.map(|(i, bad)| {
            let (pointer, path) = case.numbers[i % case.numbers.len()];
            *body.pointer_mut(pointer).unwrap() = bad;
            path
        });
        if wrapped {
            body = json!({"data": body, "success": true});
        }
        let read = (case.read)(body.to_string().as_bytes());
        match poisoned {
            None => prop_assert_eq!(read.map_err(|e| e.to_string()), Ok(expected), "{}: {}", case.name, body),
            Some(path) => match read {
                Err(ApiError::Unreadable { field, .. }) => prop_assert_eq!(field.as_str(), path, "{}: {}", case.name, body),
                other => prop_assert!(false, "{}: expected an error naming {}, got {:?} for {}", case.name, path, other.map(|_| ()), body),
            },
        }
    }

    #[test]
    fn a_fraction_of_a_minor_unit_is_kept_exactly(whole in 0i64..1_000_000, frac in 1u32..1000, string in any::<bool>()) {
        let exact = format!("{whole}.{frac:03}").trim_end_matches('0').to_owned();
        let cost = if string { json!(exact) } else { serde_json::from_str::<Value>(&exact).unwrap() };
        let body = json!({"reference": "pur_1", "usage": {"used": 1, "overageCost": cost}});
        let p = Purchase::from(dec::<PurchaseWire>(body.to_string().as_bytes()).unwrap());
        let money = p.usage.unwrap().overage_cost.unwrap();
        // A float is read as the shortest decimal that is that float: the digits sent.
        prop_assert_eq!(money.exact.as_deref(), Some(exact.as_str()));
        let digits: String = money.formatted.chars().filter(char::is_ascii_digit).collect();
        let sent: String = exact.chars().filter(char::is_ascii_digit).collect();
        prop_assert!(digits.trim_start_matches('0') == sent.trim_start_matches('0'), "{} vs {}", money.formatted, exact);
    }
}
