//! `solvapay-mcp tools` and `solvapay-mcp call`, run as a person would at a shell: the real binary,
//! its own home, no key (so the local sandbox in the home's data dir), stdin not a terminal.

use serde_json::Value;

use crate::support::bin::{Home, Ran};

/// `call TOOL` with `args` on `home`'s sandbox.
async fn call(home: &Home, args: &[&str]) -> Ran {
    let mut all = vec!["call"];
    all.extend_from_slice(args);
    home.run(&all).await
}

/// A customer made through `call`, by its reference.
async fn customer(home: &Home, email: &str) -> String {
    let made = call(
        home,
        &[
            "create_customer",
            "--arg",
            &format!("email={email}"),
            "--json",
        ],
    )
    .await;
    assert_eq!(made.code, 0, "{}", made.stderr);
    made.json()["reference"].as_str().unwrap().to_owned()
}

async fn customer_count(home: &Home) -> u64 {
    let listed = call(home, &["list_customers", "--json"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    listed.json()["total"].as_u64().unwrap()
}

#[tokio::test]
async fn the_tools_page_lists_every_enabled_tool_with_its_parameters() {
    let home = Home::new();
    let page = home.run(&["tools"]).await;
    assert_eq!(page.code, 0, "{}", page.stderr);
    insta::assert_snapshot!("people_tools_page", page.stdout);
    // No start-up chatter at the default log level: the answer is the page.
    assert!(page.stderr.is_empty(), "{}", page.stderr);
}

#[tokio::test]
async fn the_tools_json_is_the_servers_tool_list_and_follows_the_flags() {
    let home = Home::new();
    let all = home.run(&["tools", "--json"]).await.json();
    let names = |v: &Value| -> Vec<String> {
        v["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let every = names(&all);
    assert!(every.contains(&"create_refund".to_owned()));
    assert!(all["tools"][0]["inputSchema"]["type"] == "object");

    let read_only = home.run(&["tools", "--json", "--read-only"]).await.json();
    let read_only = names(&read_only);
    assert!(!read_only.is_empty() && read_only.len() < every.len());
    assert!(!read_only.contains(&"create_refund".to_owned()));

    let customers = home
        .run(&["tools", "--json", "--toolsets", "customers"])
        .await
        .json();
    let customers = names(&customers);
    assert!(customers.contains(&"create_customer".to_owned()));
    assert!(!customers.contains(&"list_products".to_owned()));

    // The environment twin works as the flag does.
    let by_env = home
        .run_with(&["tools", "--json"], &[("SOLVAPAY_TOOLSETS", "customers")])
        .await
        .json();
    assert_eq!(names(&by_env), customers);
}

#[tokio::test]
async fn a_call_prints_the_tools_text_or_its_structured_result() {
    let home = Home::new();
    let reference = customer(&home, "ada@example.com").await;
    assert!(reference.starts_with("cus_"), "{reference}");

    let text = call(
        &home,
        &["get_customer", "--arg", &format!("reference={reference}")],
    )
    .await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("ada@example.com"), "{}", text.stdout);

    let json = call(
        &home,
        &[
            "get_customer",
            &format!(r#"{{"reference": "{reference}"}}"#),
            "--json",
        ],
    )
    .await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    assert_eq!(json.json()["email"], "ada@example.com");
}

#[tokio::test]
async fn an_arg_takes_its_parameters_type_and_text_stays_text() {
    let home = Home::new();
    // `externalRef` is text: 007 stays "007", not the number 7.
    let made = call(
        &home,
        &[
            "create_customer",
            "--arg",
            "email=bond@example.com",
            "--arg",
            "externalRef=007",
            "--json",
        ],
    )
    .await;
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(made.json()["externalRef"], "007");
    // `limit` is a number: 1 is sent as 1.
    let listed = call(&home, &["list_customers", "--arg", "limit=1", "--json"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(listed.json()["limit"], 1);
}

#[tokio::test]
async fn a_wrong_command_line_is_exit_2_and_calls_nothing() {
    let home = Home::new();
    let wrong: &[&[&str]] = &[
        &["no_such_tool"],
        &["create_customer", "{not json"],
        &["create_customer", "[1, 2]"],
        &["create_customer", "--arg", "email"],
        &["create_customer", "--arg", "emial=a@example.com"],
        &[
            "create_customer",
            r#"{"email": "a@example.com"}"#,
            "--arg",
            "email=b@example.com",
        ],
        &[
            "create_customer",
            "--arg",
            "email=a@example.com",
            "--arg",
            "email=b@example.com",
        ],
        &["list_customers", "--arg", "limit=lots"],
    ];
    for args in wrong {
        let ran = call(&home, args).await;
        assert_eq!(ran.code, 2, "{args:?}: {}{}", ran.stdout, ran.stderr);
        assert!(ran.stderr.contains("error:"), "{args:?}: {}", ran.stderr);
        assert!(ran.stdout.is_empty(), "{args:?}: {}", ran.stdout);
    }
    let unknown = call(&home, &["create_customer", "--arg", "emial=a@example.com"]).await;
    assert!(
        unknown.stderr.contains("email"),
        "names the parameters: {}",
        unknown.stderr
    );
    assert_eq!(customer_count(&home).await, 0, "nothing was created");
}

#[tokio::test]
async fn a_tool_error_is_exit_5_with_the_tools_message() {
    let home = Home::new();
    let missing = call(&home, &["get_customer", "--arg", "reference=cus_NOPE0000"]).await;
    assert_eq!(missing.code, 5, "{}{}", missing.stdout, missing.stderr);
    assert!(missing.stderr.contains("NOT_FOUND"), "{}", missing.stderr);
    assert!(missing.stdout.is_empty(), "{}", missing.stdout);
    // With --json the error's envelope is the answer, on stdout.
    let json = call(
        &home,
        &["get_customer", "--arg", "reference=cus_NOPE0000", "--json"],
    )
    .await;
    assert_eq!(json.code, 5);
    assert_eq!(json.json()["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_refund_without_a_terminal_is_declined_unless_yes_is_given() {
    let home = Home::new();
    let listed = home
        .run(&[
            "call",
            "list_transactions",
            "--demo",
            "--arg",
            "limit=100",
            "--json",
        ])
        .await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let listed = listed.json();
    let payment = listed["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "payment" && t["status"] == "completed")
        .expect("the demo has a completed payment");
    let reference = payment["reference"].as_str().unwrap();
    let source = format!("sourceTransactionRef={reference}");

    let declined = call(
        &home,
        &["create_refund", "--arg", &source, "--arg", "amount=100"],
    )
    .await;
    assert_eq!(declined.code, 5, "{}{}", declined.stdout, declined.stderr);
    assert!(
        declined.stderr.contains("--yes"),
        "says how to confirm: {}",
        declined.stderr
    );
    assert!(
        declined.stderr.contains("nothing was sent"),
        "{}",
        declined.stderr
    );

    let refunded = call(
        &home,
        &[
            "create_refund",
            "--arg",
            &source,
            "--arg",
            "amount=100",
            "--yes",
            "--json",
        ],
    )
    .await;
    assert_eq!(refunded.code, 0, "{}", refunded.stderr);
    let refunded = refunded.json();
    let before = payment["amount"]["amount"].as_i64().unwrap();
    // Only the confirmed refund was made: what remains is the payment less one refund.
    assert_eq!(refunded["remainingRefundable"]["amount"], before - 100);
}

/// Runs `call args…` on a terminal (util-linux `script` gives it a pseudo-terminal), answers
/// `answer` once the question is on the screen, and gives everything the terminal showed.
async fn call_on_a_terminal(home: &Home, args: &[&str], answer: &str) -> (i32, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut line = format!("'{}' call", crate::support::bin::BIN);
    for arg in args {
        line.push_str(&format!(" '{arg}'"));
    }
    let mut script = tokio::process::Command::new("script");
    home.confine(&mut script);
    let mut child = script
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut screen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&screen).contains("[y/N]") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(60), stdout.read(&mut chunk))
            .await
            .expect("the question within 60 s")
            .unwrap();
        assert!(
            n > 0,
            "ended without asking: {}",
            String::from_utf8_lossy(&screen)
        );
        screen.extend_from_slice(&chunk[..n]);
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{answer}\n").as_bytes())
        .await
        .unwrap();
    stdout.read_to_end(&mut screen).await.unwrap();
    let status = child.wait().await.unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&screen).into_owned(),
    )
}

#[tokio::test]
async fn on_a_terminal_a_refund_asks_and_only_yes_sends_it() {
    let home = Home::new();
    let demo = call(&home, &["list_transactions", "--demo", "--arg", "limit=1"]).await;
    assert_eq!(demo.code, 0, "{}", demo.stderr);
    let source = "sourceTransactionRef=txn_D7E8F9G0";

    let (code, screen) = call_on_a_terminal(
        &home,
        &["create_refund", "--arg", source, "--arg", "amount=100"],
        "n",
    )
    .await;
    assert_eq!(code, 5, "{screen}");
    assert!(screen.contains("Refund $1.00 of txn_D7E8F9G0"), "{screen}");
    assert!(screen.contains("nothing was sent"), "{screen}");

    let (code, screen) = call_on_a_terminal(
        &home,
        &["create_refund", "--arg", source, "--arg", "amount=100"],
        "y",
    )
    .await;
    assert_eq!(code, 0, "{screen}");
    // One refund of $1.00 was made: the first answer sent nothing.
    assert!(
        screen.contains("\"remainingRefundable\":{\"amount\":4800"),
        "{screen}"
    );
}
