//! Tool-argument decoding and validation through the real server: a session is opened in process,
//! then one `tools/call` with a tool picked by the first byte and the rest as JSON arguments.
//! SolvaPay is a closed port (refused at once, no retries). Invariants: no handler panic (the
//! server would catch it and say "failed unexpectedly"), and every answer is a tool result or the
//! "tool not found" protocol error.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use serde_json::Value;
use solvapay_mcp::api::RetryPolicy;
use solvapay_mcp::{BillingServer, Config, SolvaPayClient};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fn client() -> &'static SolvaPayClient {
    static CLIENT: OnceLock<SolvaPayClient> = OnceLock::new();
    CLIENT.get_or_init(|| {
        // Port 9 (discard) on loopback: nothing listens, so every request is refused at once.
        let mut config =
            Config::for_base_url("http://127.0.0.1:9", Some("sk_test_fuzz_key_1234")).unwrap();
        config.retry = RetryPolicy::none();
        SolvaPayClient::new(&config)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(Value::Object(arguments)) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let tools = BillingServer::new(client().clone()).tools();
    let name = match tools.get(usize::from(*selector) % (tools.len() + 1)) {
        Some(tool) => tool.name.to_string(),
        None => "no_such_tool".to_owned(),
    };
    runtime().block_on(async move {
        let server = BillingServer::new(client().clone());
        let (server_io, client_io) = tokio::io::duplex(1 << 16);
        let running = tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let session = ().serve(client_io).await.unwrap();
        let answer = session
            .call_tool(CallToolRequestParams::new(name.clone()).with_arguments(arguments))
            .await;
        match answer {
            Ok(result) => {
                let text: String = result
                    .content
                    .iter()
                    .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                    .collect();
                assert!(
                    !text.contains("failed unexpectedly"),
                    "{name} panicked: {text}"
                );
                assert!(!text.contains("sk_test_fuzz_key_1234"), "the key leaked");
            }
            Err(e) => assert!(
                name == "no_such_tool" && e.to_string().contains("tool not found"),
                "{name}: protocol error {e}"
            ),
        }
        let _ = session.cancel().await;
        let _ = running.await;
    });
});
