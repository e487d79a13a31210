//! Purchase endpoints: `/v1/sdk/purchases…`. None of the list routes pages.

use reqwest::Method;
use serde::Deserialize;

use super::{ApiError, Routes, SolvaPayClient};
use crate::model::purchase::{CancelPurchase, PurchaseStatus, PurchaseWire};
use crate::model::rows::Rows;
use crate::model::{CustomerRef, ProductRef, PurchaseRef};

/// A purchase list, read row by row. The purchase tools count and filter what they get, so a row
/// that could not be read makes the call an error naming it, never a shorter list.
fn whole_list(operation: &str, rows: Rows<PurchaseWire>) -> Result<Vec<PurchaseWire>, ApiError> {
    if rows.warnings.is_empty() {
        return Ok(rows.rows);
    }
    Err(ApiError::Unreadable {
        operation: operation.to_owned(),
        field: "purchases".to_owned(),
        detail: rows.warnings.join("; "),
    })
}

/// The three answers seen from the cancel route: `{success, purchase}`, `{purchase, message}`, or the
/// purchase itself.
#[derive(Deserialize)]
#[serde(untagged)]
enum CancelBody {
    Wrapped {
        purchase: PurchaseWire,
        #[serde(default)]
        message: Option<String>,
    },
    Flat(PurchaseWire),
}

/// Filters of `GET /v1/sdk/purchases`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PurchaseQuery<'a> {
    /// Status filter.
    pub status: Option<PurchaseStatus>,
    /// Only this customer's purchases.
    pub customer: Option<&'a CustomerRef>,
    /// Only purchases of this product.
    pub product: Option<&'a ProductRef>,
}

impl SolvaPayClient {
    /// `GET /v1/sdk/purchases?status&customerRef&productRef`.
    pub async fn list_purchases(
        &self,
        filter: PurchaseQuery<'_>,
    ) -> Result<Vec<PurchaseWire>, ApiError> {
        let mut query = Vec::new();
        if let Some(s) = filter.status {
            query.push(("status", s.as_str().to_owned()));
        }
        if let Some(c) = filter.customer {
            query.push(("customerRef", c.to_string()));
        }
        if let Some(p) = filter.product {
            query.push(("productRef", p.to_string()));
        }
        let body: Rows<PurchaseWire> = self.get(Routes::Sdk, &["purchases"], &query).await?;
        whole_list("GET /v1/sdk/purchases", body)
    }

    /// `GET /v1/sdk/purchases/{purchaseRef}`.
    pub async fn get_purchase(&self, purchase: &PurchaseRef) -> Result<PurchaseWire, ApiError> {
        self.get(Routes::Sdk, &["purchases", purchase.as_str()], &[])
            .await
    }

    /// `GET /v1/sdk/purchases/customer/{customerRef}`.
    pub async fn customer_purchases(
        &self,
        customer: &CustomerRef,
    ) -> Result<Vec<PurchaseWire>, ApiError> {
        let body: Rows<PurchaseWire> = self
            .get(
                Routes::Sdk,
                &["purchases", "customer", customer.as_str()],
                &[],
            )
            .await?;
        whole_list("GET /v1/sdk/purchases/customer", body)
    }

    /// `GET /v1/sdk/purchases/product/{productRef}`.
    pub async fn product_purchases(
        &self,
        product: &ProductRef,
    ) -> Result<Vec<PurchaseWire>, ApiError> {
        let body: Rows<PurchaseWire> = self
            .get(
                Routes::Sdk,
                &["purchases", "product", product.as_str()],
                &[],
            )
            .await?;
        whole_list("GET /v1/sdk/purchases/product", body)
    }

    /// `POST /v1/sdk/purchases/{purchaseRef}/cancel` → the purchase and SolvaPay's message, if any.
    pub async fn cancel_purchase(
        &self,
        purchase: &PurchaseRef,
        body: &CancelPurchase,
    ) -> Result<(PurchaseWire, Option<String>), ApiError> {
        let answer: CancelBody = self
            .send(
                Method::POST,
                Routes::Sdk,
                &["purchases", purchase.as_str(), "cancel"],
                &[],
                Some(body),
            )
            .await?;
        Ok(match answer {
            CancelBody::Wrapped { purchase, message } => (purchase, message),
            CancelBody::Flat(purchase) => (purchase, None),
        })
    }
}
