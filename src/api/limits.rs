//! The usage-limit check: `POST /v1/sdk/limits`.

use reqwest::Method;

use super::{ApiError, Routes, SolvaPayClient};
use crate::model::limits::{LimitResponse, LimitsRequest};

impl SolvaPayClient {
    /// `POST /v1/sdk/limits`.
    pub async fn check_limits(&self, body: &LimitsRequest) -> Result<LimitResponse, ApiError> {
        self.send(Method::POST, Routes::Sdk, &["limits"], &[], Some(body))
            .await
    }
}
