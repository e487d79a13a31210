//! What one incoming line is: a message for the server; a line the transport answers itself, as
//! JSON-RPC 2.0 §5.1 says (`-32700` for text that is not JSON, `-32600` for JSON that is not a
//! request, `-32602` for a request whose params do not fit its method; the request's id when it
//! can be read, else `null`); or nothing to answer (a blank line, and a notification or a response
//! that does not decode: JSON-RPC never answers those).
//!
//! A line is decoded once, straight into rmcp's message type. Only a line that fails is looked at
//! again, to say why and to find its id.

use rmcp::model::{
    CallToolRequestMethod, ClientJsonRpcMessage, ClientRequest, CompleteRequestMethod, ConstString,
    DiscoverRequestMethod, ErrorData, GetPromptRequestMethod, InitializeResultMethod, JsonRpcError,
    JsonRpcMessage, ListPromptsRequestMethod, ListResourceTemplatesRequestMethod,
    ListResourcesRequestMethod, ListToolsRequestMethod, PingRequestMethod,
    ReadResourceRequestMethod, RequestId, SetLevelRequestMethod, SubscribeRequestMethod,
    SubscriptionsListenRequestMethod, UnsubscribeRequestMethod,
};
use serde::Deserialize;
use serde_json::error::Category;
use serde_json::{Map, Value};

/// What a line turned out to be.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "moved once per line; boxing would cost an allocation per message"
)]
pub(super) enum Line {
    /// A message for the server.
    Message(ClientJsonRpcMessage),
    /// A line the server cannot process: the transport answers it with this error.
    Refused(JsonRpcError),
    /// Nothing to do, for this reason.
    Ignored(&'static str),
}

/// The client requests rmcp decodes into a typed request. One of these arriving as a
/// `CustomRequest` (rmcp's catch-all) means its params did not fit the method.
const TYPED_METHODS: &[&str] = &[
    InitializeResultMethod::VALUE,
    DiscoverRequestMethod::VALUE,
    PingRequestMethod::VALUE,
    ListToolsRequestMethod::VALUE,
    CallToolRequestMethod::VALUE,
    CompleteRequestMethod::VALUE,
    SetLevelRequestMethod::VALUE,
    ListPromptsRequestMethod::VALUE,
    GetPromptRequestMethod::VALUE,
    ListResourcesRequestMethod::VALUE,
    ListResourceTemplatesRequestMethod::VALUE,
    ReadResourceRequestMethod::VALUE,
    SubscribeRequestMethod::VALUE,
    UnsubscribeRequestMethod::VALUE,
    SubscriptionsListenRequestMethod::VALUE,
];

/// Reads one line (its `\n`, a `\r` before it and a UTF-8 byte order mark are not content).
pub(super) fn read(line: &[u8]) -> Line {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    if line.is_empty() {
        return Line::Ignored("a blank line");
    }
    match serde_json::from_slice::<ClientJsonRpcMessage>(line) {
        Ok(JsonRpcMessage::Request(request)) => match misread_method(&request.request) {
            Some(method) => Line::Refused(invalid_params(request.id, method)),
            None => Line::Message(JsonRpcMessage::Request(request)),
        },
        Ok(message) => Line::Message(message),
        Err(e) if e.classify() == Category::Data => diagnose(line),
        Err(_) if line.iter().all(u8::is_ascii_whitespace) => Line::Ignored("a blank line"),
        Err(e) => Line::Refused(parse_error(&e)),
    }
}

/// The method of a typed request that came out as rmcp's catch-all.
fn misread_method(request: &ClientRequest) -> Option<&str> {
    match request {
        ClientRequest::CustomRequest(custom) if TYPED_METHODS.contains(&custom.method.as_str()) => {
            Some(&custom.method)
        }
        _ => None,
    }
}

/// Why well-formed JSON did not decode as a message, and what to answer.
fn diagnose(line: &[u8]) -> Line {
    let message = match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(message)) => message,
        Ok(Value::Array(_)) => return refused(None, "batches are not supported"),
        Ok(_) => return refused(None, "a message is a JSON object"),
        // Trailing characters after a value that did not decode.
        Err(e) => return Line::Refused(parse_error(&e)),
    };
    let id = message.get("id");
    let readable_id = id.and_then(|id| RequestId::deserialize(id).ok());
    match (message.get("method"), id) {
        (Some(method), Some(_)) => match (malformed(&message, method), readable_id) {
            (Some(fault), id) => refused(id, fault),
            (None, None) => refused(None, "the id must be a string or an integer"),
            (None, Some(id)) => {
                Line::Refused(invalid_params(id, method.as_str().unwrap_or_default()))
            }
        },
        (Some(method), None) => match malformed(&message, method) {
            Some(fault) => refused(None, fault),
            None => Line::Ignored("a notification that does not decode"),
        },
        (None, _) if message.contains_key("result") || message.contains_key("error") => {
            Line::Ignored("a response that does not decode")
        }
        (None, _) => refused(readable_id, "a request needs a method"),
    }
}

/// What makes an object with a method not a JSON-RPC request object at all.
fn malformed(message: &Map<String, Value>, method: &Value) -> Option<&'static str> {
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        Some("jsonrpc must be \"2.0\"")
    } else if !method.is_string() {
        Some("the method must be a string")
    } else if message
        .get("params")
        .is_some_and(|params| !params.is_object() && !params.is_array())
    {
        Some("params must be an object")
    } else if message.contains_key("result") || message.contains_key("error") {
        Some("a request has no result or error")
    } else {
        None
    }
}

fn parse_error(e: &serde_json::Error) -> JsonRpcError {
    JsonRpcError::new(
        None,
        ErrorData::parse_error(format!("Parse error: {e}"), None),
    )
}

fn refused(id: Option<RequestId>, why: &str) -> Line {
    Line::Refused(invalid_request(id, why))
}

/// A `-32600` answer.
pub(super) fn invalid_request(id: Option<RequestId>, why: &str) -> JsonRpcError {
    let error = ErrorData::invalid_request(format!("Invalid Request: {why}"), None);
    JsonRpcError::new(id, error)
}

fn invalid_params(id: RequestId, method: &str) -> JsonRpcError {
    let message = format!("Invalid params: the params do not fit {method}");
    JsonRpcError::new(Some(id), ErrorData::invalid_params(message, None))
}

#[cfg(test)]
mod tests {
    use rmcp::model::ErrorCode;

    use super::*;

    /// What became of a line, in terms a table can hold.
    #[derive(Debug, PartialEq)]
    enum Outcome {
        /// Answered with this code and id.
        Answered(i32, Value),
        /// Handed to the server as this kind of message.
        Forwarded(&'static str),
        /// Not answered, for this reason.
        Ignored(&'static str),
    }
    use Outcome::{Answered, Forwarded, Ignored};

    fn outcome(line: &str) -> Outcome {
        match read(line.as_bytes()) {
            Line::Refused(error) => Answered(
                error.error.code.0,
                error.id.map_or(Value::Null, RequestId::into_json_value),
            ),
            Line::Message(JsonRpcMessage::Request(_)) => Forwarded("request"),
            Line::Message(JsonRpcMessage::Notification(_)) => Forwarded("notification"),
            Line::Message(_) => Forwarded("response"),
            Line::Ignored(why) => Ignored(why),
        }
    }

    #[test]
    fn every_kind_of_line_gets_the_answer_json_rpc_prescribes() {
        let parse = |id: Value| Answered(ErrorCode::PARSE_ERROR.0, id);
        let invalid = |id: Value| Answered(ErrorCode::INVALID_REQUEST.0, id);
        let params = |id: Value| Answered(ErrorCode::INVALID_PARAMS.0, id);
        let null = Value::Null;
        let deep = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"a":{}{}}}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let cases = [
            // Decoded: handed to the server.
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
                Forwarded("request"),
            ),
            (
                "\u{feff}{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n",
                Forwarded("request"),
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"vendor/thing"}"#,
                Forwarded("request"),
            ),
            (
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                Forwarded("notification"),
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
                Forwarded("response"),
            ),
            // Not JSON, or JSON deeper than the decoder goes.
            ("this is not json", parse(null.clone())),
            (r#"{"jsonrpc":"2.0","id":7,"method":"#, parse(null.clone())),
            (r#"{"jsonrpc":"2.0","id":7} trailing"#, parse(null.clone())),
            (&deep, parse(null.clone())),
            // JSON that is not a request object.
            ("[1,2]", invalid(null.clone())),
            ("[]", invalid(null.clone())),
            ("3", invalid(null.clone())),
            ("\"x\"", invalid(null.clone())),
            (r#"{"foo":"bar"}"#, invalid(null.clone())),
            (r#"{"jsonrpc":"2.0","id":5}"#, invalid(5.into())),
            (r#"{"jsonrpc":"2.0","id":"a"}"#, invalid("a".into())),
            (
                r#"{"jsonrpc":"1.0","id":6,"method":"ping"}"#,
                invalid(6.into()),
            ),
            (r#"{"id":6,"method":"ping"}"#, invalid(6.into())),
            (r#"{"jsonrpc":"2.0","id":6,"method":5}"#, invalid(6.into())),
            (
                r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":5}"#,
                invalid(6.into()),
            ),
            (
                r#"{"jsonrpc":"2.0","id":6,"method":"ping","result":{}}"#,
                invalid(6.into()),
            ),
            (
                r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
                invalid(null.clone()),
            ),
            (
                r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
                invalid(null.clone()),
            ),
            (
                r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#,
                invalid(null.clone()),
            ),
            // Without an id it is a notification only if it is a well-formed request object.
            (r#"{"jsonrpc":"2.0","method":5}"#, invalid(null.clone())),
            (r#"{"method":"notifications/initialized"}"#, invalid(null)),
            // A request whose params do not fit its method.
            (
                r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"nome":"x"}}"#,
                params(8.into()),
            ),
            (
                r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":[1]}"#,
                params(8.into()),
            ),
            (
                r#"{"jsonrpc":"2.0","id":8,"method":"initialize","params":{}}"#,
                params(8.into()),
            ),
            // Never answered: blank lines, notifications and responses that do not decode.
            ("", Ignored("a blank line")),
            ("  \t ", Ignored("a blank line")),
            (
                r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":[1]}"#,
                Ignored("a notification that does not decode"),
            ),
            (
                r#"{"jsonrpc":"2.0","method":"notifications/progress","params":[]}"#,
                Ignored("a notification that does not decode"),
            ),
            // (rmcp takes a cancellation it cannot read for a custom notification: no answer either.)
            (
                r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{}}}"#,
                Forwarded("notification"),
            ),
            (
                r#"{"jsonrpc":"2.0","id":3,"result":{},"error":{"code":1,"message":"x"}}"#,
                Ignored("a response that does not decode"),
            ),
            (
                r#"{"jsonrpc":"2.0","id":{},"result":{}}"#,
                Ignored("a response that does not decode"),
            ),
        ];
        for (line, expected) in cases {
            let shown: String = line.chars().take(80).collect();
            assert_eq!(outcome(line), expected, "{shown}");
        }
    }

    #[test]
    fn answers_say_what_was_wrong() {
        let message = |line: &str| match read(line.as_bytes()) {
            Line::Refused(error) => error.error.message.into_owned(),
            other => panic!("not refused: {other:?}"),
        };
        assert_eq!(
            message(r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{}}"#),
            "Invalid params: the params do not fit tools/call"
        );
        assert_eq!(message("[1]"), "Invalid Request: batches are not supported");
        let parse = message("nope");
        assert!(parse.starts_with("Parse error: expected"), "{parse}");
    }
}
