//! The stdio server started by a person at a terminal (stdin a real pseudo terminal): one line on
//! stderr says what it is and what to run instead, and a typed line that is not JSON gets a word
//! on stderr, while stdout carries the JSON-RPC parse error as always. With a pipe for stdin (an
//! MCP client), neither line appears.

use std::fs::File;
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use serde_json::Value;
use solvapay_mcp::stdio::{AT_A_TERMINAL, NOT_JSON};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader, Lines};

use crate::support::bin::Home;

const BOUND: Duration = Duration::from_secs(60);

/// A pseudo terminal: (the side a person types into, the side the program reads).
fn pseudo_terminal() -> (File, File) {
    let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&controller).unwrap();
    unlockpt(&controller).unwrap();
    let name = ptsname(&controller, Vec::new()).unwrap();
    let terminal = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    (File::from(controller), terminal)
}

/// Reads lines until one contains `wanted`; every line read, in order.
async fn until<R: AsyncRead + Unpin>(lines: &mut Lines<BufReader<R>>, wanted: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(BOUND, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let hit = line.contains(wanted);
            seen.push(line);
            if hit {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no line with {wanted:?} in {seen:#?}");
    seen
}

#[tokio::test]
async fn at_a_terminal_the_server_says_what_it_is_and_that_a_typed_line_is_not_json() {
    let home = Home::new();
    let (mut person, terminal) = pseudo_terminal();
    let mut command = home.command();
    command
        .stdin(Stdio::from(terminal))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut server = command.spawn().unwrap();
    drop(command);
    let mut stderr = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut stdout = BufReader::new(server.stdout.take().unwrap()).lines();

    let said = until(&mut stderr, "this is an MCP server").await;
    assert_eq!(said.last().unwrap(), AT_A_TERMINAL);
    for command in [
        "solvapay-mcp tools",
        "solvapay-mcp call",
        "solvapay-mcp config",
    ] {
        assert!(AT_A_TERMINAL.contains(command), "{command}");
    }

    person.write_all(b"hello\n").unwrap();
    let said = until(&mut stderr, "that line is not JSON").await;
    assert_eq!(said.last().unwrap(), NOT_JSON);
    let answer = tokio::time::timeout(BOUND, stdout.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["error"]["code"], -32700, "{answer}");

    // Ctrl-D at the start of a line: the end of input, and the server's clean exit.
    person.write_all(b"\x04").unwrap();
    let status = tokio::time::timeout(BOUND, server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(
        tokio::time::timeout(BOUND, stdout.next_line())
            .await
            .unwrap()
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn with_a_pipe_for_stdin_neither_line_appears() {
    let home = Home::new();
    let mut command = home.command();
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut server = command.spawn().unwrap();
    let mut stdin = server.stdin.take().unwrap();
    stdin.write_all(b"hello\n").await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(BOUND, server.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let answer: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(answer["error"]["code"], -32700, "{stdout}");
    assert!(
        stderr.contains("answering a message the server cannot process"),
        "{stderr}"
    );
    assert!(!stderr.contains(AT_A_TERMINAL), "{stderr}");
    assert!(!stderr.contains(NOT_JSON), "{stderr}");
}
