//! Customer tools: create, get, list, update, delete, and ensure (find or create, never a duplicate).

use crate::tools::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Json, PageInfo, Summary, first_items, opt_metadata, opt_text, unless_absent};
use crate::error::ToolError;
use crate::model::customer::{
    CreateCustomer, Customer, CustomerLookup, CustomerWire, UpdateCustomer,
};
use crate::model::{CustomerRef, validate};
use crate::server::BillingServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CreateCustomerArgs {
    /// Email address; unique per provider.
    email: String,
    /// Display name (letters, digits, spaces, . , ' " & / ( ) + : -; max 100).
    name: Option<String>,
    /// E.164 phone number, e.g. +14155550123.
    telephone: Option<String>,
    /// Free key/value metadata.
    metadata: Option<Map<String, Value>>,
    /// Your own ID for the customer (max 50).
    external_ref: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CustomerRefArgs {
    /// Customer reference, e.g. cus_A1B2C3D4.
    #[serde(alias = "customerRef", alias = "customerId")]
    reference: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ListCustomersArgs {
    /// Page size, 1-100 (default 20).
    limit: Option<i64>,
    /// Rows to skip (default 0).
    offset: Option<i64>,
    /// Matches name or email.
    search: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UpdateCustomerArgs {
    /// Customer reference, e.g. cus_A1B2C3D4.
    #[serde(alias = "customerRef", alias = "customerId")]
    reference: String,
    /// New display name.
    name: Option<String>,
    /// New email.
    email: Option<String>,
    /// New E.164 phone number; "" clears it.
    telephone: Option<String>,
    /// New metadata (replaces the old).
    metadata: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct EnsureCustomerArgs {
    /// Email to look up; the customer is created with it if none exists.
    email: String,
    /// Name, used only when creating.
    name: Option<String>,
    /// Your own ID for the customer; looked up first, and stored when creating.
    external_ref: Option<String>,
}

/// A page of customers.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CustomerList {
    customers: Vec<Customer>,
    #[serde(flatten)]
    page: PageInfo,
}

/// The outcome of `delete_customer`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DeletedCustomer {
    reference: String,
    /// False when there was no such customer (deleted before, or a wrong reference).
    deleted: bool,
}

/// The outcome of `ensure_customer`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct EnsuredCustomer {
    /// True when this call created the customer; false when it already existed.
    created: bool,
    customer: Customer,
}

impl Summary for Customer {
    fn summary(&self) -> String {
        let reference = &self.reference;
        match (&self.name, &self.email) {
            (Some(name), Some(email)) => format!("Customer {reference} — {name} <{email}>"),
            (Some(who), None) | (None, Some(who)) => format!("Customer {reference} — {who}"),
            (None, None) => format!("Customer {reference}"),
        }
    }
}

/// "Jane Smith (cus_A1B2C3D4)", or the email or the bare reference when no name is given.
fn label(c: &Customer) -> String {
    match c.name.as_deref().or(c.email.as_deref()) {
        Some(who) => format!("{who} ({})", c.reference),
        None => c.reference.clone(),
    }
}

impl Summary for CustomerList {
    fn summary(&self) -> String {
        let named = first_items(self.customers.iter().map(label), ", ");
        self.page
            .describe(self.customers.len(), "customers", &named)
    }
}

impl Summary for DeletedCustomer {
    fn summary(&self) -> String {
        if self.deleted {
            format!("Deleted customer {}", self.reference)
        } else {
            format!(
                "Nothing deleted: there is no customer {} (already deleted, or a wrong reference)",
                self.reference
            )
        }
    }
}

impl Summary for EnsuredCustomer {
    fn summary(&self) -> String {
        let verb = if self.created {
            "Created new"
        } else {
            "Found existing (no duplicate created)"
        };
        format!("{verb}: {}", self.customer.summary())
    }
}

fn opt_name(value: Option<&str>) -> Result<Option<String>, ToolError> {
    Ok(value
        .map(|n| validate::name("name", n, 1, 100))
        .transpose()?)
}

fn opt_email(value: Option<&str>) -> Result<Option<String>, ToolError> {
    Ok(value.map(|e| validate::email("email", e)).transpose()?)
}

fn opt_telephone(value: Option<&str>) -> Result<Option<String>, ToolError> {
    Ok(value
        .map(|t| validate::telephone("telephone", t))
        .transpose()?)
}

/// The `ensure_customer` result for `customer`.
fn ensured(created: bool, customer: CustomerWire) -> Json<EnsuredCustomer> {
    Json(EnsuredCustomer {
        created,
        customer: customer.into(),
    })
}

#[tool_router(router = customer_tools, vis = "pub(crate)")]
impl BillingServer {
    #[tool(
        description = "Create a customer. Fails if the email already exists; use ensure_customer to get-or-create."
    )]
    async fn create_customer(
        &self,
        Parameters(args): Parameters<CreateCustomerArgs>,
    ) -> Result<Json<Customer>, ToolError> {
        let body = CreateCustomer {
            email: validate::email("email", &args.email)?,
            name: opt_name(args.name.as_deref())?,
            telephone: opt_telephone(args.telephone.as_deref())?,
            metadata: opt_metadata("metadata", args.metadata)?.unwrap_or_default(),
            external_ref: opt_text("externalRef", args.external_ref.as_deref(), 50)?,
        };
        let customer = self.api().create_customer(&body).await?;
        Ok(Json(customer.into()))
    }

    #[tool(description = "Get a customer by reference (cus_…), with their active purchases.")]
    async fn get_customer(
        &self,
        Parameters(args): Parameters<CustomerRefArgs>,
    ) -> Result<Json<Customer>, ToolError> {
        let reference = CustomerRef::parse("reference", &args.reference)?;
        Ok(Json(self.api().get_customer(&reference).await?.into()))
    }

    #[tool(
        description = "List customers, newest first, optionally matching a name/email search. Paged: follow nextOffset."
    )]
    async fn list_customers(
        &self,
        Parameters(args): Parameters<ListCustomersArgs>,
    ) -> Result<Json<CustomerList>, ToolError> {
        let limit = validate::limit(args.limit)?;
        let offset = validate::offset(args.offset)?;
        let search = opt_text("search", args.search.as_deref(), 200)?;
        let page = self
            .api()
            .list_customers(search.as_deref(), limit, offset)
            .await?;
        let info = PageInfo::new(
            limit,
            offset,
            page.customers.len(),
            page.has_more,
            page.total,
        )
        .warn(page.warnings);
        Ok(Json(CustomerList {
            customers: page.customers.into_iter().map(Customer::from).collect(),
            page: info,
        }))
    }

    #[tool(
        description = "Update a customer's name, email, telephone or metadata; only the fields given change."
    )]
    async fn update_customer(
        &self,
        Parameters(args): Parameters<UpdateCustomerArgs>,
    ) -> Result<Json<Customer>, ToolError> {
        let reference = CustomerRef::parse("reference", &args.reference)?;
        let body = UpdateCustomer {
            email: opt_email(args.email.as_deref())?,
            name: opt_name(args.name.as_deref())?,
            telephone: opt_telephone(args.telephone.as_deref())?,
            metadata: opt_metadata("metadata", args.metadata)?,
        };
        if body.is_empty() {
            return Err(ToolError::invalid(
                "name",
                "nothing to update: give at least one of name, email, telephone, metadata",
            ));
        }
        Ok(Json(
            self.api().update_customer(&reference, &body).await?.into(),
        ))
    }

    #[tool(
        description = "Delete a customer (soft delete: hidden from lists, history kept). Safe to repeat: deleted is false when there is no such customer."
    )]
    async fn delete_customer(
        &self,
        Parameters(args): Parameters<CustomerRefArgs>,
    ) -> Result<Json<DeletedCustomer>, ToolError> {
        let reference = CustomerRef::parse("reference", &args.reference)?;
        let deleted = unless_absent(self.api().delete_customer(&reference).await)?;
        Ok(Json(DeletedCustomer {
            reference: reference.to_string(),
            deleted: deleted.is_some(),
        }))
    }

    #[tool(
        description = "Get the customer with this email, creating it if missing. Safe to repeat: never creates a duplicate. Result says created true/false."
    )]
    async fn ensure_customer(
        &self,
        Parameters(args): Parameters<EnsureCustomerArgs>,
    ) -> Result<Json<EnsuredCustomer>, ToolError> {
        let email = validate::email("email", &args.email)?;
        let name = opt_name(args.name.as_deref())?;
        let external_ref = opt_text("externalRef", args.external_ref.as_deref(), 50)?;
        let api = self.api();
        if let Some(ext) = external_ref.as_deref()
            && let Some(customer) = api.find_customer(CustomerLookup::ExternalRef(ext)).await?
        {
            return Ok(ensured(false, customer));
        }
        if let Some(customer) = api.find_customer(CustomerLookup::Email(&email)).await? {
            return Ok(ensured(false, customer));
        }
        let body = CreateCustomer {
            email: email.clone(),
            name,
            telephone: None,
            metadata: Map::new(),
            external_ref,
        };
        match api.create_customer(&body).await {
            Ok(customer) => Ok(ensured(true, customer)),
            // Another caller created it between our lookup and our create: return theirs.
            Err(e) if e.is_conflict() => {
                match api.find_customer(CustomerLookup::Email(&email)).await? {
                    Some(customer) => Ok(ensured(false, customer)),
                    None => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}
