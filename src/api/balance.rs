//! Revenue look-ups: a product's balance (`GET /v1/sdk/products/{productRef}`, only the fields the
//! balance needs) and the provider's default currency (`GET /v1/sdk/merchant`).

use serde::Deserialize;

use super::{ApiError, Routes, SolvaPayClient};
use crate::model::{Currency, ProductRef};

/// The balance fields of `SdkProductResponse`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductBalanceWire {
    /// Product reference.
    pub reference: String,
    /// Product name.
    #[serde(default)]
    pub name: Option<String>,
    /// Balance in minor units of the provider's currency.
    #[serde(default, deserialize_with = "crate::model::money::minor_units")]
    pub balance: Option<i64>,
    /// Transactions touching the product (a missing or odd count is 0).
    #[serde(default, deserialize_with = "crate::model::transaction::count")]
    pub total_transactions: u64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ProductBody {
    Wrapped { data: ProductBalanceWire },
    Flat(ProductBalanceWire),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MerchantWire {
    #[serde(default)]
    default_currency: Option<String>,
}

impl SolvaPayClient {
    /// `GET /v1/sdk/products/{productRef}`, decoding only reference, name, balance and totalTransactions.
    pub async fn product_balance(
        &self,
        product: &ProductRef,
    ) -> Result<ProductBalanceWire, ApiError> {
        let body: ProductBody = self
            .get(Routes::Sdk, &["products", product.as_str()], &[])
            .await?;
        Ok(match body {
            ProductBody::Wrapped { data } | ProductBody::Flat(data) => data,
        })
    }

    /// `GET /v1/sdk/merchant` → `defaultCurrency`, when SolvaPay reports a usable one.
    pub async fn merchant_currency(&self) -> Result<Option<Currency>, ApiError> {
        let body: Option<MerchantWire> = self.get(Routes::Sdk, &["merchant"], &[]).await?;
        Ok(body
            .and_then(|m| m.default_currency)
            .and_then(|c| Currency::parse("defaultCurrency", &c).ok()))
    }
}
