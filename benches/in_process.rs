//! In-process costs (criterion): money formatting, the tool list, and whole tool calls through an
//! in-process MCP client (the server's stdio transport over a tokio duplex) against a trivial local upstream. `cargo bench --bench in_process`.
//! Whole-process figures (spawn, RSS, concurrency, bulk) come from `benches/whole_process.py`.

#![expect(clippy::unwrap_used, reason = "a benchmark: a panic is a failed run")]

use std::hint::black_box;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::json;
use solvapay_mcp::model::money::Currency;
use solvapay_mcp::{BillingServer, Config, SolvaPayClient, stdio};

const CUSTOMER: &str = r#"{"reference":"cus_A1B2C3D4","email":"jane@example.com","name":"Jane Doe","metadata":{},"createdAt":"2026-02-01T10:00:00.000Z","purchases":[]}"#;

/// A zero-latency upstream answering `GET /v1/sdk/customers/{ref}` with a fixed customer.
async fn upstream() -> String {
    let app = Router::new().route(
        "/v1/sdk/customers/{reference}",
        get(|| async { ([("content-type", "application/json")], CUSTOMER) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn server(base_url: &str) -> BillingServer {
    let config = Config::for_base_url(base_url, Some("sk_test_bench")).unwrap();
    BillingServer::new(SolvaPayClient::new(&config))
}

async fn connect(base_url: &str) -> RunningService<RoleClient, ()> {
    let server = server(base_url);
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    // The server's own stdio transport, over the in-memory pipe.
    let (input, output) = tokio::io::split(server_io);
    let transport = stdio::over(input, output, stdio::MAX_LINE_BYTES);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(transport).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_io).await.unwrap()
}

fn args(v: serde_json::Value) -> CallToolRequestParams {
    let serde_json::Value::Object(map) = v else {
        unreachable!()
    };
    CallToolRequestParams::new("x").with_arguments(map)
}

fn money(c: &mut Criterion) {
    let usd = Currency::usd();
    let jpy = Currency::from_api("JPY");
    let kwd = Currency::from_api("KWD");
    let mut g = c.benchmark_group("money");
    g.bench_function("format USD 3,871.00", |b| {
        b.iter(|| usd.format(black_box(387_100)))
    });
    g.bench_function("format JPY -2,500", |b| {
        b.iter(|| jpy.format(black_box(-2_500)))
    });
    g.bench_function("format KWD 12.345", |b| {
        b.iter(|| kwd.format(black_box(12_345)))
    });
    g.bench_function("parse currency code", |b| {
        b.iter(|| Currency::parse("currency", black_box("eur")).unwrap())
    });
    g.finish();
}

fn tool_list(c: &mut Criterion) {
    let server = server("http://127.0.0.1:9");
    c.bench_function("tools/list: build and serialize 32 tools", |b| {
        b.iter(|| serde_json::to_vec(&server.tools()).unwrap().len())
    });
}

fn calls(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(async {
        let base = upstream().await;
        connect(&base).await
    });
    let get_customer = {
        let mut p = args(json!({"reference": "cus_A1B2C3D4"}));
        p.name = "get_customer".into();
        p
    };
    let invalid = {
        let mut p = args(json!({"email": "not-an-email", "name": "x"}));
        p.name = "create_customer".into();
        p
    };
    let mut g = c.benchmark_group("tools/call in process");
    g.bench_function("get_customer (zero-latency upstream)", |b| {
        b.to_async(&rt).iter(|| async {
            let r = client.call_tool(get_customer.clone()).await.unwrap();
            assert_ne!(r.is_error, Some(true));
        })
    });
    g.bench_function(
        "create_customer rejected by argument validation (no request)",
        |b| {
            b.to_async(&rt).iter(|| async {
                let r = client.call_tool(invalid.clone()).await.unwrap();
                assert_eq!(r.is_error, Some(true));
            })
        },
    );
    g.finish();
    rt.block_on(async move {
        let _ = client.cancel().await;
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = money, tool_list, calls
}
criterion_main!(benches);
