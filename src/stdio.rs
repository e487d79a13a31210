//! The stdio transport with a guard rmcp lacks: a cap on the length of one JSON-RPC line. An oversized
//! line is discarded (and logged), and the server goes on reading the next one.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Longest accepted JSON-RPC line (4 MiB): far above any real request, far below memory trouble.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Reads `input` line by line and returns a reader yielding only the lines of at most `max_line`
/// bytes (newline included). Ends when `input` ends.
pub fn bounded_lines<R>(input: R, max_line: usize) -> DuplexStream
where
    R: AsyncRead + Unpin + Send + 'static,
{
    let (reader, writer) = tokio::io::duplex(256 * 1024);
    tokio::spawn(forward(input, writer, max_line));
    reader
}

async fn forward<R: AsyncRead + Unpin>(mut input: R, mut out: DuplexStream, max_line: usize) {
    let mut line: Vec<u8> = Vec::new();
    let mut discarding = false;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut rest = chunk.get(..n).unwrap_or_default();
        while !rest.is_empty() {
            let (part, newline) = match rest.iter().position(|b| *b == b'\n') {
                Some(i) => (rest.get(..=i).unwrap_or_default(), true),
                None => (rest, false),
            };
            rest = rest.get(part.len()..).unwrap_or_default();
            if !discarding {
                if line.len() + part.len() > max_line {
                    tracing::warn!(
                        limit = max_line,
                        "discarding an oversized JSON-RPC line from stdin"
                    );
                    line.clear();
                    discarding = true;
                } else {
                    line.extend_from_slice(part);
                }
            }
            if newline {
                if !discarding && out.write_all(&line).await.is_err() {
                    return;
                }
                line.clear();
                discarding = false;
            }
        }
    }
    // A last line without a newline is still a message.
    if !discarding && !line.is_empty() {
        let _ = out.write_all(&line).await;
    }
    let _ = out.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(input: &'static [u8], max: usize) -> String {
        let mut out = bounded_lines(input, max);
        let mut text = String::new();
        out.read_to_string(&mut text).await.unwrap();
        text
    }

    #[tokio::test]
    async fn passes_short_lines_and_drops_long_ones() {
        assert_eq!(run(b"a\nbbbbbbbbbb\nc\n", 5).await, "a\nc\n");
        assert_eq!(run(b"ok\nlast", 5).await, "ok\nlast");
        assert_eq!(run(b"toolongtail", 5).await, "");
        assert_eq!(run(b"", 5).await, "");
    }
}
