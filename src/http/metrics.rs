//! The Prometheus exporter of the HTTP mode: installs the process-wide recorder behind the
//! [`crate::metrics`] facade (no listener of its own) and renders it at `/metrics`.
//!
//! What it shows is only what `crate::metrics` records: tool names and closed sets as labels,
//! never a key, a token or customer data.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{
    BuildError, Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::metrics::{DURATION_BUCKETS, TOOL_CALL_DURATION_SECONDS, describe};

/// The Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How often recorded latencies are folded into the histogram between scrapes (so that memory
/// stays flat when nobody scrapes).
const UPKEEP: Duration = Duration::from_secs(5);

/// The recorder this process installed, if any: a second install hands it back.
static INSTALLED: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Why the exporter could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The exporter's configuration was refused.
    #[error("cannot configure the Prometheus exporter: {0}")]
    Build(#[from] BuildError),
    /// Another metrics recorder is already installed in this process.
    #[error("cannot install the Prometheus exporter: another metrics recorder is installed")]
    OtherRecorder,
    /// The upkeep thread could not be started.
    #[error("cannot start the metrics upkeep thread: {0}")]
    Upkeep(#[source] std::io::Error),
}

/// The installed exporter. Cheap to clone; the state of the `/metrics` route.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Installs the Prometheus recorder for the whole process, or hands back the one this module
    /// installed before (tests and a restarted router install again; that never panics).
    pub fn install() -> Result<Self, MetricsError> {
        let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = installed.as_ref() {
            return Ok(Self {
                handle: handle.clone(),
            });
        }
        let recorder = recorder()?;
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).map_err(|_| MetricsError::OtherRecorder)?;
        describe();
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP);
                    upkeep.run_upkeep();
                }
            })
            .map_err(MetricsError::Upkeep)?;
        *installed = Some(handle.clone());
        Ok(Self { handle })
    }

    /// The metrics in Prometheus's text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// The recorder, with the latency histogram's buckets.
fn recorder() -> Result<PrometheusRecorder, BuildError> {
    Ok(PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(TOOL_CALL_DURATION_SECONDS.to_owned()),
            DURATION_BUCKETS,
        )?
        .build_recorder())
}

/// `GET /metrics`.
pub async fn serve_metrics(State(metrics): State<Metrics>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::metrics::{CallOutcome, RetryReason, ToolCall, upstream_retry};
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    /// A recorder of this test's own (on this thread), rendered like the installed one.
    fn local() -> (PrometheusRecorder, Metrics) {
        let recorder = recorder().unwrap();
        let metrics = Metrics {
            handle: recorder.handle(),
        };
        (recorder, metrics)
    }

    fn lines<'a>(rendered: &'a str, prefix: &str) -> Vec<&'a str> {
        rendered.lines().filter(|l| l.starts_with(prefix)).collect()
    }

    #[tokio::test]
    async fn the_route_renders_the_calls_by_tool_and_outcome_with_the_latency_histogram() {
        let (recorder, metrics) = local();
        metrics::with_local_recorder(&recorder, || {
            describe();
            ToolCall::start("list_customers").finish(CallOutcome::Ok);
            ToolCall::start("list_customers").finish(CallOutcome::Ok);
            ToolCall::start("create_refund").finish(ErrorKind::Declined.counted());
            drop(ToolCall::start("get_customer"));
            upstream_retry(RetryReason::ServerError);
        });
        let app = Router::new()
            .route("/metrics", get(serve_metrics))
            .with_state(metrics);

        let response = app
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = std::str::from_utf8(&body).unwrap();
        let mut calls = lines(text, "solvapay_mcp_tool_calls_total{");
        calls.sort_unstable();
        assert_eq!(
            calls,
            [
                r#"solvapay_mcp_tool_calls_total{tool="create_refund",outcome="refused"} 1"#,
                r#"solvapay_mcp_tool_calls_total{tool="get_customer",outcome="cancelled"} 1"#,
                r#"solvapay_mcp_tool_calls_total{tool="list_customers",outcome="ok"} 2"#,
            ],
            "{text}"
        );
        assert!(
            text.contains("# TYPE solvapay_mcp_tool_call_duration_seconds histogram"),
            "{text}"
        );
        assert_eq!(
            lines(
                text,
                r#"solvapay_mcp_tool_call_duration_seconds_bucket{tool="list_customers",le="60"}"#
            ),
            [r#"solvapay_mcp_tool_call_duration_seconds_bucket{tool="list_customers",le="60"} 2"#],
            "{text}"
        );
        assert_eq!(
            lines(
                text,
                r#"solvapay_mcp_tool_call_duration_seconds_count{tool="list_customers"}"#
            )
            .len(),
            1,
            "{text}"
        );
        assert_eq!(
            lines(text, "solvapay_mcp_tool_calls_in_flight "),
            ["solvapay_mcp_tool_calls_in_flight 0"],
            "{text}"
        );
        assert_eq!(
            lines(text, "solvapay_mcp_upstream_retries_total{"),
            [r#"solvapay_mcp_upstream_retries_total{reason="server_error"} 1"#],
            "{text}"
        );
        assert!(
            text.contains("# HELP solvapay_mcp_tool_calls_total Tool calls finished"),
            "{text}"
        );
    }

    #[test]
    fn a_second_install_hands_back_the_first() {
        let first = Metrics::install().unwrap();
        let second = Metrics::install().unwrap();
        ToolCall::start("metrics_install_test").finish(CallOutcome::Ok);
        for metrics in [first, second] {
            let rendered = metrics.render();
            assert!(
                rendered.contains(
                    r#"solvapay_mcp_tool_calls_total{tool="metrics_install_test",outcome="ok"} 1"#
                ),
                "{rendered}"
            );
        }
    }
}
