//! The stdio transport. Standard input and output are driven by the I/O reactor when they are pipes
//! (the way MCP clients launch a stdio server), so a message costs no hand-off to a blocking
//! thread; anything else (a terminal, a file) falls back to Tokio's blocking handles. One JSON-RPC
//! line is capped: an oversized line is discarded (and logged), and the server reads on.

use rmcp::RoleServer;
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::transport::{StdioReader, StdioWriter};
use tokio::io::{AsyncRead, AsyncWrite};

/// Longest accepted JSON-RPC line (4 MiB): far above any real request, far below memory trouble.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// The server's transport over the process's standard input and output.
pub fn transport() -> AsyncRwTransport<RoleServer, StdioReader, StdioWriter> {
    let (input, output) = rmcp::transport::stdio_pipes();
    over(input, output, MAX_LINE_BYTES)
}

/// The same framing over any reader and writer, lines capped at `max_line` bytes (tests, fuzzing).
pub fn over<R, W>(input: R, output: W, max_line: usize) -> AsyncRwTransport<RoleServer, R, W>
where
    R: AsyncRead + Send + Unpin,
    W: AsyncWrite + Send + Unpin + 'static,
{
    AsyncRwTransport::new_server(input, output).with_max_line_length(max_line)
}

#[cfg(test)]
mod tests {
    use rmcp::model::ClientJsonRpcMessage;
    use rmcp::transport::Transport;

    use super::*;

    #[tokio::test]
    async fn an_oversized_line_is_dropped_and_reading_goes_on() {
        let ping = |id: u32| format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}\n");
        let long = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}\n",
            "x".repeat(200)
        );
        let input = [ping(1), long, "not json\n".into(), ping(3)].concat();
        let mut transport = over(
            std::io::Cursor::new(input.into_bytes()),
            tokio::io::sink(),
            100,
        );
        let mut ids = Vec::new();
        while let Some(message) = transport.receive().await {
            if let ClientJsonRpcMessage::Request(request) = message {
                ids.push(request.id.to_string());
            }
        }
        assert_eq!(ids, ["1", "3"]);
    }
}
