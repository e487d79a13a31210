//! `completion/complete` (MCP layer, beside `prompts` and `resources`): references for the
//! prompts' arguments and the record templates' `reference` variable, read from SolvaPay in one
//! bounded request (a page of at most 100), by prefix (`cus_A1…`) or by name (and, for customers,
//! email). A plan is completed among the plans of the product already chosen in the request's
//! `context.arguments.product`. A payment is completed among the 100 newest completed payments, by
//! reference prefix or by the payer's name.
//!
//! Values come only from reads the caller could make with the list tools (`list_customers`,
//! `list_products`, `list_plans_for_product`, `list_transactions`): without that tool, or for an argument this server
//! does not complete, the answer is an empty list (as the spec asks for an unknown argument). An
//! upstream failure is a protocol error saying what could not be read, never an empty list.

use rmcp::ErrorData;
use rmcp::model::{CompleteRequestParams, CompleteResult, CompletionInfo, Reference};

use crate::api::{ApiError, ProductQuery, TransactionQuery};
use crate::model::ids::check_reference;
use crate::model::transaction::TransactionStatus;
use crate::model::validate::{self, FieldError};
use crate::model::{CustomerRef, ProductRef};
use crate::prompts::{self, Completes};
use crate::resources::records;
use crate::server::BillingServer;

/// The page size of the one read a completion makes (also the spec's maximum of values).
const PAGE: u32 = 100;

/// The completion of `request`, as a caller `allowed` to call the tools it says.
pub(crate) async fn complete(
    server: &BillingServer,
    request: &CompleteRequestParams,
    allowed: impl Fn(&str) -> bool,
) -> Result<CompleteResult, ErrorData> {
    let argument = &request.argument;
    let kind = match &request.r#ref {
        Reference::Prompt(prompt) => prompts::completes(&prompt.name, &argument.name, &allowed),
        Reference::Resource(resource) => records::completes(&resource.uri, &argument.name),
        _ => None,
    };
    let Some(kind) = kind.filter(|k| allowed(lister(*k))) else {
        return Ok(answer(Found::default()));
    };
    let typed = validate::opt_text("value", Some(&argument.value), 200).map_err(invalid)?;
    let typed = typed.unwrap_or_default();
    let found = match kind {
        Completes::Customer => customers(server, &typed).await,
        Completes::Product => products(server, &typed).await,
        Completes::Plan => {
            let product = request
                .context
                .as_ref()
                .and_then(|c| c.get_argument("product"))
                .and_then(|p| ProductRef::parse("product", p).ok());
            match product {
                Some(product) => plans(server, &product, &typed).await,
                // Without a product there is no one bounded read that finds its plans.
                None => Ok(Found::default()),
            }
        }
        Completes::Payment => payments(server, &typed).await,
    };
    found.map(answer).map_err(|e| upstream(server, kind, &e))
}

/// The list tool whose reads a completion of `kind` stands for.
fn lister(kind: Completes) -> &'static str {
    match kind {
        Completes::Customer => "list_customers",
        Completes::Product => "list_products",
        Completes::Plan => "list_plans_for_product",
        Completes::Payment => "list_transactions",
    }
}

/// The references a completion found, and what is known of the rest.
#[derive(Debug, Default)]
struct Found {
    values: Vec<String>,
    /// How many match in all, when known.
    total: Option<u64>,
    /// Whether more may match than `values` holds.
    has_more: bool,
}

impl Found {
    /// `rows` (reference, name, email) that match `typed`, from a page after which `has_more`
    /// says whether rows follow; `total`, SolvaPay's count of the rows matching its search, is
    /// kept only when no row of the page was dropped here.
    fn of<'a>(
        typed: &str,
        rows: impl IntoIterator<Item = [Option<&'a str>; 3]>,
        has_more: bool,
        total: Option<u64>,
    ) -> Self {
        let needle = typed.to_lowercase();
        let mut dropped = false;
        let mut values = Vec::new();
        for [reference, name, email] in rows {
            let Some(reference) = reference.filter(|r| check_reference("reference", r).is_ok())
            else {
                dropped = true;
                continue;
            };
            let named = [name, email]
                .into_iter()
                .flatten()
                .any(|t| t.to_lowercase().contains(&needle));
            if reference.starts_with(typed) || named {
                values.push(reference.to_owned());
            } else {
                dropped = true;
            }
        }
        let total = match (has_more, dropped) {
            (false, _) => Some(values.len() as u64),
            (true, false) => total,
            (true, true) => None,
        };
        Self {
            values,
            total,
            has_more,
        }
    }
}

/// Whether `typed` is the start of a reference (`prefix`…) rather than a name.
fn by_prefix(typed: &str, prefix: &str) -> bool {
    typed.is_empty() || prefix.starts_with(typed) || typed.starts_with(prefix)
}

async fn customers(server: &BillingServer, typed: &str) -> Result<Found, ApiError> {
    // SolvaPay's search matches names and emails: a reference prefix reads the newest page.
    let search = (!by_prefix(typed, CustomerRef::PREFIX)).then_some(typed);
    let page = server.api().list_customers(search, PAGE, 0).await?;
    let rows = page.customers.iter().map(|c| {
        [
            Some(c.reference.as_str()),
            c.name.as_deref(),
            c.email.as_deref(),
        ]
    });
    Ok(Found::of(typed, rows, page.has_more, page.total))
}

async fn products(server: &BillingServer, typed: &str) -> Result<Found, ApiError> {
    let search = (!by_prefix(typed, ProductRef::PREFIX)).then_some(typed);
    let filter = ProductQuery {
        search,
        status: None,
    };
    let page = server.api().list_products(filter, PAGE, 0).await?;
    let rows = page
        .products
        .iter()
        .map(|p| [Some(p.reference.as_str()), p.name.as_deref(), None]);
    Ok(Found::of(typed, rows, page.has_more, page.total))
}

async fn plans(
    server: &BillingServer,
    product: &ProductRef,
    typed: &str,
) -> Result<Found, ApiError> {
    let page = server.api().first_plans(product, PAGE).await?;
    let rows = page
        .plans
        .iter()
        .map(|p| [Some(p.reference.as_str()), p.name.as_deref(), None]);
    Ok(Found::of(typed, rows, page.has_more, page.total))
}

async fn payments(server: &BillingServer, typed: &str) -> Result<Found, ApiError> {
    // SolvaPay's transaction list has no search: the newest page of completed transactions,
    // without the refunds among them.
    let query = TransactionQuery {
        limit: PAGE,
        offset: 0,
        status: Some(TransactionStatus::Completed),
        transaction_type: None,
        from: None,
        to: None,
    };
    let page = server.api().list_transactions(&query).await?;
    let read = page.transactions.len() + page.warnings.len();
    let has_more = page
        .total
        .map_or(read >= PAGE as usize, |t| (read as u64) < t);
    let rows = page
        .transactions
        .iter()
        .filter(|t| !t.is_refund())
        .map(|t| [t.reference.as_deref(), t.from_entity_name.as_deref(), None]);
    // Refunds dropped here make SolvaPay's total no count of payments.
    Ok(Found::of(typed, rows, has_more, None))
}

fn answer(found: Found) -> CompleteResult {
    let mut values = found.values;
    values.truncate(CompletionInfo::MAX_VALUES);
    let total = found.total.map(|t| u32::try_from(t).unwrap_or(u32::MAX));
    // At most MAX_VALUES values, so this cannot fail; an empty answer if it ever did.
    let info = CompletionInfo::with_pagination(values, total, found.has_more).unwrap_or_default();
    CompleteResult::new(info)
}

fn invalid(e: FieldError) -> ErrorData {
    ErrorData::invalid_params(
        format!("Invalid completion `argument.{}`: {}", e.field, e.message),
        None,
    )
}

/// The protocol error for a completion whose read failed.
fn upstream(server: &BillingServer, kind: Completes, error: &ApiError) -> ErrorData {
    let what = match kind {
        Completes::Customer => "customers",
        Completes::Product => "products",
        Completes::Plan => "the product's plans",
        Completes::Payment => "transactions",
    };
    let message = format!("completion failed: could not read {what} from SolvaPay: {error}");
    let message = server.api().redactor().scrub_str(&message).into_owned();
    ErrorData::internal_error(message, None)
}
