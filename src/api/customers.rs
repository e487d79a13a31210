//! Customer endpoints: `/v1/sdk/customers` and, for list and delete (no public route), `/v1/ui/customers`.

use reqwest::Method;
use serde_json::Value;

use super::{ApiError, Routes, SolvaPayClient};
use crate::model::CustomerRef;
use crate::model::customer::{CreateCustomer, CustomerLookup, CustomerWire, UpdateCustomer};
use crate::model::rows::Rows;

/// One page of customers.
#[derive(Debug, Clone)]
pub struct CustomerPage {
    /// The customers on this page.
    pub customers: Vec<CustomerWire>,
    /// Total matching customers, when SolvaPay reports it.
    pub total: Option<u64>,
    /// Whether more customers follow this page.
    pub has_more: bool,
    /// Rows SolvaPay sent that could not be read (skipped), one line each.
    pub warnings: Vec<String>,
}

/// The internal id (`id` or `_id`) in a customer answer, flat or wrapped (`{data: …}`,
/// `{customer: …}`), when it is a string that names exactly one path segment.
fn internal_id(body: &Value) -> Option<String> {
    let id = ["id", "_id"]
        .iter()
        .find_map(|k| body.get(k).and_then(Value::as_str));
    match id {
        Some(id) => crate::model::ids::check_reference("id", id).ok(),
        None => ["data", "customer"]
            .iter()
            .find_map(|k| body.get(k).and_then(internal_id)),
    }
}

impl SolvaPayClient {
    /// `POST /v1/sdk/customers`.
    pub async fn create_customer(&self, body: &CreateCustomer) -> Result<CustomerWire, ApiError> {
        self.send(Method::POST, Routes::Sdk, &["customers"], &[], Some(body))
            .await
    }

    /// `GET /v1/sdk/customers/{reference}`.
    pub async fn get_customer(&self, reference: &CustomerRef) -> Result<CustomerWire, ApiError> {
        self.get(Routes::Sdk, &["customers", reference.as_str()], &[])
            .await
    }

    /// `GET /v1/sdk/customers?email=…` (or `externalRef=…`): the customer, or `None` when there is none.
    pub async fn find_customer(
        &self,
        lookup: CustomerLookup<'_>,
    ) -> Result<Option<CustomerWire>, ApiError> {
        let query = match lookup {
            CustomerLookup::ExternalRef(r) => [("externalRef", r.to_owned())],
            CustomerLookup::Email(e) => [("email", e.to_owned())],
        };
        match self
            .get::<Rows<CustomerWire>>(Routes::Sdk, &["customers"], &query)
            .await
        {
            Ok(body) => {
                // Some backends ignore the filter and answer a list: match it ourselves.
                let found = body.rows.into_iter().find(|c| match lookup {
                    CustomerLookup::ExternalRef(r) => c.external_ref.as_deref() == Some(r),
                    CustomerLookup::Email(e) => c.has_email(e),
                });
                // A row that could not be read may be the one asked for: not "no such customer".
                match (found, body.warnings.is_empty()) {
                    (None, false) => Err(ApiError::Unreadable {
                        operation: "GET /v1/sdk/customers".to_owned(),
                        field: "customers".to_owned(),
                        detail: body.warnings.join("; "),
                    }),
                    (found, _) => Ok(found),
                }
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /v1/ui/customers?search&limit&offset`. Asks for one extra row so `has_more` is exact even
    /// when SolvaPay reports no total.
    pub async fn list_customers(
        &self,
        search: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<CustomerPage, ApiError> {
        let mut query = vec![
            ("limit", (limit + 1).to_string()),
            ("offset", offset.to_string()),
        ];
        if let Some(s) = search {
            query.push(("search", s.to_owned()));
        }
        let body: Rows<CustomerWire> = self.get(Routes::Ui, &["customers"], &query).await?;
        let (mut customers, total) = (body.rows, body.total);
        let has_more = customers.len() + body.warnings.len() > limit as usize
            || total.is_some_and(|t| u64::from(offset) + u64::from(limit) < t);
        customers.truncate(limit as usize);
        Ok(CustomerPage {
            customers,
            total,
            has_more,
            warnings: body.warnings,
        })
    }

    /// `PATCH /v1/sdk/customers/{reference}`.
    pub async fn update_customer(
        &self,
        reference: &CustomerRef,
        body: &UpdateCustomer,
    ) -> Result<CustomerWire, ApiError> {
        self.send(
            Method::PATCH,
            Routes::Sdk,
            &["customers", reference.as_str()],
            &[],
            Some(body),
        )
        .await
    }

    /// `DELETE /v1/ui/customers/{id}` (soft delete; 204), after `GET /v1/sdk/customers/{reference}`.
    ///
    /// The evidence: the full backend spec (`openapi-full-backend-2026-04-10.json`) documents the
    /// path parameter as the internal customer id (example `507f1f77bcf86cd799439011`), not the
    /// `cus_` reference, and whether a reference is accepted there is unknown (CONTRACT.md,
    /// `delete_customer`). `CustomerResponse` on `/v1/sdk` lists no `id` (`openapi.json`), so the
    /// lookup reads one (`id` or `_id`) when SolvaPay sends it, and sends the reference only when it
    /// does not. A customer the lookup does not find is its 404: nothing is deleted, no `DELETE` sent.
    pub async fn delete_customer(&self, reference: &CustomerRef) -> Result<(), ApiError> {
        let found: Value = self
            .get(Routes::Sdk, &["customers", reference.as_str()], &[])
            .await?;
        let id = internal_id(&found);
        let target = id.as_deref().unwrap_or(reference.as_str());
        self.send::<Option<Value>, ()>(
            Method::DELETE,
            Routes::Ui,
            &["customers", target],
            &[],
            None,
        )
        .await
        .map(drop)
    }
}
