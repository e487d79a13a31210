//! Arguments of `create_plan` and `update_plan`, validated into a request body before any request.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::super::{opt_metadata, opt_text};
use crate::error::ToolError;
use crate::model::Currency;
use crate::model::plan::{
    BillingCycle, BillingModel, PlanBody, PlanStatus, PlanType, default_plan_name,
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CreatePlanArgs {
    /// Product to add the plan to (prd_…).
    #[serde(alias = "productReference")]
    pub(super) product_ref: String,
    /// Plan name (default derived, e.g. "Monthly recurring").
    name: Option<String>,
    description: Option<String>,
    /// Default recurring.
    #[serde(rename = "type")]
    plan_type: Option<PlanType>,
    /// Required for recurring, hybrid and post-paid usage-based.
    billing_cycle: Option<BillingCycle>,
    /// Usage-based only.
    billing_model: Option<BillingModel>,
    /// Minor units (2500 = $25.00).
    price: Option<i64>,
    /// ISO 4217, e.g. USD.
    currency: Option<String>,
    /// Minor units.
    setup_fee: Option<i64>,
    /// Hybrid base fee, minor units.
    base_price: Option<i64>,
    trial_days: Option<i64>,
    /// Free units per period.
    free_units: Option<i64>,
    /// Units per period; 0 = unlimited.
    limit: Option<i64>,
    credits_per_unit: Option<i64>,
    rollover_unused_units: Option<bool>,
    features: Option<Map<String, Value>>,
    limits: Option<Map<String, Value>>,
    metadata: Option<Map<String, Value>>,
    /// Make it the product's default plan (free or usage-based only).
    default: Option<bool>,
    status: Option<PlanStatus>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UpdatePlanArgs {
    #[serde(alias = "productReference")]
    pub(super) product_ref: String,
    #[serde(alias = "reference")]
    pub(super) plan_ref: String,
    name: Option<String>,
    description: Option<String>,
    billing_cycle: Option<BillingCycle>,
    /// Minor units.
    price: Option<i64>,
    currency: Option<String>,
    free_units: Option<i64>,
    /// 0 = unlimited.
    limit: Option<i64>,
    credits_per_unit: Option<i64>,
    rollover_unused_units: Option<bool>,
    features: Option<Map<String, Value>>,
    limits: Option<Map<String, Value>>,
    metadata: Option<Map<String, Value>>,
    default: Option<bool>,
    status: Option<PlanStatus>,
    // Fields `create_plan` takes but SolvaPay's `UpdatePlanRequest` lacks (SolvaPay would drop
    // them and answer success): read only to be refused by name, never in the schema.
    #[schemars(skip)]
    setup_fee: Option<Value>,
    #[schemars(skip)]
    base_price: Option<Value>,
    #[schemars(skip)]
    trial_days: Option<Value>,
    #[schemars(skip)]
    #[serde(rename = "type")]
    plan_type: Option<Value>,
    #[schemars(skip)]
    usage_tracking: Option<Value>,
}

impl UpdatePlanArgs {
    /// The fields given that SolvaPay cannot change after creation.
    fn fixed_fields(&self) -> Vec<&'static str> {
        [
            ("setupFee", self.setup_fee.is_some()),
            ("basePrice", self.base_price.is_some()),
            ("trialDays", self.trial_days.is_some()),
            ("type", self.plan_type.is_some()),
            ("usageTracking", self.usage_tracking.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

/// What `update_plan` can change: the fields of SolvaPay's `UpdatePlanRequest` it exposes.
const CHANGEABLE: &str = "name, description, billingCycle, price, currency, freeUnits, limit, \
                          creditsPerUnit, rolloverUnusedUnits, features, limits, metadata, \
                          default, status";

/// A non-negative integer argument no larger than `max`.
fn bounded(field: &str, value: Option<i64>, min: i64, max: i64) -> Result<Option<i64>, ToolError> {
    match value {
        Some(v) if !(min..=max).contains(&v) => Err(ToolError::invalid(
            field,
            format!("must be between {min} and {max} (got {v})"),
        )),
        v => Ok(v),
    }
}

fn plan_name(value: Option<&str>) -> Result<Option<String>, ToolError> {
    match opt_text("name", value, 200)? {
        Some(n) if n.trim().chars().count() < 2 => {
            Err(ToolError::invalid("name", "must be 2-200 characters"))
        }
        n => Ok(n.map(|n| n.trim().to_owned())),
    }
}

/// The fields `create_plan` and `update_plan` share, validated into a request body.
macro_rules! plan_body {
    ($a:ident) => {
        PlanBody {
            name: plan_name($a.name.as_deref())?,
            description: opt_text("description", $a.description.as_deref(), 500)?,
            billing_cycle: $a.billing_cycle,
            price: bounded("price", $a.price, 0, 10_000_000)?,
            currency: match $a.currency.as_deref() {
                Some(c) => Some(Currency::parse("currency", c)?.code().to_owned()),
                None => None,
            },
            setup_fee: None,
            base_price: None,
            trial_days: None,
            free_units: bounded("freeUnits", $a.free_units, 0, i64::MAX)?,
            limit: bounded("limit", $a.limit, 0, i64::MAX)?,
            credits_per_unit: bounded("creditsPerUnit", $a.credits_per_unit, 1, i64::MAX)?,
            rollover_unused_units: $a.rollover_unused_units,
            features: opt_metadata("features", $a.features)?,
            limits: opt_metadata("limits", $a.limits)?,
            metadata: opt_metadata("metadata", $a.metadata)?,
            default: $a.default,
            status: $a.status,
            plan_type: None,
            billing_model: None,
        }
    };
}

pub(super) fn create_body(args: CreatePlanArgs) -> Result<PlanBody, ToolError> {
    let plan_type = args.plan_type.unwrap_or(PlanType::Recurring);
    let needs_cycle = match plan_type {
        PlanType::Recurring | PlanType::Hybrid => true,
        PlanType::UsageBased => args.billing_model == Some(BillingModel::PostPaid),
        PlanType::OneTime => false,
    };
    if needs_cycle && args.billing_cycle.is_none() {
        return Err(ToolError::invalid(
            "billingCycle",
            format!(
                "is required for {} plans (weekly, monthly, quarterly, yearly or custom)",
                plan_type.as_str()
            ),
        ));
    }
    let model = args.billing_model;
    let mut body = PlanBody {
        plan_type: Some(plan_type),
        billing_model: model,
        setup_fee: bounded("setupFee", args.setup_fee, 0, 10_000_000)?,
        base_price: bounded("basePrice", args.base_price, 0, 10_000_000)?,
        trial_days: bounded("trialDays", args.trial_days, 0, 3650)?,
        ..plan_body!(args)
    };
    body.name = body
        .name
        .or_else(|| Some(default_plan_name(plan_type, body.billing_cycle, model)));
    body.metadata = body.metadata.or_else(|| Some(Map::new()));
    Ok(body)
}

/// The body of `PUT …/plans/{planRef}`: only what `UpdatePlanRequest` accepts. A field it lacks
/// is refused before any request, naming what can be changed.
pub(super) fn update_body(args: UpdatePlanArgs) -> Result<PlanBody, ToolError> {
    let fixed = args.fixed_fields();
    if let Some(first) = fixed.first() {
        return Err(ToolError::invalid(
            *first,
            format!(
                "SolvaPay cannot change {} of an existing plan (nothing was sent). update_plan \
                 can change: {CHANGEABLE}. For other terms, create a new plan with create_plan.",
                fixed.join(", ")
            ),
        ));
    }
    let body = plan_body!(args);
    let empty = serde_json::to_value(&body).is_ok_and(|v| v.as_object().is_some_and(Map::is_empty));
    if empty {
        return Err(ToolError::invalid(
            "price",
            "nothing to update: give at least one field to change",
        ));
    }
    Ok(body)
}
