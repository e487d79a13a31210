//! The one table of per-tool metadata. Titles and MCP annotations are derived from it, and so are the
//! toolsets and safety guards that decide which tools a server exposes.

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::ToolAnnotations;

/// The toolset a tool belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    /// Customer records.
    Customers,
    /// Products and plans.
    Catalog,
    /// Purchases and renewals.
    Purchases,
    /// Checkout and customer-portal links.
    Checkout,
    /// Usage events and limits.
    Usage,
    /// Transactions, stats, balances and refunds.
    Payments,
}

/// What calling a tool does to SolvaPay's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    Read,
    /// Creates or changes data; repeating the same call with the same arguments is harmless.
    IdempotentWrite,
    /// Creates data; each call creates something new.
    Write,
    /// Removes data or ends something a customer pays for.
    Destructive,
    /// Moves money (refunds).
    MoneyMoving,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct ToolSpec {
    /// Tool name, exactly as SolvaPay's hosted server names it.
    pub name: &'static str,
    /// Display title.
    pub title: &'static str,
    /// Toolset.
    pub domain: Domain,
    /// Effect on SolvaPay's state.
    pub effect: Effect,
}

impl ToolSpec {
    /// True for tools that change nothing.
    pub fn read_only(&self) -> bool {
        self.effect == Effect::Read
    }

    /// True for tools that remove data, end service or move money.
    pub fn destructive(&self) -> bool {
        matches!(self.effect, Effect::Destructive | Effect::MoneyMoving)
    }

    /// True when repeating a call has no further effect.
    pub fn idempotent(&self) -> bool {
        matches!(
            self.effect,
            Effect::Read | Effect::IdempotentWrite | Effect::Destructive
        )
    }

    /// The MCP annotations, every hint set explicitly (the spec's defaults are the unsafe ones).
    pub fn annotations(&self) -> ToolAnnotations {
        ToolAnnotations::with_title(self.title)
            .read_only(self.read_only())
            .destructive(self.destructive())
            .idempotent(self.idempotent())
            .open_world(true)
    }
}

const fn spec(name: &'static str, title: &'static str, domain: Domain, effect: Effect) -> ToolSpec {
    ToolSpec {
        name,
        title,
        domain,
        effect,
    }
}

use Domain::*;
use Effect::*;

/// Every tool of SolvaPay's hosted MCP server (32), in its documented order.
pub const TOOLS: &[ToolSpec] = &[
    spec("create_customer", "Create customer", Customers, Write),
    spec("get_customer", "Get customer", Customers, Read),
    spec("list_customers", "List customers", Customers, Read),
    spec(
        "update_customer",
        "Update customer",
        Customers,
        IdempotentWrite,
    ),
    spec("delete_customer", "Delete customer", Customers, Destructive),
    spec(
        "ensure_customer",
        "Find or create customer",
        Customers,
        IdempotentWrite,
    ),
    spec("create_product", "Create product", Catalog, Write),
    spec("get_product", "Get product", Catalog, Read),
    spec("list_products", "List products", Catalog, Read),
    spec("update_product", "Update product", Catalog, IdempotentWrite),
    spec("delete_product", "Delete product", Catalog, Destructive),
    spec("create_plan", "Create plan", Catalog, Write),
    spec("get_plan", "Get plan", Catalog, Read),
    spec("list_plans", "List plans (all products)", Catalog, Read),
    spec(
        "list_plans_for_product",
        "List a product's plans",
        Catalog,
        Read,
    ),
    spec("update_plan", "Update plan", Catalog, IdempotentWrite),
    spec("delete_plan", "Delete plan", Catalog, Destructive),
    spec("list_purchases", "List purchases", Purchases, Read),
    spec("get_purchase", "Get purchase", Purchases, Read),
    spec(
        "get_purchases_by_customer",
        "Customer's purchases",
        Purchases,
        Read,
    ),
    spec(
        "get_purchases_by_product",
        "Product's purchases",
        Purchases,
        Read,
    ),
    spec("cancel_renewal", "Cancel renewal", Purchases, Destructive),
    spec("check_limits", "Check usage limits", Usage, Read),
    spec(
        "create_checkout_session",
        "Create checkout link",
        Checkout,
        Write,
    ),
    spec(
        "create_customer_session",
        "Create billing-portal link",
        Checkout,
        Write,
    ),
    spec("get_product_balance", "Product revenue", Payments, Read),
    spec("record_usage", "Record usage event", Usage, IdempotentWrite),
    spec(
        "record_bulk_usage",
        "Record usage events in bulk",
        Usage,
        IdempotentWrite,
    ),
    spec("list_transactions", "List transactions", Payments, Read),
    spec("get_transaction", "Get transaction", Payments, Read),
    spec(
        "get_transaction_stats",
        "Transaction statistics",
        Payments,
        Read,
    ),
    spec(
        "create_refund",
        "Refund a transaction",
        Payments,
        MoneyMoving,
    ),
];

/// The row for `name`.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|t| t.name == name)
}

/// Sets every routed tool's title and annotations from [`TOOLS`]. A routed tool without a row is a
/// programming error, caught by the catalog tests; it keeps the macro's attributes meanwhile.
pub(crate) fn annotate<S: Send + Sync + 'static>(router: ToolRouter<S>) -> ToolRouter<S> {
    let mut annotated = ToolRouter::new();
    for mut route in router {
        if let Some(spec) = find(&route.attr.name) {
            route.attr.title = Some(spec.title.to_owned());
            route.attr.annotations = Some(spec.annotations());
        }
        annotated.add_route(route);
    }
    annotated
}
