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

/// What calling a tool does to SolvaPay's state. Each MCP hint and each operator guard is one
/// exhaustive `match` on this, so a new kind of effect must be decided everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only: creates, changes and sends nothing.
    Read,
    /// Adds data; each call adds something new.
    Write,
    /// Adds data at most once: a repeat with the same arguments finds what the first call made.
    IdempotentWrite,
    /// Replaces values of existing data; a repeat with the same arguments changes nothing more.
    Overwrite,
    /// Adds data and may replace values of existing data (a new default plan stops the old one being
    /// the default); each call adds something new.
    OverwritingWrite,
    /// Removes data or ends something a customer pays for; a repeat changes nothing more.
    Destructive,
    /// Moves money (refunds); each call can move more.
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
    /// `readOnlyHint`: the tool changes nothing.
    pub fn read_only(&self) -> bool {
        match self.effect {
            Effect::Read => true,
            Effect::Write
            | Effect::IdempotentWrite
            | Effect::Overwrite
            | Effect::OverwritingWrite
            | Effect::Destructive
            | Effect::MoneyMoving => false,
        }
    }

    /// `destructiveHint`: the tool may change or remove what exists (false: it only adds).
    pub fn destructive_hint(&self) -> bool {
        match self.effect {
            Effect::Overwrite
            | Effect::OverwritingWrite
            | Effect::Destructive
            | Effect::MoneyMoving => true,
            Effect::Read | Effect::Write | Effect::IdempotentWrite => false,
        }
    }

    /// `idempotentHint`: repeating a call with the same arguments has no further effect.
    pub fn idempotent(&self) -> bool {
        match self.effect {
            Effect::Read | Effect::IdempotentWrite | Effect::Overwrite | Effect::Destructive => {
                true
            }
            Effect::Write | Effect::OverwritingWrite | Effect::MoneyMoving => false,
        }
    }

    /// Removes data, ends service or moves money: hidden with a live key unless the operator allows
    /// it, and confirmed by the human. Overwrites are not guarded: they change values the caller
    /// names and can be set back.
    pub fn guarded(&self) -> bool {
        match self.effect {
            Effect::Destructive | Effect::MoneyMoving => true,
            Effect::Read
            | Effect::Write
            | Effect::IdempotentWrite
            | Effect::Overwrite
            | Effect::OverwritingWrite => false,
        }
    }

    /// The MCP annotations, every hint set explicitly (the spec's defaults are the unsafe ones).
    pub fn annotations(&self) -> ToolAnnotations {
        ToolAnnotations::with_title(self.title)
            .read_only(self.read_only())
            .destructive(self.destructive_hint())
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
    spec("update_customer", "Update customer", Customers, Overwrite),
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
    spec("update_product", "Update product", Catalog, Overwrite),
    spec("delete_product", "Delete product", Catalog, Destructive),
    spec("create_plan", "Create plan", Catalog, OverwritingWrite),
    spec("get_plan", "Get plan", Catalog, Read),
    spec("list_plans", "List plans (all products)", Catalog, Read),
    spec(
        "list_plans_for_product",
        "List a product's plans",
        Catalog,
        Read,
    ),
    spec("update_plan", "Update plan", Catalog, Overwrite),
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
    spec("record_usage", "Record usage event", Usage, Write),
    spec(
        "record_bulk_usage",
        "Record usage events in bulk",
        Usage,
        Write,
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
