//! Domain types shared by the client and the tools: references, money, and the resource shapes.

pub mod checkout;
pub mod credit;
pub mod customer;
pub mod dates;
pub mod ids;
pub mod limits;
pub mod money;
pub mod month;
pub mod plan;
pub mod product;
pub mod purchase;
pub mod revenue_metrics;
pub mod rows;
pub mod transaction;
pub mod usage;
pub mod validate;

pub use ids::{CustomerRef, PlanRef, ProductRef, PurchaseRef, TransactionRef};
pub use money::{Currency, Money};
pub use validate::FieldError;

/// A text field of a SolvaPay answer, `None` when missing or blank (SolvaPay sends `""` for some
/// unset fields): tool results leave such fields out.
pub(crate) fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}
