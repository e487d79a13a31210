//! The record templates: `solvapay://customers/{reference}`, `solvapay://products/{reference}`
//! and `solvapay://purchases/{reference}`. Reading one answers `application/json` with exactly the
//! structured result of the matching get_* tool (the tool's output type, scrubbed and redacted the
//! same way), allowed when that tool is, with the tool's failures turned into protocol errors by
//! their kind.

use rmcp::model::{ReadResourceResult, ResourceContents, ResourceTemplate};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde::Serialize;
use serde_json::Value;

use crate::error::{ErrorKind, ToolError};
use crate::model::customer::Customer;
use crate::model::product::Product;
use crate::model::purchase::Purchase;
use crate::model::validate::FieldError;
use crate::model::{CustomerRef, ProductRef, PurchaseRef};
use crate::prompts::Completes;
use crate::server::BillingServer;

/// The scheme every record URI starts with.
pub(crate) const SCHEME: &str = "solvapay://";

/// The MIME type of a record.
const JSON: &str = "application/json";

/// A kind of record a template names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Record {
    Customer,
    Product,
    Purchase,
}

impl Record {
    /// Every kind, in the order the templates are listed.
    pub(crate) const ALL: [Self; 3] = [Self::Customer, Self::Product, Self::Purchase];

    /// The URI path segment before the reference.
    fn collection(self) -> &'static str {
        match self {
            Self::Customer => "customers",
            Self::Product => "products",
            Self::Purchase => "purchases",
        }
    }

    /// The tool that reads the same record; the caller must be allowed it.
    pub(crate) fn tool(self) -> &'static str {
        match self {
            Self::Customer => "get_customer",
            Self::Product => "get_product",
            Self::Purchase => "get_purchase",
        }
    }

    /// `solvapay://customers/{reference}`.
    pub(crate) fn uri_template(self) -> String {
        format!("{SCHEME}{}/{{reference}}", self.collection())
    }

    fn template(self) -> ResourceTemplate {
        let (name, title, description) = match self {
            Self::Customer => (
                "customer",
                "Customer",
                "A customer by reference (cus_…): as get_customer answers it, with their active purchases.",
            ),
            Self::Product => (
                "product",
                "Product",
                "A product by reference (prd_…): as get_product answers it, with its plans.",
            ),
            Self::Purchase => (
                "purchase",
                "Purchase",
                "A purchase by reference (pur_…): as get_purchase answers it (status, plan, dates, usage).",
            ),
        };
        ResourceTemplate::new(self.uri_template(), name)
            .with_title(title)
            .with_description(description)
            .with_mime_type(JSON)
    }

    /// The kind a URI path (after the scheme) names, and the reference after it.
    fn split(path: &str) -> Option<(Self, &str)> {
        let (collection, reference) = path.split_once('/')?;
        let kind = Self::ALL
            .into_iter()
            // The collection stands where a URI's host does, which is case-insensitive (RFC
            // 3986 §3.2.2); the reference after it is not.
            .find(|k| k.collection().eq_ignore_ascii_case(collection))?;
        Some((kind, reference))
    }
}

/// What the completion answers for the variable `variable` of the template `uri_template`
/// (purchases: nothing; there is no bounded read of them by prefix).
pub(crate) fn completes(uri_template: &str, variable: &str) -> Option<Completes> {
    let kind = Record::ALL
        .into_iter()
        .find(|k| k.uri_template() == uri_template)?;
    match (kind, variable) {
        (Record::Customer, "reference") => Some(Completes::Customer),
        (Record::Product, "reference") => Some(Completes::Product),
        _ => None,
    }
}

/// The templates of the records whose tool `allowed` says the caller may call.
pub(crate) fn templates(allowed: impl Fn(&str) -> bool) -> Vec<ResourceTemplate> {
    Record::ALL
        .into_iter()
        .filter(|k| allowed(k.tool()))
        .map(Record::template)
        .collect()
}

/// Reads the record at `uri` (`path`: what follows the scheme) as `context`'s caller.
pub(crate) async fn read(
    server: &BillingServer,
    uri: &str,
    path: &str,
    context: &RequestContext<RoleServer>,
) -> Result<ReadResourceResult, ErrorData> {
    let Some((kind, raw)) = Record::split(path) else {
        return Err(super::not_found(uri));
    };
    if !server.may_call(kind.tool(), context) {
        return Err(super::not_found(uri));
    }
    let api = server.api();
    let value = match kind {
        Record::Customer => {
            let reference = reference(raw, CustomerRef::parse)?;
            let found = api.get_customer(&reference).await.map(Customer::from);
            output(server, uri, found.map_err(ToolError::from))?
        }
        Record::Product => {
            let reference = reference(raw, ProductRef::parse)?;
            let found = api.get_product(&reference).await.map(Product::from);
            output(server, uri, found.map_err(ToolError::from))?
        }
        Record::Purchase => {
            let reference = reference(raw, PurchaseRef::parse)?;
            let found = api.get_purchase(&reference).await.map(Purchase::from);
            output(server, uri, found.map_err(ToolError::from))?
        }
    };
    let text = serde_json::to_string(&value).map_err(|e| {
        ErrorData::internal_error(format!("record could not be serialised: {e}"), None)
    })?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type(JSON),
    ]))
}

/// The reference in a record URI, checked as the tool checks its `reference` argument, and
/// exactly as written (no spaces around it, no percent-encoding, nothing after it).
fn reference<R: AsRef<str>>(
    raw: &str,
    parse: impl Fn(&str, &str) -> Result<R, FieldError>,
) -> Result<R, ErrorData> {
    let parsed = parse("reference", raw).map_err(invalid)?;
    if parsed.as_ref() != raw {
        return Err(invalid(FieldError::new(
            "reference",
            "must be written exactly, without spaces (e.g. solvapay://customers/cus_A1B2C3D4)",
        )));
    }
    Ok(parsed)
}

fn invalid(e: FieldError) -> ErrorData {
    ErrorData::invalid_params(
        format!("Invalid resource URI: `{}` {}", e.field, e.message),
        Some(serde_json::json!({ "argument": e.field })),
    )
}

/// The tool's structured result for `found`: scrubbed and redacted as a tool result is; a failure
/// as the protocol error of its kind (not found: resource-not-found).
fn output<T: Serialize>(
    server: &BillingServer,
    uri: &str,
    found: Result<T, ToolError>,
) -> Result<Value, ErrorData> {
    let record = found.map_err(|e| failure(server, uri, &e))?;
    let mut value = serde_json::to_value(&record).map_err(|e| {
        ErrorData::internal_error(format!("record could not be serialised: {e}"), None)
    })?;
    crate::text::scrub_json(&mut value);
    server.api().redactor().scrub_json(&mut value);
    Ok(value)
}

/// The protocol error for a read that failed with `error`, decided by its kind.
fn failure(server: &BillingServer, uri: &str, error: &ToolError) -> ErrorData {
    let message = server
        .api()
        .redactor()
        .scrub_str(&error.message())
        .into_owned();
    let data = Some(serde_json::json!({ "code": error.code() }));
    match error.kind() {
        ErrorKind::NotFound => super::not_found(uri),
        ErrorKind::InvalidArgument { .. } => ErrorData::invalid_params(message, data),
        _ => ErrorData::internal_error(message, data),
    }
}
