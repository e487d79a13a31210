//! SolvaPay's 2026 endpoints (openapi.json): a customer's credit balance
//! (`GET /v1/sdk/customers/{reference}/balance`), credit grants
//! (`POST /v1/sdk/customers/{reference}/credits`, with an `Idempotency-Key`), reactivation of a
//! cancelled purchase (`POST /v1/sdk/purchases/{purchaseRef}/reactivate`) and plan activation
//! (`POST /v1/sdk/activate`).

use reqwest::Method;
use serde::Deserialize;

use super::{ApiError, CallClass, Routes, SolvaPayClient};
use crate::model::credit::{
    ActivateRequest, ActivationWire, CustomerBalanceWire, GrantRequest, GrantWire,
};
use crate::model::purchase::PurchaseWire;
use crate::model::{CustomerRef, PurchaseRef};

/// `{success, purchase, message?}`, or the purchase itself.
#[derive(Deserialize)]
#[serde(untagged)]
enum ReactivateBody {
    Wrapped {
        purchase: PurchaseWire,
        #[serde(default)]
        message: Option<String>,
    },
    Flat(PurchaseWire),
}

/// Answers that may come wrapped in `data`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Data<T> {
    Wrapped { data: T },
    Flat(T),
}

impl<T> Data<T> {
    fn into_inner(self) -> T {
        match self {
            Self::Wrapped { data } | Self::Flat(data) => data,
        }
    }
}

impl SolvaPayClient {
    /// `GET /v1/sdk/customers/{reference}/balance`.
    pub async fn customer_balance(
        &self,
        customer: &CustomerRef,
    ) -> Result<CustomerBalanceWire, ApiError> {
        let body: Data<CustomerBalanceWire> = self
            .get(
                Routes::Sdk,
                &["customers", customer.as_str(), "balance"],
                &[],
            )
            .await?;
        Ok(body.into_inner())
    }

    /// `POST /v1/sdk/customers/{reference}/credits` with `Idempotency-Key: key`. Retried like any
    /// deduplicated write: every attempt carries the same key, so SolvaPay grants at most once.
    pub async fn grant_credits(
        &self,
        customer: &CustomerRef,
        body: &GrantRequest,
        key: &str,
    ) -> Result<GrantWire, ApiError> {
        let answer: Data<GrantWire> = self
            .send_keyed(
                CallClass::Deduplicated,
                Method::POST,
                Routes::Sdk,
                &["customers", customer.as_str(), "credits"],
                &[],
                Some(body),
                Some(key),
            )
            .await?;
        Ok(answer.into_inner())
    }

    /// `POST /v1/sdk/purchases/{purchaseRef}/reactivate` (no body) → the purchase and SolvaPay's
    /// message, if any. Restoring a renewal twice changes nothing more, so it is retried as
    /// deduplicated.
    pub async fn reactivate_purchase(
        &self,
        purchase: &PurchaseRef,
    ) -> Result<(PurchaseWire, Option<String>), ApiError> {
        let answer: ReactivateBody = self
            .send_as(
                CallClass::Deduplicated,
                Method::POST,
                Routes::Sdk,
                &["purchases", purchase.as_str(), "reactivate"],
                &[],
                None::<&()>,
            )
            .await?;
        Ok(match answer {
            ReactivateBody::Wrapped { purchase, message } => (purchase, message),
            ReactivateBody::Flat(purchase) => (purchase, None),
        })
    }

    /// `POST /v1/sdk/activate`. Not retried once it may have been sent: an activation can create a
    /// purchase.
    pub async fn activate_plan(&self, body: &ActivateRequest) -> Result<ActivationWire, ApiError> {
        let answer: Data<ActivationWire> = self
            .send(Method::POST, Routes::Sdk, &["activate"], &[], Some(body))
            .await?;
        Ok(answer.into_inner())
    }
}
