//! Operator controls: which tools exist for each flag combination (snapshot), disabled tools cannot be
//! called, the live-key guard, refund caps, confirmation by elicitation, and the audit log.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rmcp::model::{CallToolRequestParams, ElicitationAction};
use serde_json::{Value, json};
use solvapay_mcp::api::KeyMode;
use solvapay_mcp::audit::AuditLog;
use solvapay_mcp::options::{ConfirmMode, RefundLimits, ServerOptions};
use solvapay_mcp::policy::ToolSelection;
use solvapay_mcp::{BillingServer, SolvaPayClient};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::person::{Confirmer, connect_as};
use crate::support::{self, request_count};

fn server(upstream: &MockServer, options: ServerOptions) -> BillingServer {
    BillingServer::with_options(
        SolvaPayClient::new(&support::config(&upstream.uri())),
        options,
    )
}

fn with_selection(selection: &ToolSelection, mode: Option<KeyMode>) -> ServerOptions {
    ServerOptions {
        policy: selection.resolve(mode).unwrap(),
        ..ServerOptions::default()
    }
}

#[tokio::test]
async fn tools_list_for_each_flag_combination() {
    let upstream = support::upstream().await;
    let sel = |f: fn(&mut ToolSelection)| {
        let mut s = ToolSelection::default();
        f(&mut s);
        s
    };
    let combos: Vec<(&str, ToolSelection, Option<KeyMode>)> = vec![
        ("local sandbox, no flags", ToolSelection::default(), None),
        (
            "sandbox key, no flags",
            ToolSelection::default(),
            Some(KeyMode::Sandbox),
        ),
        (
            "live key, no opt-in",
            ToolSelection::default(),
            Some(KeyMode::Live),
        ),
        (
            "live key, --allow-destructive",
            sel(|s| s.allow_destructive = true),
            Some(KeyMode::Live),
        ),
        (
            "--read-only --allow-destructive",
            sel(|s| {
                s.read_only = true;
                s.allow_destructive = true;
            }),
            Some(KeyMode::Live),
        ),
        (
            "--toolsets customers,payments",
            sel(|s| s.toolsets = Some(vec!["customers".into(), "payments".into()])),
            Some(KeyMode::Sandbox),
        ),
        (
            "--toolsets credits",
            sel(|s| s.toolsets = Some(vec!["credits".into()])),
            Some(KeyMode::Live),
        ),
        (
            "--tools get_customer,check_limits",
            sel(|s| s.tools = vec!["get_customer".into(), "check_limits".into()]),
            Some(KeyMode::Sandbox),
        ),
        (
            "--toolsets catalog --tools create_checkout_session --exclude-tools delete_plan,delete_product",
            sel(|s| {
                s.toolsets = Some(vec!["catalog".into()]);
                s.tools = vec!["create_checkout_session".into()];
                s.exclude = vec!["delete_plan".into(), "delete_product".into()];
            }),
            Some(KeyMode::Sandbox),
        ),
    ];
    let mut listed = BTreeMap::new();
    for (name, selection, mode) in combos {
        let client = connect_as(
            Confirmer {
                answer: None,
                questions: Arc::default(),
            },
            server(&upstream, with_selection(&selection, mode)),
        )
        .await;
        let names: Vec<String> = client
            .list_all_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        listed.insert(name, names);
    }
    // The hosted 32, the credits toolset's four and get_revenue_metrics.
    assert_eq!(listed["local sandbox, no flags"].len(), 37);
    insta::assert_json_snapshot!("tools_by_flags", listed);
}

#[tokio::test]
async fn a_disabled_tool_cannot_be_called() {
    let upstream = support::upstream().await;
    let options = with_selection(&ToolSelection::default(), Some(KeyMode::Live));
    let client = connect_as(
        Confirmer {
            answer: None,
            questions: Arc::default(),
        },
        server(&upstream, options),
    )
    .await;
    for tool in ["delete_customer", "create_refund", "cancel_renewal"] {
        let args = json!({"reference": "cus_A1B2C3D4", "sourceTransactionRef": "txn_1", "purchaseRef": "pur_1"});
        let err = client
            .call_tool(
                CallToolRequestParams::new(tool).with_arguments(args.as_object().unwrap().clone()),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("tool not found"), "{tool}: {err}");
    }
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn refund_caps_refuse_before_any_request() {
    let upstream = support::upstream().await;
    let options = ServerOptions {
        refund_limits: RefundLimits::new(Some(1000), None),
        ..ServerOptions::default()
    };
    let client = connect_as(
        Confirmer {
            answer: None,
            questions: Arc::default(),
        },
        server(&upstream, options),
    )
    .await;
    let result = client
        .call_tool(
            CallToolRequestParams::new("create_refund").with_arguments(
                json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": 2500})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    let error = &support::envelope(&result)["error"];
    assert_eq!(error["code"], "VALIDATION_ERROR");
    assert!(
        error["message"].as_str().unwrap().contains("cap of 1000"),
        "{error}"
    );
    assert_eq!(request_count(&upstream).await, 0);
}

async fn mount_delete(upstream: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"reference": "cus_A1B2C3D4"})),
        )
        .mount(upstream)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/ui/customers/cus_A1B2C3D4"))
        .respond_with(ResponseTemplate::new(204))
        .mount(upstream)
        .await;
}

async fn delete_with(
    answer: Option<ElicitationAction>,
    audit: Option<AuditLog>,
) -> (Value, usize, Vec<String>) {
    let upstream = support::upstream().await;
    mount_delete(&upstream).await;
    let questions = Arc::new(Mutex::new(Vec::new()));
    let options = ServerOptions {
        audit,
        ..ServerOptions::default()
    };
    let client = connect_as(
        Confirmer {
            answer,
            questions: questions.clone(),
        },
        server(&upstream, options),
    )
    .await;
    let result = client
        .call_tool(
            CallToolRequestParams::new("delete_customer").with_arguments(
                json!({"reference": "cus_A1B2C3D4"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    let structured = if result.is_error == Some(true) {
        Some(support::envelope(&result))
    } else {
        result.structured_content.clone()
    };
    let out = json!({"isError": result.is_error, "structured": structured});
    let asked = questions.lock().unwrap().clone();
    (out, request_count(&upstream).await, asked)
}

#[tokio::test]
async fn confirmation_declined_sends_nothing() {
    for answer in [ElicitationAction::Decline, ElicitationAction::Cancel] {
        let (out, requests, asked) = delete_with(Some(answer.clone()), None).await;
        assert_eq!(out["isError"], true, "{answer:?}");
        assert!(
            out["structured"]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("nothing was sent")
        );
        assert_eq!(requests, 0, "{answer:?}");
        assert_eq!(asked, ["Delete customer cus_A1B2C3D4?"]);
    }
}

#[tokio::test]
async fn confirmation_accepted_sends_once() {
    let (out, requests, asked) = delete_with(Some(ElicitationAction::Accept), None).await;
    assert_eq!(out["isError"], false, "{out}");
    // The lookup of the customer's internal id, then the delete.
    assert_eq!(requests, 2);
    assert_eq!(asked.len(), 1);
}

#[tokio::test]
async fn a_client_without_elicitation_relies_on_annotations() {
    let (out, requests, asked) = delete_with(None, None).await;
    assert_eq!(out["isError"], false, "{out}");
    assert_eq!(requests, 2);
    assert!(asked.is_empty());
}

#[tokio::test]
async fn confirmation_off_never_asks() {
    let upstream = support::upstream().await;
    mount_delete(&upstream).await;
    let questions = Arc::new(Mutex::new(Vec::new()));
    let options = ServerOptions {
        confirm: ConfirmMode::Off,
        ..ServerOptions::default()
    };
    let client = connect_as(
        Confirmer {
            answer: Some(ElicitationAction::Decline),
            questions: questions.clone(),
        },
        server(&upstream, options),
    )
    .await;
    let result = client
        .call_tool(
            CallToolRequestParams::new("delete_customer").with_arguments(
                json!({"reference": "cus_A1B2C3D4"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false));
    assert!(questions.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_refund_asks_with_the_formatted_amount_and_a_decline_sends_nothing() {
    let (_sandbox, _) = support::sandbox(true).await;
    let mut config =
        solvapay_mcp::Config::for_base_url(_sandbox.base_url(), Some(_sandbox.key())).unwrap();
    config.retry = support::fast_retries();
    let server =
        BillingServer::with_options(SolvaPayClient::new(&config), ServerOptions::default());
    let questions = Arc::new(Mutex::new(Vec::new()));
    let client = connect_as(
        Confirmer {
            answer: Some(ElicitationAction::Decline),
            questions: questions.clone(),
        },
        server,
    )
    .await;
    let args =
        json!({"sourceTransactionId": "txn_D7E8F9G0", "amount": 2500, "reason": "Double charge"});
    let result = client
        .call_tool(
            CallToolRequestParams::new("create_refund")
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    let asked = questions.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].starts_with("Refund $25.00 of txn_D7E8F9G0 (payment of $49.00)"),
        "{asked:?}"
    );
    // Nothing was refunded: the whole $49.00 is still refundable.
    let support_client = support::connect_with(config).await;
    let tx = support::ok(
        &support_client,
        "get_transaction",
        json!({"transactionRef": "txn_D7E8F9G0"}),
    )
    .await;
    assert_eq!(tx["status"], "completed", "{tx}");
    let list = support::ok(&support_client, "list_transactions", json!({})).await;
    assert!(
        !list["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["type"] == "refund"),
        "{list}"
    );
}

#[tokio::test]
async fn every_write_is_audited_before_the_result_returns() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("audit.jsonl");
    let audit = || Some(AuditLog::open(&log_path, vec![support::KEY.to_owned()]).unwrap());
    delete_with(Some(ElicitationAction::Accept), audit()).await;
    delete_with(Some(ElicitationAction::Decline), audit()).await;

    // A failed write and a read.
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/customers"))
        .respond_with(
            ResponseTemplate::new(409)
                .set_body_json(json!({"statusCode": 409, "message": "Customer already exists"})),
        )
        .mount(&upstream)
        .await;
    let client = connect_as(
        Confirmer {
            answer: None,
            questions: Arc::default(),
        },
        server(
            &upstream,
            ServerOptions {
                audit: audit(),
                ..ServerOptions::default()
            },
        ),
    )
    .await;
    for (tool, args) in [
        ("create_customer", json!({"email": "jane@acme.com"})),
        ("get_customer", json!({"reference": "cus_1"})),
    ] {
        client
            .call_tool(
                CallToolRequestParams::new(tool).with_arguments(args.as_object().unwrap().clone()),
            )
            .await
            .unwrap();
    }

    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Each write: a `started` record with the arguments before anything was sent, then its
    // outcome under the same call id.
    let summary: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            let what = l["outcome"].as_str().unwrap_or("-").to_owned();
            (
                l["record"].as_str().unwrap().to_owned(),
                l["tool"].as_str().unwrap().to_owned(),
                what,
            )
        })
        .collect();
    let row = |record: &str, tool: &str, outcome: &str| {
        (record.to_owned(), tool.to_owned(), outcome.to_owned())
    };
    assert_eq!(
        summary,
        [
            row("started", "delete_customer", "-"),
            row("finished", "delete_customer", "ok"),
            row("started", "delete_customer", "-"),
            row("finished", "delete_customer", "declined"),
            row("started", "create_customer", "-"),
            row("finished", "create_customer", "error"),
        ],
        "reads are not audited"
    );
    for pair in lines.chunks(2) {
        assert_eq!(pair[0]["callId"], pair[1]["callId"], "{pair:?}");
    }
    assert_ne!(lines[0]["callId"], lines[2]["callId"]);
    assert_eq!(lines[0]["arguments"], json!({"reference": "cus_A1B2C3D4"}));
    assert_eq!(lines[1]["references"], json!(["cus_A1B2C3D4"]));
    assert_eq!(lines[5]["code"], "VALIDATION_ERROR");
    assert!(!text.contains(support::KEY));
}

#[tokio::test]
async fn the_audit_records_what_kind_of_failure_each_write_met() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("audit.jsonl");
    let audit = || Some(AuditLog::open(&log_path, vec![support::KEY.to_owned()]).unwrap());

    // A refund the person declines: nothing sent.
    let (sandbox, _) = support::sandbox(true).await;
    let mut config =
        solvapay_mcp::Config::for_base_url(sandbox.base_url(), Some(sandbox.key())).unwrap();
    config.retry = support::fast_retries();
    let declining = connect_as(
        Confirmer {
            answer: Some(ElicitationAction::Decline),
            questions: Arc::default(),
        },
        BillingServer::with_options(
            SolvaPayClient::new(&config),
            ServerOptions {
                audit: audit(),
                ..ServerOptions::default()
            },
        ),
    )
    .await;
    let refund =
        json!({"sourceTransactionId": "txn_D7E8F9G0", "amount": 2500, "reason": "Double charge"});
    let result = declining
        .call_tool(
            CallToolRequestParams::new("create_refund")
                .with_arguments(refund.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));

    // A create SolvaPay fails with a 500 (it may have been applied), and one whose arguments do
    // not decode (nothing sent).
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/customers"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "boom"})))
        .mount(&upstream)
        .await;
    let client = connect_as(
        Confirmer {
            answer: None,
            questions: Arc::default(),
        },
        server(
            &upstream,
            ServerOptions {
                audit: audit(),
                ..ServerOptions::default()
            },
        ),
    )
    .await;
    for args in [json!({"email": "jane@acme.com"}), json!({"email": 42})] {
        let result = client
            .call_tool(
                CallToolRequestParams::new("create_customer")
                    .with_arguments(args.as_object().unwrap().clone()),
            )
            .await
            .unwrap();
        assert_eq!(result.is_error, Some(true), "{args}");
    }
    assert_eq!(request_count(&upstream).await, 1);

    let text = std::fs::read_to_string(&log_path).unwrap();
    let finished: Vec<(String, String, String)> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["record"] == "finished")
        .map(|l| {
            let field = |k: &str| l[k].as_str().unwrap_or("-").to_owned();
            (field("tool"), field("outcome"), field("code"))
        })
        .collect();
    let row = |tool: &str, outcome: &str, code: &str| {
        (tool.to_owned(), outcome.to_owned(), code.to_owned())
    };
    assert_eq!(
        finished,
        [
            row("create_refund", "declined", "VALIDATION_ERROR"),
            row("create_customer", "unknown", "INTERNAL_ERROR"),
            row("create_customer", "error", "VALIDATION_ERROR"),
        ]
    );
}
