//! The MCP tools (the MCP layer, above `api` and `model`), one file per domain, each a named router
//! on [`BillingServer`](crate::server::BillingServer). A handler parses its arguments, makes one
//! client call and renders the answer; failures go through [`crate::error::ToolError`].

mod checkout;
mod credits;
mod customers;
mod output;
mod params;
mod plans;
mod products;
mod purchases;
mod refunds;
mod revenue;
mod revenue_metrics;
mod transactions;
pub(crate) mod usage;
mod usage_bulk;

pub(crate) use output::{Json, Reply, Summary, first_items};
pub(crate) use params::Parameters;

use crate::api::ApiError;
use crate::error::{ErrorKind, ToolError};
use crate::model::validate;
pub(crate) use crate::model::validate::opt_text;

/// A delete's outcome, `None` when SolvaPay says there is no such object (an earlier call deleted
/// it, or it never existed): a repeated delete then answers "nothing to delete" instead of failing.
pub(crate) fn unless_absent<T>(result: Result<T, ApiError>) -> Result<Option<T>, ToolError> {
    match result.map_err(ToolError::from) {
        Ok(done) => Ok(Some(done)),
        Err(e) if *e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// An optional free-form object (`metadata`, `features`, `limits`), passed on unchanged once its
/// keys and strings pass the free-text character rules.
pub(crate) fn opt_metadata(
    field: &str,
    value: Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, ToolError> {
    if let Some(map) = &value {
        validate::metadata(field, map)?;
    }
    Ok(value)
}

/// The paging facts every list result carries, so a model never mistakes a page for everything.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageInfo {
    /// Total matching rows, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) total: Option<u64>,
    pub(crate) limit: u32,
    pub(crate) offset: u32,
    /// True when another page follows.
    pub(crate) has_more: bool,
    /// The `offset` for the next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_offset: Option<u32>,
    /// Rows SolvaPay sent that could not be read and were skipped: which, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
}

impl PageInfo {
    /// Paging facts for `returned` rows fetched at `offset` with `limit`.
    pub(crate) fn new(
        limit: u32,
        offset: u32,
        returned: usize,
        has_more: bool,
        total: Option<u64>,
    ) -> Self {
        let next_offset = has_more.then(|| offset + returned as u32);
        Self {
            total,
            limit,
            offset,
            has_more,
            next_offset,
            warnings: Vec::new(),
        }
    }

    /// The same facts, with the warnings of the rows skipped on this page.
    #[must_use]
    pub(crate) fn warn(mut self, warnings: Vec<String>) -> Self {
        // The skipped rows were on the page: the next one starts after them too.
        let skipped = u32::try_from(warnings.len()).unwrap_or(u32::MAX);
        self.next_offset = self.next_offset.map(|o| o.saturating_add(skipped));
        self.warnings = warnings;
        self
    }

    /// "20 customers of 45: Jane Smith (cus_A1B2C3D4), Bob (cus_X7Y8Z9W0), …; more with offset
    /// 20" (`named`: the first rows, from [`first_items`]; the offset is said when not 0).
    pub(crate) fn describe(&self, returned: usize, noun: &str, named: &str) -> String {
        let total = self.total.map(|t| format!(" of {t}")).unwrap_or_default();
        let from = match self.offset {
            0 => String::new(),
            o => format!(" from offset {o}"),
        };
        let named = if named.is_empty() {
            String::new()
        } else {
            format!(": {named}")
        };
        format!("{returned} {noun}{total}{from}{named}{}", self.tail())
    }

    /// "; more with offset 40" or "; no more pages", then any rows skipped ("; 1 row SolvaPay sent
    /// could not be read: row 3 (cus_X) skipped: …").
    pub(crate) fn tail(&self) -> String {
        let mut tail = match self.next_offset {
            Some(o) => format!("; more with offset {o}"),
            None => "; no more pages".to_owned(),
        };
        if !self.warnings.is_empty() {
            let n = self.warnings.len();
            let rows = if n == 1 { "row" } else { "rows" };
            tail.push_str(&format!(
                "; {n} {rows} SolvaPay sent could not be read: {}",
                self.warnings.join("; ")
            ));
        }
        tail
    }
}
