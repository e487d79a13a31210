//! Plan tools: create, get, list (across products or for one), update, delete.

use crate::tools::Parameters;
use futures::{StreamExt, TryStreamExt};
use rmcp::model::ProgressNotificationParam;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod args;

use self::args::{CreatePlanArgs, UpdatePlanArgs, create_body, update_body};
use super::{Json, PageInfo, Summary, first_items, opt_text, unless_absent};
use crate::error::{ErrorCode, ToolError};
use crate::model::plan::{Plan, PlanStatus, PlanType, PlanWire};
use crate::model::{PlanRef, ProductRef, validate};
use crate::server::BillingServer;

/// Products whose plans are fetched at the same time by `list_plans`.
const CONCURRENT_PRODUCTS: usize = 4;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PlanRefArgs {
    /// Product reference (prd_…).
    #[serde(alias = "productReference")]
    product_ref: String,
    /// Plan reference (pln_…).
    #[serde(alias = "reference")]
    plan_ref: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ProductPlansArgs {
    /// Product reference (prd_…).
    #[serde(alias = "productReference", alias = "reference")]
    product_ref: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ListPlansArgs {
    /// Page size, 1-100 (default 20).
    limit: Option<i64>,
    /// Rows to skip (default 0).
    offset: Option<i64>,
    status: Option<PlanStatus>,
    #[serde(rename = "type")]
    plan_type: Option<PlanType>,
    /// Matches plan name.
    search: Option<String>,
}

/// Plans, each with its `productRef`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PlanList {
    plans: Vec<Plan>,
    #[serde(flatten)]
    page: PageInfo,
}

/// The outcome of `delete_plan`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeletedPlan {
    product_ref: String,
    plan_ref: String,
    /// False when the product has no such plan (deleted before, or a wrong reference).
    deleted: bool,
}

impl Summary for Plan {
    fn summary(&self) -> String {
        let kind = self.plan_type.as_deref().unwrap_or("plan");
        let status = self.status.as_deref().unwrap_or("unknown status");
        format!("{}, {kind}, {status}", self.label())
    }
}

impl Summary for PlanList {
    fn summary(&self) -> String {
        let named = first_items(self.plans.iter().map(Plan::label), "; ");
        self.page.describe(self.plans.len(), "plans", &named)
    }
}

impl Summary for DeletedPlan {
    fn summary(&self) -> String {
        if self.deleted {
            format!("Deleted plan {} of {}", self.plan_ref, self.product_ref)
        } else {
            format!(
                "Nothing deleted: {} has no plan {} (already deleted, or a wrong reference)",
                self.product_ref, self.plan_ref
            )
        }
    }
}

fn matches(plan: &Plan, args: &ListPlansArgs, search: Option<&str>) -> bool {
    args.status
        .is_none_or(|s| plan.status.as_deref() == Some(s.as_str()))
        && args
            .plan_type
            .is_none_or(|t| plan.plan_type.as_deref() == Some(t.as_str()))
        && search.is_none_or(|q| {
            plan.name
                .as_deref()
                .is_some_and(|n| n.to_lowercase().contains(&q.to_lowercase()))
        })
}

fn of_product(plans: Vec<PlanWire>, product: &ProductRef) -> Vec<Plan> {
    plans
        .into_iter()
        .map(|p| Plan::from_wire(p, product))
        .collect()
}

impl BillingServer {
    /// Every plan of every product, in product order; one progress notification per product.
    async fn all_plans(&self, ctx: &RequestContext<RoleServer>) -> Result<Vec<Plan>, ToolError> {
        let products = self.api().all_product_refs().await?;
        let total = products.len();
        let token = ctx.meta.get_progress_token();
        let api = self.api().clone();
        let mut fetched: Vec<(usize, ProductRef, Vec<PlanWire>)> = Vec::with_capacity(total);
        let mut stream = futures::stream::iter(products.into_iter().enumerate())
            .map(move |(i, product)| {
                let api = api.clone();
                async move {
                    let plans = api.list_product_plans(&product).await?;
                    Ok::<_, ToolError>((i, product, plans))
                }
            })
            .buffer_unordered(CONCURRENT_PRODUCTS)
            .boxed();
        while let Some(item) = stream.try_next().await? {
            if let Some(token) = &token {
                let note =
                    ProgressNotificationParam::new(token.clone(), (fetched.len() + 1) as f64)
                        .with_total(total as f64)
                        .with_message(format!("fetched plans of {}", item.1));
                let _ = ctx.peer.notify_progress(note).await;
            }
            fetched.push(item);
        }
        fetched.sort_by_key(|(i, _, _)| *i);
        Ok(fetched
            .into_iter()
            .flat_map(|(_, product, plans)| of_product(plans, &product))
            .collect())
    }
}

#[tool_router(router = plan_tools, vis = "pub(crate)")]
impl BillingServer {
    #[tool(description = "Add a plan (price tier) to a product. Prices are integer minor units.")]
    async fn create_plan(
        &self,
        Parameters(args): Parameters<CreatePlanArgs>,
    ) -> Result<Json<Plan>, ToolError> {
        let product = ProductRef::parse("productRef", &args.product_ref)?;
        let body = create_body(args)?;
        let plan = self.api().create_plan(&product, &body).await?;
        Ok(Json(Plan::from_wire(plan, &product)))
    }

    #[tool(description = "Get one plan of a product.")]
    async fn get_plan(
        &self,
        Parameters(args): Parameters<PlanRefArgs>,
    ) -> Result<Json<Plan>, ToolError> {
        let product = ProductRef::parse("productRef", &args.product_ref)?;
        let plan = PlanRef::parse("planRef", &args.plan_ref)?;
        let plan = self.api().get_plan(&product, &plan).await?;
        Ok(Json(Plan::from_wire(plan, &product)))
    }

    #[tool(
        description = "List plans across all products (each with productRef), filtered by status, type or name. Paged: follow nextOffset."
    )]
    async fn list_plans(
        &self,
        Parameters(args): Parameters<ListPlansArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<PlanList>, ToolError> {
        let limit = validate::limit(args.limit)?;
        let offset = validate::offset(args.offset)?;
        let search = opt_text("search", args.search.as_deref(), 200)?;
        let plans = tokio::select! {
            () = ctx.ct.cancelled() => return Err(ToolError::new(ErrorCode::InternalError, "list_plans was cancelled")),
            plans = self.all_plans(&ctx) => plans?,
        };
        let matching: Vec<Plan> = plans
            .into_iter()
            .filter(|p| matches(p, &args, search.as_deref()))
            .collect();
        let total = matching.len();
        let page: Vec<Plan> = matching
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        let has_more = (offset as usize) + page.len() < total;
        let info = PageInfo::new(limit, offset, page.len(), has_more, Some(total as u64));
        Ok(Json(PlanList {
            plans: page,
            page: info,
        }))
    }

    #[tool(description = "List all plans of one product.")]
    async fn list_plans_for_product(
        &self,
        Parameters(args): Parameters<ProductPlansArgs>,
    ) -> Result<Json<PlanList>, ToolError> {
        let product = ProductRef::parse("productRef", &args.product_ref)?;
        let plans = of_product(self.api().list_product_plans(&product).await?, &product);
        let count = plans.len();
        let info = PageInfo::new(count as u32, 0, count, false, Some(count as u64));
        Ok(Json(PlanList { plans, page: info }))
    }

    #[tool(
        description = "Change a plan; only the fields given change. Existing purchases keep their terms."
    )]
    async fn update_plan(
        &self,
        Parameters(args): Parameters<UpdatePlanArgs>,
    ) -> Result<Json<Plan>, ToolError> {
        let product = ProductRef::parse("productRef", &args.product_ref)?;
        let plan = PlanRef::parse("planRef", &args.plan_ref)?;
        let body = update_body(args)?;
        let updated = self.api().update_plan(&product, &plan, &body).await?;
        Ok(Json(Plan::from_wire(updated, &product)))
    }

    #[tool(
        description = "Delete a plan from a product. Existing purchases keep their terms. Safe to repeat: deleted is false when there is no such plan."
    )]
    async fn delete_plan(
        &self,
        Parameters(args): Parameters<PlanRefArgs>,
    ) -> Result<Json<DeletedPlan>, ToolError> {
        let product = ProductRef::parse("productRef", &args.product_ref)?;
        let plan = PlanRef::parse("planRef", &args.plan_ref)?;
        let deleted = unless_absent(self.api().delete_plan(&product, &plan).await)?;
        Ok(Json(DeletedPlan {
            product_ref: product.to_string(),
            plan_ref: plan.to_string(),
            deleted: deleted.is_some(),
        }))
    }
}
