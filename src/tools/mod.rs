//! The MCP tools, one file per domain. A handler parses its arguments, makes one client call and
//! renders the answer; failures go through [`crate::error::ToolError`].

pub mod catalog;
mod customers;
mod output;

pub(crate) use output::{Json, Summary};

use crate::error::ToolError;
use crate::model::validate;

/// Optional free text, trimmed; empty means absent.
pub(crate) fn opt_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ToolError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => Ok(Some(validate::text(field, v, max)?)),
        None => Ok(None),
    }
}
