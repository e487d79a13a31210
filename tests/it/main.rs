//! Integration tests: one binary (see Cargo.toml `[[test]] name = "it"`), one module per area.

mod support;
