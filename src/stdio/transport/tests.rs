//! The transport alone, over an in-memory pipe: what reaches the server, what the client reads.

use rmcp::model::{EmptyResult, ErrorData, ServerResult};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};

use super::*;

/// Long enough for anything that will happen at all.
const WAIT: std::time::Duration = std::time::Duration::from_secs(5);

struct Harness {
    transport: StdioTransport<DuplexStream, DuplexStream>,
    client_in: DuplexStream,
    client_out: Lines<BufReader<DuplexStream>>,
}

fn harness(max_line: usize) -> Harness {
    let (server_in, client_in) = tokio::io::duplex(1 << 16);
    let (server_out, client_out) = tokio::io::duplex(1 << 16);
    Harness {
        transport: StdioTransport::new(server_in, server_out, max_line),
        client_in,
        client_out: BufReader::new(client_out).lines(),
    }
}

impl Harness {
    async fn write(&mut self, line: &str) {
        self.client_in.write_all(line.as_bytes()).await.unwrap();
        self.client_in.write_all(b"\n").await.unwrap();
    }

    /// The next message the server is given, as JSON.
    async fn received(&mut self) -> Value {
        let message = tokio::time::timeout(WAIT, self.transport.receive()).await;
        serde_json::to_value(message.expect("a message in time").unwrap()).unwrap()
    }

    /// The next line the client reads, as JSON.
    async fn answer(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT, self.client_out.next_line()).await;
        serde_json::from_str(&line.expect("an answer in time").unwrap().unwrap()).unwrap()
    }

    /// The server answers request `id` (as it knows it).
    async fn reply(&mut self, id: &Value) {
        let id = serde_json::from_value(id.clone()).unwrap();
        let message = JsonRpcMessage::response(ServerResult::EmptyResult(EmptyResult {}), id);
        self.transport.send(message).await.unwrap();
    }
}

fn ping(id: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"}).to_string()
}

fn cancel(id: Value) -> String {
    json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id}})
        .to_string()
}

#[tokio::test]
async fn requests_reach_the_server_under_its_own_ids_and_are_answered_under_the_clients() {
    let mut h = harness(1024);
    h.write(&ping(json!("a"))).await;
    h.write(&ping(json!(1))).await;
    let first = h.received().await;
    let second = h.received().await;
    assert_ne!(first["id"], second["id"]);
    h.reply(&second["id"]).await;
    h.reply(&first["id"]).await;
    assert_eq!(
        h.answer().await,
        json!({"jsonrpc": "2.0", "id": 1, "result": {}})
    );
    assert_eq!(
        h.answer().await,
        json!({"jsonrpc": "2.0", "id": "a", "result": {}})
    );
}

#[tokio::test]
async fn an_id_in_flight_is_refused_and_free_again_once_answered() {
    let mut h = harness(1024);
    h.write(&ping(json!(7))).await;
    let first = h.received().await;
    h.write(&ping(json!(7))).await;
    h.write(&ping(json!(8))).await;
    // The duplicate is answered by the transport; the next request still comes through.
    let other = h.received().await;
    assert_eq!(other["method"], "ping");
    let refusal = h.answer().await;
    assert_eq!(refusal["id"], 7);
    assert_eq!(refusal["error"]["code"], -32600);
    assert_eq!(
        refusal["error"]["message"],
        "Invalid Request: id 7 is already in use by a request in flight"
    );
    h.reply(&first["id"]).await;
    assert_eq!(h.answer().await["id"], 7);
    h.write(&ping(json!(7))).await;
    let again = h.received().await;
    assert_ne!(again["id"], first["id"]);
}

#[tokio::test]
async fn a_cancellation_frees_the_id_and_names_the_request_as_the_server_knows_it() {
    let mut h = harness(1024);
    h.write(&ping(json!(3))).await;
    let first = h.received().await;
    h.write(&cancel(json!(3))).await;
    let cancelled = h.received().await;
    assert_eq!(cancelled["params"]["requestId"], first["id"]);
    h.write(&ping(json!(3))).await;
    let second = h.received().await;
    assert_ne!(
        second["id"], first["id"],
        "a fresh id: a late answer to the first cannot pass for the second"
    );
    // A cancellation of a request not in flight is not the server's business.
    h.write(&cancel(json!(99))).await;
    h.write(&ping(json!(4))).await;
    assert_eq!(h.received().await["method"], "ping");
}

#[tokio::test]
async fn unprocessable_lines_are_answered_and_reading_goes_on() {
    let mut h = harness(100);
    h.write("not json").await;
    h.write(&format!("{{\"pad\":\"{}\"}}", "x".repeat(200)))
        .await;
    h.write(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":[1]}"#)
        .await;
    h.write("[]").await;
    h.write(&ping(json!(1))).await;
    assert_eq!(h.received().await["method"], "ping");
    let parse = h.answer().await;
    assert_eq!(
        (parse["id"].clone(), parse["error"]["code"].clone()),
        (Value::Null, json!(-32700))
    );
    let oversized = h.answer().await;
    assert_eq!(oversized["id"], Value::Null);
    assert_eq!(
        oversized["error"]["message"],
        "Invalid Request: the line is longer than 100 bytes"
    );
    // The notification got nothing: the next answer is the batch's.
    let batch = h.answer().await;
    assert_eq!(
        (batch["id"].clone(), batch["error"]["code"].clone()),
        (Value::Null, json!(-32600))
    );
}

#[tokio::test]
async fn a_refusal_survives_a_receive_cancelled_while_the_writer_is_busy() {
    let mut h = harness(1024);
    h.write("[]").await;
    h.write(&ping(json!(1))).await;
    let writer = h.transport.writer.clone();
    let held = writer.lock().await;
    {
        let mut receive = Box::pin(h.transport.receive());
        assert!(futures::poll!(&mut receive).is_pending());
    }
    drop(held);
    assert_eq!(h.received().await["method"], "ping");
    assert_eq!(h.answer().await["error"]["code"], -32600);
}

#[tokio::test]
async fn an_error_from_the_server_without_an_id_is_written_with_id_null() {
    let mut h = harness(1024);
    let error = ErrorData::internal_error("boom", None);
    h.transport
        .send(JsonRpcMessage::error(error, None))
        .await
        .unwrap();
    assert_eq!(
        h.answer().await,
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32603, "message": "boom"}})
    );
}

/// One line of a generated session: requests and cancellations over a few ids, and junk.
#[derive(Debug, Clone)]
enum Piece {
    Ping(i64),
    Cancel(i64),
    Junk(Vec<u8>),
}

fn piece() -> impl proptest::strategy::Strategy<Value = Piece> {
    use proptest::prelude::*;
    prop_oneof![
        (0..3i64).prop_map(Piece::Ping),
        (0..3i64).prop_map(Piece::Cancel),
        Just(Piece::Junk(b"not json".to_vec())),
        Just(Piece::Junk(b"[]".to_vec())),
        Just(Piece::Junk(
            br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":[1]}"#.to_vec()
        )),
        (200..400usize).prop_map(|n| Piece::Junk(vec![b'x'; n])),
        proptest::collection::vec(any::<u8>().prop_filter("no \n", |b| *b != b'\n'), 0..40)
            .prop_map(Piece::Junk),
    ]
}

/// What the server must be given for `pieces`, no request being answered meanwhile: each
/// request whose id is free (taking it), and each cancellation of an id taken (freeing it).
fn expected(pieces: &[Piece]) -> (Vec<Piece>, usize) {
    let mut taken = std::collections::HashSet::new();
    let mut given = Vec::new();
    let mut refused = 0;
    for piece in pieces {
        match piece {
            Piece::Ping(id) if taken.insert(*id) => given.push(piece.clone()),
            Piece::Ping(_) => refused += 1,
            Piece::Cancel(id) if taken.remove(id) => given.push(piece.clone()),
            Piece::Cancel(_) | Piece::Junk(_) => {}
        }
    }
    (given, refused)
}

proptest::proptest! {
    /// Whatever arrives: reading ends at end of input; the server is given exactly the requests
    /// whose id is free and the cancellations of requests it was given (naming them by its own
    /// id); every duplicate is refused; and every line written back is a JSON-RPC error answer
    /// with an id member.
    #[test]
    fn any_input_keeps_the_transport_s_promises(
        pieces in proptest::collection::vec(piece(), 0..40),
        unterminated in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20),
    ) {
        let mut input = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::Ping(id) => input.extend_from_slice(ping(json!(id)).as_bytes()),
                Piece::Cancel(id) => input.extend_from_slice(cancel(json!(id)).as_bytes()),
                Piece::Junk(bytes) => input.extend_from_slice(bytes),
            }
            input.push(b'\n');
        }
        input.extend_from_slice(&unterminated);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (messages, output) = runtime.block_on(async {
            let (server_out, mut client_out) = tokio::io::duplex(1 << 20);
            let mut transport = StdioTransport::new(std::io::Cursor::new(input), server_out, 128);
            let mut messages = Vec::new();
            while let Some(message) = transport.receive().await {
                messages.push(serde_json::to_value(message).unwrap());
            }
            transport.close().await.unwrap();
            drop(transport);
            let mut output = String::new();
            tokio::io::AsyncReadExt::read_to_string(&mut client_out, &mut output).await.unwrap();
            (messages, output)
        });

        let (given, refused) = expected(&pieces);
        proptest::prop_assert_eq!(messages.len(), given.len(), "{:?}", messages);
        // The server's id of the request each client id was last given under.
        let mut ours = HashMap::new();
        for (message, piece) in messages.iter().zip(&given) {
            match piece {
                Piece::Ping(id) => {
                    proptest::prop_assert_eq!(&message["method"], "ping");
                    ours.insert(*id, message["id"].clone());
                }
                Piece::Cancel(id) => {
                    proptest::prop_assert_eq!(&message["method"], "notifications/cancelled");
                    proptest::prop_assert_eq!(&message["params"]["requestId"], &ours[id]);
                }
                Piece::Junk(_) => unreachable!(),
            }
        }
        let mut duplicates = 0;
        for line in output.lines() {
            let answer: Value = serde_json::from_str(line).unwrap();
            proptest::prop_assert_eq!(&answer["jsonrpc"], "2.0");
            proptest::prop_assert!(answer.get("id").is_some(), "{}", line);
            let code = answer["error"]["code"].as_i64().unwrap_or_default();
            proptest::prop_assert!([-32700, -32600, -32602].contains(&code), "{}", line);
            if answer["error"]["message"].as_str().is_some_and(|m| m.contains("already in use")) {
                duplicates += 1;
            }
        }
        proptest::prop_assert_eq!(duplicates, refused);
    }
}
