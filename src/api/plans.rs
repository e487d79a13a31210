//! Plan endpoints: `/v1/sdk/products/{productRef}/plans[/{planRef}]`.

use reqwest::Method;
use serde_json::Value;

use super::{ApiError, Routes, SolvaPayClient};
use crate::model::plan::{PlanBody, PlanWire};
use crate::model::rows::Rows;
use crate::model::{PlanRef, ProductRef};

/// Page size asked for when reading all of a product's plans.
const PLAN_PAGE: usize = 100;

/// Whether a list read page by page goes on after a page of `returned` rows (`read` in all so far,
/// `asked` the page size requested): SolvaPay's `total` decides when it gives one; without it,
/// only a full page says more may follow. An empty page always ends the reading.
pub(super) fn more_pages(read: usize, returned: usize, asked: usize, total: Option<u64>) -> bool {
    returned > 0
        && match total {
            Some(total) => (read as u64) < total,
            None => returned >= asked,
        }
}

/// One page of a product's plans.
#[derive(Debug)]
pub struct PlanPage {
    /// The plans on this page.
    pub plans: Vec<PlanWire>,
    /// Total plans of the product, when SolvaPay reports it.
    pub total: Option<u64>,
    /// Whether more plans follow this page.
    pub has_more: bool,
}

impl SolvaPayClient {
    /// `POST /v1/sdk/products/{productRef}/plans`.
    pub async fn create_plan(
        &self,
        product: &ProductRef,
        body: &PlanBody,
    ) -> Result<PlanWire, ApiError> {
        self.send(
            Method::POST,
            Routes::Sdk,
            &["products", product.as_str(), "plans"],
            &[],
            Some(body),
        )
        .await
    }

    /// `GET /v1/sdk/products/{productRef}/plans/{planRef}`.
    pub async fn get_plan(
        &self,
        product: &ProductRef,
        plan: &PlanRef,
    ) -> Result<PlanWire, ApiError> {
        self.get(
            Routes::Sdk,
            &["products", product.as_str(), "plans", plan.as_str()],
            &[],
        )
        .await
    }

    /// Every plan of a product, paging `GET /v1/sdk/products/{productRef}/plans`. Asks for 100 a
    /// page, but follows what SolvaPay answers: its page may be smaller (its default is 50), so the
    /// next offset is the number of plans read, and with a `total` the reading goes on until it is
    /// reached (or a page comes back empty). Only without a `total` does a short page end it.
    pub async fn list_product_plans(
        &self,
        product: &ProductRef,
    ) -> Result<Vec<PlanWire>, ApiError> {
        let mut plans: Vec<PlanWire> = Vec::new();
        loop {
            let body = self.plans_page(product, PLAN_PAGE, plans.len()).await?;
            // The plan tools list, compose and pick plans (a default, a price): a plan left out
            // would be a wrong answer, so a row that could not be read is an error naming it.
            if !body.warnings.is_empty() {
                return Err(ApiError::Unreadable {
                    operation: format!("GET /v1/sdk/products/{product}/plans"),
                    field: "plans".to_owned(),
                    detail: body.warnings.join("; "),
                });
            }
            let (page, total) = (body.rows, body.total);
            let returned = page.len();
            plans.extend(page);
            if !more_pages(plans.len(), returned, PLAN_PAGE, total) {
                return Ok(plans);
            }
        }
    }

    /// `GET /v1/sdk/products/{productRef}/plans?limit&offset=0`: one page of at most `limit`
    /// plans (rows that could not be read are skipped and counted as seen), for a bounded read.
    pub async fn first_plans(
        &self,
        product: &ProductRef,
        limit: u32,
    ) -> Result<PlanPage, ApiError> {
        let body = self.plans_page(product, limit, 0).await?;
        let sent = body.rows.len() + body.warnings.len();
        let has_more = match body.total {
            Some(total) => (sent as u64) < total,
            None => sent >= limit as usize,
        };
        Ok(PlanPage {
            plans: body.rows,
            total: body.total,
            has_more,
        })
    }

    /// `GET /v1/sdk/products/{productRef}/plans?limit&offset`: one page as SolvaPay sends it.
    async fn plans_page(
        &self,
        product: &ProductRef,
        limit: impl std::fmt::Display,
        offset: usize,
    ) -> Result<Rows<PlanWire>, ApiError> {
        let query = [("limit", limit.to_string()), ("offset", offset.to_string())];
        self.get(
            Routes::Sdk,
            &["products", product.as_str(), "plans"],
            &query,
        )
        .await
    }

    /// `PUT /v1/sdk/products/{productRef}/plans/{planRef}`.
    pub async fn update_plan(
        &self,
        product: &ProductRef,
        plan: &PlanRef,
        body: &PlanBody,
    ) -> Result<PlanWire, ApiError> {
        self.send(
            Method::PUT,
            Routes::Sdk,
            &["products", product.as_str(), "plans", plan.as_str()],
            &[],
            Some(body),
        )
        .await
    }

    /// `DELETE /v1/sdk/products/{productRef}/plans/{planRef}`.
    pub async fn delete_plan(&self, product: &ProductRef, plan: &PlanRef) -> Result<(), ApiError> {
        self.send::<Option<Value>, ()>(
            Method::DELETE,
            Routes::Sdk,
            &["products", product.as_str(), "plans", plan.as_str()],
            &[],
            None,
        )
        .await
        .map(drop)
    }
}
