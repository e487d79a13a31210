//! Integration tests: one binary (see Cargo.toml `[[test]] name = "it"`), one module per area.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

mod support;

mod annotations;
mod apps_chart;
mod apps_review;
mod checkout;
mod completion;
mod confirmation;
mod credits;
mod customers;
mod edges;
mod faults;
mod home;
mod http_callers;
mod http_confirm;
mod http_edges;
mod http_serve;
mod http_wiring;
mod input_edges;
mod lifecycle;
mod metrics;
mod operator;
mod people_call;
mod people_cli;
mod people_doctor;
mod people_import;
mod plans;
mod products;
mod prompts;
mod purchases;
mod reading;
mod redaction;
mod refund_safety;
mod resources;
mod revenue;
mod revenue_metrics;
mod sandbox_dashboard;
mod sandbox_pages;
mod sandbox_routes;
mod sandbox_support;
mod sandbox_validation;
mod seed;
mod shared_state;
mod shutdown;
mod stdio;
#[cfg(unix)]
mod terminal_hint;
mod tool_catalog;
mod tool_list_budget;
mod transactions;
mod usage;
