//! Bytes to lines and messages to bytes: the newline framing of JSON-RPC over stdio, both ways.
//! Incoming lines are capped (an oversized one is dropped as it streams in, never buffered whole);
//! outgoing messages are one line each, and an error whose request id is unknown says `"id": null`,
//! as JSON-RPC 2.0 requires (rmcp's own encoding leaves the member out).

use std::io;

use bytes::{Buf, BufMut, BytesMut};
use rmcp::model::{ErrorData, JsonRpcMessage, JsonRpcVersion2_0, RequestId, ServerJsonRpcMessage};
use serde::Serialize;
use tokio_util::codec::{Decoder, Encoder};

/// One unit of input.
#[derive(Debug, PartialEq)]
pub(super) enum Frame {
    /// A whole line, its `\n` still on; the buffer is split off the read buffer, not copied.
    Line(BytesMut),
    /// A line longer than the cap, dropped (the rest of it is skipped as it arrives).
    Oversized,
}

/// Splits input into lines of at most `max_line` bytes, the `\n` included.
#[derive(Debug)]
pub(super) struct LineDecoder {
    max_line: usize,
    /// How much of the buffered partial line has been searched for `\n` already.
    searched: usize,
    /// Inside an oversized line, until its `\n`.
    discarding: bool,
}

impl LineDecoder {
    pub(super) fn new(max_line: usize) -> Self {
        Self {
            max_line,
            searched: 0,
            discarding: false,
        }
    }
}

impl Decoder for LineDecoder {
    type Item = Frame;
    type Error = io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        loop {
            let newline = buf
                .get(self.searched..)
                .and_then(|rest| rest.iter().position(|b| *b == b'\n'))
                .map(|at| at + self.searched);
            self.searched = 0;
            match (newline, self.discarding) {
                (Some(at), true) => {
                    buf.advance(at + 1);
                    self.discarding = false;
                }
                (None, true) => {
                    buf.clear();
                    return Ok(None);
                }
                (Some(at), false) if at >= self.max_line => {
                    buf.advance(at + 1);
                    return Ok(Some(Frame::Oversized));
                }
                (Some(at), false) => return Ok(Some(Frame::Line(buf.split_to(at + 1)))),
                // Not ended yet and already at the cap: with its `\n` it will be over.
                (None, false) if buf.len() >= self.max_line => {
                    buf.clear();
                    self.discarding = true;
                    return Ok(Some(Frame::Oversized));
                }
                (None, false) => {
                    self.searched = buf.len();
                    return Ok(None);
                }
            }
        }
    }

    /// At end of input, a last line without its `\n` is incomplete: nothing to deliver.
    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        let frame = self.decode(buf)?;
        if frame.is_none() {
            buf.clear();
        }
        Ok(frame)
    }
}

/// Writes each message as one line of JSON.
#[derive(Debug, Default)]
pub(super) struct MessageEncoder;

/// An error response whose request id is unknown: `id` is written as `null`.
#[derive(Serialize)]
struct NullIdError<'a> {
    jsonrpc: JsonRpcVersion2_0,
    id: Option<&'a RequestId>,
    error: &'a ErrorData,
}

impl Encoder<ServerJsonRpcMessage> for MessageEncoder {
    type Error = io::Error;

    fn encode(&mut self, message: ServerJsonRpcMessage, buf: &mut BytesMut) -> io::Result<()> {
        let mut writer = buf.writer();
        match &message {
            JsonRpcMessage::Error(error) if error.id.is_none() => {
                let error = NullIdError {
                    jsonrpc: JsonRpcVersion2_0,
                    id: None,
                    error: &error.error,
                };
                serde_json::to_writer(&mut writer, &error)?;
            }
            _ => serde_json::to_writer(&mut writer, &message)?,
        }
        buf.put_u8(b'\n');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::{EmptyResult, ServerResult};

    use super::*;

    fn frames(max_line: usize, chunks: &[&[u8]]) -> Vec<Frame> {
        let mut decoder = LineDecoder::new(max_line);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(frame) = decoder.decode(&mut buf).unwrap() {
                out.push(frame);
            }
        }
        while let Some(frame) = decoder.decode_eof(&mut buf).unwrap() {
            out.push(frame);
        }
        out
    }

    fn line(text: &str) -> Frame {
        Frame::Line(BytesMut::from(text))
    }

    #[test]
    fn lines_split_across_reads_come_out_whole() {
        let got = frames(100, &[b"{\"a\"", b":1}\n{\"b\":2}\n{\"c", b"\":3}\r\n"]);
        assert_eq!(
            got,
            [
                line("{\"a\":1}\n"),
                line("{\"b\":2}\n"),
                line("{\"c\":3}\r\n")
            ]
        );
    }

    #[test]
    fn an_oversized_line_is_reported_once_and_skipped_whether_or_not_it_ends_in_one_read() {
        let long = "x".repeat(30);
        let whole = format!("ok\n{long}\nafter\n");
        assert_eq!(
            frames(10, &[whole.as_bytes()]),
            [line("ok\n"), Frame::Oversized, line("after\n")]
        );
        let (head, tail) = long.split_at(12);
        assert_eq!(
            frames(
                10,
                &[b"ok\n", head.as_bytes(), tail.as_bytes(), b"\nafter\n"]
            ),
            [line("ok\n"), Frame::Oversized, line("after\n")]
        );
    }

    #[test]
    fn the_cap_counts_the_line_with_its_newline() {
        assert_eq!(frames(6, &[b"12345\n"]), [line("12345\n")]);
        assert_eq!(frames(6, &[b"123", b"45\n"]), [line("12345\n")]);
        assert_eq!(frames(5, &[b"12345\n"]), [Frame::Oversized]);
        assert_eq!(frames(5, &[b"123", b"45", b"\n"]), [Frame::Oversized]);
    }

    #[test]
    fn an_unterminated_last_line_is_dropped() {
        assert_eq!(frames(100, &[b"done\n{\"half\":"]), [line("done\n")]);
    }

    #[test]
    fn an_error_without_an_id_is_written_with_id_null_and_others_as_rmcp_writes_them() {
        let encode = |message: ServerJsonRpcMessage| {
            let mut buf = BytesMut::new();
            MessageEncoder.encode(message, &mut buf).unwrap();
            String::from_utf8(buf.to_vec()).unwrap()
        };
        let error = ErrorData::invalid_request("Invalid Request", None);
        assert_eq!(
            encode(JsonRpcMessage::error(error.clone(), None)),
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request\"}}\n"
        );
        assert_eq!(
            encode(JsonRpcMessage::error(error, Some(RequestId::Number(4)))),
            "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32600,\"message\":\"Invalid Request\"}}\n"
        );
        let ok = JsonRpcMessage::response(
            ServerResult::EmptyResult(EmptyResult {}),
            RequestId::Number(5),
        );
        assert_eq!(encode(ok), "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}\n");
    }
}
