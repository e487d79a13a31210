//! The usage-limit check: `POST /v1/sdk/limits`.

use reqwest::Method;

use super::{ApiError, CallClass, Routes, SolvaPayClient};
use crate::model::limits::{LimitResponse, LimitsRequest};

impl SolvaPayClient {
    /// `POST /v1/sdk/limits`: a read (at most it mints another checkout session), so retried as one.
    pub async fn check_limits(&self, body: &LimitsRequest) -> Result<LimitResponse, ApiError> {
        self.send_as(
            CallClass::Read,
            Method::POST,
            Routes::Sdk,
            &["limits"],
            &[],
            Some(body),
        )
        .await
    }
}
