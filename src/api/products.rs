//! Product endpoints: `/v1/sdk/products`.

use reqwest::Method;

use super::{ApiError, Routes, SolvaPayClient};
use crate::model::ProductRef;
use crate::model::product::{
    CreateProduct, DeleteOutcome, ProductStatus, ProductWire, UpdateProduct,
};
use crate::model::rows::Rows;

/// One page of products.
#[derive(Debug, Clone)]
pub struct ProductPage {
    /// The products on this page.
    pub products: Vec<ProductWire>,
    /// Total matching products, when SolvaPay reports it.
    pub total: Option<u64>,
    /// Whether more products follow this page.
    pub has_more: bool,
    /// Rows SolvaPay sent that could not be read (skipped), one line each.
    pub warnings: Vec<String>,
}

/// Filters of `GET /v1/sdk/products`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProductQuery<'a> {
    /// Matches name or description.
    pub search: Option<&'a str>,
    /// Status filter.
    pub status: Option<ProductStatus>,
}

impl SolvaPayClient {
    /// `POST /v1/sdk/products`.
    pub async fn create_product(&self, body: &CreateProduct) -> Result<ProductWire, ApiError> {
        self.send(Method::POST, Routes::Sdk, &["products"], &[], Some(body))
            .await
    }

    /// `GET /v1/sdk/products/{productRef}`.
    pub async fn get_product(&self, product: &ProductRef) -> Result<ProductWire, ApiError> {
        self.get(Routes::Sdk, &["products", product.as_str()], &[])
            .await
    }

    /// `GET /v1/sdk/products?limit&offset&search&status` (`limit` 1–100).
    pub async fn list_products(
        &self,
        filter: ProductQuery<'_>,
        limit: u32,
        offset: u32,
    ) -> Result<ProductPage, ApiError> {
        let mut query = vec![("limit", limit.to_string()), ("offset", offset.to_string())];
        if let Some(s) = filter.search {
            query.push(("search", s.to_owned()));
        }
        if let Some(s) = filter.status {
            query.push(("status", s.as_str().to_owned()));
        }
        let body: Rows<ProductWire> = self.get(Routes::Sdk, &["products"], &query).await?;
        let (products, total) = (body.rows, body.total);
        // Skipped rows were on the page too.
        let sent = products.len() + body.warnings.len();
        let seen = u64::from(offset) + sent as u64;
        let has_more = match total {
            Some(t) => seen < t,
            None => sent >= limit as usize,
        };
        Ok(ProductPage {
            products,
            total,
            has_more,
            warnings: body.warnings,
        })
    }

    /// Every product reference, paging `GET /v1/sdk/products` 100 at a time. A reference that
    /// could not name a URL path segment is a decode error, not a request to a wrong path.
    pub async fn all_product_refs(&self) -> Result<Vec<ProductRef>, ApiError> {
        let mut refs = Vec::new();
        loop {
            let offset = u32::try_from(refs.len()).unwrap_or(u32::MAX);
            let page = self
                .list_products(ProductQuery::default(), 100, offset)
                .await?;
            if let Some(warning) = page.warnings.first() {
                // A product left out would be a product not reported on.
                return Err(ApiError::Unreadable {
                    operation: "GET /v1/sdk/products".to_owned(),
                    field: "products".to_owned(),
                    detail: warning.clone(),
                });
            }
            let empty = page.products.is_empty();
            for product in page.products {
                let reference = ProductRef::from_upstream("reference", &product.reference)
                    .map_err(|e| ApiError::Decode {
                        operation: "GET /v1/sdk/products".to_owned(),
                        detail: e.to_string(),
                    })?;
                refs.push(reference);
            }
            if !page.has_more || empty {
                return Ok(refs);
            }
        }
    }

    /// `PUT /v1/sdk/products/{productRef}`.
    pub async fn update_product(
        &self,
        product: &ProductRef,
        body: &UpdateProduct,
    ) -> Result<ProductWire, ApiError> {
        self.send(
            Method::PUT,
            Routes::Sdk,
            &["products", product.as_str()],
            &[],
            Some(body),
        )
        .await
    }

    /// `DELETE /v1/sdk/products/{productRef}` → how it was removed (`deleted`, `deactivated`, …).
    pub async fn delete_product(&self, product: &ProductRef) -> Result<DeleteOutcome, ApiError> {
        let outcome: Option<DeleteOutcome> = self
            .send(
                Method::DELETE,
                Routes::Sdk,
                &["products", product.as_str()],
                &[],
                None::<&()>,
            )
            .await?;
        Ok(outcome.unwrap_or_default())
    }
}
