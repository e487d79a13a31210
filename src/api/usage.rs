//! Usage endpoints: `POST /v1/sdk/usages` and `POST /v1/sdk/usages/bulk`.

use reqwest::Method;
use serde::Serialize;

use super::{ApiError, CallClass, Routes, SolvaPayClient};
use crate::model::usage::{BulkUsageWire, UsageEvent, UsageWire};

/// Most events SolvaPay accepts in one bulk request.
pub const MAX_BULK_EVENTS: usize = 1000;

#[derive(Serialize)]
struct BulkBody<'a> {
    events: &'a [UsageEvent],
}

impl SolvaPayClient {
    /// `POST /v1/sdk/usages`: records one event (deduplicated by its `idempotencyKey`).
    pub async fn record_usage(&self, event: &UsageEvent) -> Result<UsageWire, ApiError> {
        // Every event carries an idempotencyKey, so a retry cannot count twice.
        self.send_as(
            CallClass::Deduplicated,
            Method::POST,
            Routes::Sdk,
            &["usages"],
            &[],
            Some(event),
        )
        .await
    }

    /// `POST /v1/sdk/usages/bulk`: at most [`MAX_BULK_EVENTS`] events, validated as a batch by
    /// SolvaPay (one bad event rejects all), then stored one by one.
    pub async fn record_usage_bulk(
        &self,
        events: &[UsageEvent],
    ) -> Result<BulkUsageWire, ApiError> {
        self.send_as(
            CallClass::Deduplicated,
            Method::POST,
            Routes::Sdk,
            &["usages", "bulk"],
            &[],
            Some(&BulkBody { events }),
        )
        .await
    }
}
