//! Product tools: create, get, list, update, delete.

use crate::tools::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Map;

use super::{Json, PageInfo, Summary, first_items, opt_text, unless_absent};
use crate::api::ProductQuery;
use crate::error::ToolError;
use crate::model::product::{CreateProduct, Product, ProductStatus, UpdateProduct};
use crate::model::{ProductRef, validate};
use crate::server::BillingServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CreateProductArgs {
    /// Product name (2-100 characters).
    name: String,
    /// What it is (max 1000).
    description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ProductRefArgs {
    /// Product reference, e.g. prd_P9Q0R1S2.
    #[serde(alias = "productRef", alias = "productReference")]
    reference: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ListProductsArgs {
    /// Page size, 1-100 (default 20).
    limit: Option<i64>,
    /// Rows to skip (default 0).
    offset: Option<i64>,
    /// Matches name or description.
    search: Option<String>,
    /// Status filter.
    status: Option<ProductStatus>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UpdateProductArgs {
    /// Product reference, e.g. prd_P9Q0R1S2.
    #[serde(alias = "productRef", alias = "productReference")]
    reference: String,
    /// New name.
    name: Option<String>,
    /// New description.
    description: Option<String>,
}

/// A page of products.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ProductList {
    products: Vec<Product>,
    #[serde(flatten)]
    page: PageInfo,
}

/// The outcome of `delete_product`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DeletedProduct {
    reference: String,
    /// False when there was no such product (deleted before, or a wrong reference).
    deleted: bool,
    /// `deleted` (gone), `deactivated` (kept: it has purchases) or `soft_deleted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<String>,
}

impl Summary for Product {
    fn summary(&self) -> String {
        let status = self.status.as_deref().unwrap_or("unknown status");
        let product = match &self.name {
            Some(name) => format!("{name} ({})", self.reference),
            None => self.reference.clone(),
        };
        format!(
            "Product {product}, {status}, {} plan(s) listed",
            self.plans.len()
        )
    }
}

impl Summary for ProductList {
    fn summary(&self) -> String {
        let named = first_items(
            self.products.iter().map(|p| match &p.name {
                Some(name) => format!("{name} ({})", p.reference),
                None => p.reference.clone(),
            }),
            ", ",
        );
        self.page.describe(self.products.len(), "products", &named)
    }
}

impl Summary for DeletedProduct {
    fn summary(&self) -> String {
        if !self.deleted {
            return format!(
                "Nothing deleted: there is no product {} (already deleted, or a wrong reference)",
                self.reference
            );
        }
        let action = self.action.as_deref().unwrap_or("deleted");
        format!("Product {} {action}", self.reference)
    }
}

fn product_name(value: &str) -> Result<String, ToolError> {
    Ok(validate::name("name", value, 2, 100)?)
}

#[tool_router(router = product_tools, vis = "pub(crate)")]
impl BillingServer {
    #[tool(
        description = "Create a product (what customers buy plans of). Returns its prd_ reference."
    )]
    async fn create_product(
        &self,
        Parameters(args): Parameters<CreateProductArgs>,
    ) -> Result<Json<Product>, ToolError> {
        let body = CreateProduct {
            name: product_name(&args.name)?,
            description: opt_text("description", args.description.as_deref(), 1000)?,
            metadata: Map::new(),
        };
        let product = self.api().create_product(&body).await?;
        Ok(Json(product.into()))
    }

    #[tool(description = "Get a product by reference (prd_…), with its plans.")]
    async fn get_product(
        &self,
        Parameters(args): Parameters<ProductRefArgs>,
    ) -> Result<Json<Product>, ToolError> {
        let reference = ProductRef::parse("reference", &args.reference)?;
        let product = self.api().get_product(&reference).await?;
        Ok(Json(product.into()))
    }

    #[tool(
        description = "List products, optionally by name search or status. Paged: follow nextOffset."
    )]
    async fn list_products(
        &self,
        Parameters(args): Parameters<ListProductsArgs>,
    ) -> Result<Json<ProductList>, ToolError> {
        let limit = validate::limit(args.limit)?;
        let offset = validate::offset(args.offset)?;
        let search = opt_text("search", args.search.as_deref(), 200)?;
        let filter = ProductQuery {
            search: search.as_deref(),
            status: args.status,
        };
        let page = self.api().list_products(filter, limit, offset).await?;
        let info = PageInfo::new(
            limit,
            offset,
            page.products.len(),
            page.has_more,
            page.total,
        )
        .warn(page.warnings);
        Ok(Json(ProductList {
            products: page.products.into_iter().map(Product::from).collect(),
            page: info,
        }))
    }

    #[tool(
        description = "Rename a product or change its description; only the fields given change."
    )]
    async fn update_product(
        &self,
        Parameters(args): Parameters<UpdateProductArgs>,
    ) -> Result<Json<Product>, ToolError> {
        let reference = ProductRef::parse("reference", &args.reference)?;
        let body = UpdateProduct {
            name: args.name.as_deref().map(product_name).transpose()?,
            description: opt_text("description", args.description.as_deref(), 1000)?,
        };
        if body.name.is_none() && body.description.is_none() {
            return Err(ToolError::invalid(
                "name",
                "nothing to update: give name or description",
            ));
        }
        let product = self.api().update_product(&reference, &body).await?;
        Ok(Json(product.into()))
    }

    #[tool(
        description = "Delete a product. Sandbox: removed; live: soft-deleted, or deactivated if it has purchases (see action). Safe to repeat: deleted is false when there is no such product."
    )]
    async fn delete_product(
        &self,
        Parameters(args): Parameters<ProductRefArgs>,
    ) -> Result<Json<DeletedProduct>, ToolError> {
        let reference = ProductRef::parse("reference", &args.reference)?;
        let outcome = unless_absent(self.api().delete_product(&reference).await)?;
        Ok(Json(DeletedProduct {
            reference: reference.to_string(),
            deleted: outcome.is_some(),
            action: outcome.and_then(|o| o.action),
        }))
    }
}
