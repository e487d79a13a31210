//! The tool catalog (top level, beside `server`): the one table of per-tool facts. Each row gives a
//! tool's title, toolset, effect on SolvaPay's state and search hint; from the effect follow its MCP
//! annotations, who confirms a call ([`Confirmation`]) and whether a live key hides it. `policy`,
//! `confirm` and `server` read the rows; nothing else decides these per tool.

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{MetaObject, ToolAnnotations};
use serde_json::Value;

/// `_meta` key of a tool's search hint: the words a person would search for to find it, for clients
/// that load tools on demand behind a search.
pub const SEARCH_HINT_KEY: &str = "anthropic/searchHint";
/// `_meta` key set to `true` on the few tools such clients should load up front.
pub const ALWAYS_LOAD_KEY: &str = "anthropic/alwaysLoad";
/// `_meta` key of a tool's MCP Apps view (`{"resourceUri": "ui://…"}`).
pub const UI_KEY: &str = "ui";

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
    /// Credit balances and grants, plan activation and reactivation: SolvaPay's 2026 API, beyond
    /// the hosted server's 32 tools.
    Credits,
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
    /// Moves money or its equivalent (refunds, credit grants); each call can move more.
    MoneyMoving,
}

/// Who asks the person before a call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// No one: the call reads, adds, or overwrites only the values the caller names (which can be
    /// set back).
    NotAsked,
    /// The server, before the tool runs, with a question naming what will go.
    BeforeCall,
    /// The tool itself, once it has resolved what the call will move (amount, currency, customer),
    /// so the question and its answer are bound to them.
    ByTool,
}

/// Whether a client that loads tools on demand should load a tool up front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loading {
    /// Found through search when needed.
    OnDemand,
    /// Loaded with the connection: one of the few tools most conversations use.
    Always,
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
    /// The words a person would search for to find the tool (`_meta` `anthropic/searchHint`).
    pub search_hint: &'static str,
    /// Loaded up front or found by search (`_meta` `anthropic/alwaysLoad`).
    pub loading: Loading,
    /// The MCP Apps view (`ui://…`) a host that renders Apps shows for the tool (`_meta`
    /// `ui.resourceUri`; see [`crate::apps`]).
    pub view: Option<View>,
}

/// A tool's MCP Apps view, by what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// A review form, shown before the call runs: the person's click runs it.
    Review(&'static str),
    /// A read-only chart of the call's result.
    Chart(&'static str),
}

impl View {
    /// The view's `ui://` URI.
    pub fn uri(&self) -> &'static str {
        match self {
            Self::Review(uri) | Self::Chart(uri) => uri,
        }
    }
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

    /// Who confirms a call with the person: removing data or ending service is asked before the
    /// call; moving money is asked by the tool, once the amount is known. Overwrites are not asked:
    /// they change values the caller names and can be set back.
    /// A tool with a review form confirms itself, once it has resolved what the form shows.
    pub fn confirmation(&self) -> Confirmation {
        match self.effect {
            Effect::Destructive if self.review().is_some() => Confirmation::ByTool,
            Effect::Destructive => Confirmation::BeforeCall,
            Effect::MoneyMoving => Confirmation::ByTool,
            Effect::Read
            | Effect::Write
            | Effect::IdempotentWrite
            | Effect::Overwrite
            | Effect::OverwritingWrite => Confirmation::NotAsked,
        }
    }

    /// One of the 32 tools of SolvaPay's hosted MCP server (false: the `credits` toolset, which
    /// reaches SolvaPay's 2026 endpoints the hosted server has no tool for).
    pub fn hosted(&self) -> bool {
        self.domain != Domain::Credits
    }

    /// Hidden with a live key unless the operator allows it: exactly the tools a person confirms.
    pub fn guarded(&self) -> bool {
        self.confirmation() != Confirmation::NotAsked
    }

    /// The MCP annotations, every hint set explicitly (the spec's defaults are the unsafe ones). The
    /// title is the tool's own `title` (since 2025-06-18), not repeated here.
    pub fn annotations(&self) -> ToolAnnotations {
        ToolAnnotations::new()
            .read_only(self.read_only())
            .destructive(self.destructive_hint())
            .idempotent(self.idempotent())
            .open_world(true)
    }

    /// The `_meta` of the listed tool: its search hint, and `alwaysLoad` on the tools loaded up
    /// front. (`ui.resourceUri` is added for hosts that render MCP Apps: [`Self::view_meta`].)
    pub fn meta(&self) -> MetaObject {
        let mut meta = MetaObject::new();
        meta.0
            .insert(SEARCH_HINT_KEY.to_owned(), Value::from(self.search_hint));
        if self.loading == Loading::Always {
            meta.0.insert(ALWAYS_LOAD_KEY.to_owned(), Value::Bool(true));
        }
        meta
    }

    /// The tool's review form (`ui://…`), when it has one.
    pub fn review(&self) -> Option<&'static str> {
        match self.view {
            Some(View::Review(uri)) => Some(uri),
            Some(View::Chart(_)) | None => None,
        }
    }

    /// The `_meta` entry naming the tool's view, for hosts that render MCP Apps.
    pub fn view_meta(&self) -> Option<(&'static str, Value)> {
        self.view
            .map(|view| (UI_KEY, serde_json::json!({ "resourceUri": view.uri() })))
    }

    /// The same row, with the review form at `uri`.
    const fn reviewed_in(self, uri: &'static str) -> Self {
        Self {
            view: Some(View::Review(uri)),
            ..self
        }
    }

    /// The same row, with the chart of its result at `uri`.
    const fn charted_in(self, uri: &'static str) -> Self {
        Self {
            view: Some(View::Chart(uri)),
            ..self
        }
    }

    /// The same row, loaded up front.
    const fn always_loaded(self) -> Self {
        Self {
            loading: Loading::Always,
            ..self
        }
    }
}

const fn spec(
    name: &'static str,
    title: &'static str,
    domain: Domain,
    effect: Effect,
    search_hint: &'static str,
) -> ToolSpec {
    ToolSpec {
        name,
        title,
        domain,
        effect,
        search_hint,
        loading: Loading::OnDemand,
        view: None,
    }
}

use Domain::*;
use Effect::*;

/// Every tool: the 32 of SolvaPay's hosted MCP server, in its documented order, then the `credits`
/// toolset ([`ToolSpec::hosted`]). The five loaded up front are the steps of the seed
/// conversations' usage-billing loop: get the customer, see what they bought, record usage, check
/// the limits, send a checkout link to upgrade.
#[rustfmt::skip]
pub const TOOLS: &[ToolSpec] = &[
    spec("create_customer", "Create customer", Customers, Write,
        "add client account sign up"),
    spec("get_customer", "Get customer", Customers, Read,
        "client details by reference"),
    spec("list_customers", "List customers", Customers, Read,
        "find client by email or name"),
    spec("update_customer", "Update customer", Customers, Overwrite,
        "edit client email name phone"),
    spec("delete_customer", "Delete customer", Customers, Destructive,
        "remove client erase account"),
    spec("ensure_customer", "Find or create customer", Customers, IdempotentWrite,
        "get or add client by email onboarding").always_loaded(),
    spec("create_product", "Create product", Catalog, Write,
        "add service offering"),
    spec("get_product", "Get product", Catalog, Read,
        "service offering details"),
    spec("list_products", "List products", Catalog, Read,
        "browse services offerings"),
    spec("update_product", "Update product", Catalog, Overwrite,
        "rename service edit description"),
    spec("delete_product", "Delete product", Catalog, Destructive,
        "retire service offering"),
    spec("create_plan", "Create plan", Catalog, OverwritingWrite,
        "add pricing tier monthly yearly subscription"),
    spec("get_plan", "Get plan", Catalog, Read,
        "price tier details"),
    spec("list_plans", "List plans (all products)", Catalog, Read,
        "all prices tiers pricing"),
    spec("list_plans_for_product", "List a product's plans", Catalog, Read,
        "pricing options of a service"),
    spec("update_plan", "Update plan", Catalog, Overwrite,
        "change price limits features"),
    spec("delete_plan", "Delete plan", Catalog, Destructive,
        "retire price tier"),
    spec("list_purchases", "List purchases", Purchases, Read,
        "subscriptions orders sales"),
    spec("get_purchase", "Get purchase", Purchases, Read,
        "subscription status renewal date"),
    spec("get_purchases_by_customer", "Customer's purchases", Purchases, Read,
        "what a client bought subscriptions").always_loaded(),
    spec("get_purchases_by_product", "Product's purchases", Purchases, Read,
        "subscribers buyers of a service"),
    spec("cancel_renewal", "Cancel renewal", Purchases, Destructive,
        "stop subscription unsubscribe").reviewed_in("ui://solvapay/review/renewal"),
    spec("check_limits", "Check usage limits", Usage, Read,
        "quota remaining allowance paywall").always_loaded(),
    spec("create_checkout_session", "Create checkout link", Checkout, Write,
        "payment page buy upgrade subscribe").always_loaded(),
    spec("create_customer_session", "Create billing-portal link", Checkout, Write,
        "manage payment method invoices self-service"),
    spec("get_product_balance", "Product revenue", Payments, Read,
        "earnings balance money made"),
    spec("record_usage", "Record usage event", Usage, Write,
        "meter api call track consumption").always_loaded(),
    spec("record_bulk_usage", "Record usage events in bulk", Usage, Write,
        "meter many events batch import"),
    spec("list_transactions", "List transactions", Payments, Read,
        "payments charges history"),
    spec("get_transaction", "Get transaction", Payments, Read,
        "payment charge details"),
    spec("get_transaction_stats", "Transaction statistics", Payments, Read,
        "revenue totals failed refunded payments"),
    spec("create_refund", "Refund a transaction", Payments, MoneyMoving,
        "money back reverse charge").reviewed_in("ui://solvapay/review/refund"),
    // Beyond the hosted 32: SolvaPay's 2026 endpoints (openapi.json).
    spec("get_customer_balance", "Customer credit balance", Credits, Read,
        "prepaid credits left wallet"),
    spec("grant_credits", "Grant credits", Credits, MoneyMoving,
        "add prepaid credits top up wallet").reviewed_in("ui://solvapay/review/credits"),
    spec("get_revenue_metrics", "Revenue metrics", Payments, Read,
        "mrr arr churn net revenue refund rate kpi").charted_in("ui://solvapay/metrics/revenue"),
    spec("reactivate_renewal", "Reactivate renewal", Credits, Overwrite,
        "undo cancellation resume subscription"),
    spec("activate_plan", "Activate plan", Credits, Overwrite,
        "enrol switch plan free credit-based"),
];

/// The row for `name`.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|t| t.name == name)
}

/// Sets every routed tool's title, annotations and `_meta` from [`TOOLS`]. A routed tool without a row is a
/// programming error, caught by the catalog tests; it keeps the macro's attributes meanwhile.
pub(crate) fn annotate<S: Send + Sync + 'static>(router: ToolRouter<S>) -> ToolRouter<S> {
    let mut annotated = ToolRouter::new();
    for mut route in router {
        if let Some(spec) = find(&route.attr.name) {
            route.attr.title = Some(spec.title.to_owned());
            route.attr.annotations = Some(spec.annotations());
            route.attr.meta = Some(spec.meta());
        }
        annotated.add_route(route);
    }
    annotated
}
