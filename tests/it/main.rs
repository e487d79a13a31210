//! Integration tests: one binary (see Cargo.toml `[[test]] name = "it"`), one module per area.

mod sandbox_routes;
mod sandbox_support;
mod sandbox_validation;
mod support;
