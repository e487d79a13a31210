//! The stdio transport. Standard input and output are driven by the I/O reactor when they are pipes
//! (Python and most launchers) or sockets (Node-based clients: Claude Desktop, Cursor, the
//! Inspector spawn servers over socket pairs), so a message costs no hand-off to a blocking thread;
//! anything else (a terminal, a file) falls back to Tokio's blocking handles. Over any of them runs
//! our own JSON-RPC transport ([`StdioTransport`]): a line the server cannot process gets the answer
//! JSON-RPC 2.0 prescribes and a notification never gets one, a request whose id is still in flight
//! is refused, and a line is capped (an oversized one is discarded, logged and answered), the server
//! reading on.
//!
//! Started by a person at a terminal (stdin a TTY), it says on stderr what it is and what to run
//! instead, and answers each typed line that is not JSON with a word on stderr too (stdout gets
//! the JSON-RPC answer as always).

mod codec;
mod transport;
mod triage;

use std::io::{self, IsTerminal, Write};
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
#[cfg(unix)]
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use tokio::io::{AsyncRead, AsyncWrite};

pub use transport::StdioTransport;

/// Longest accepted JSON-RPC line (4 MiB): far above any real request, far below memory trouble.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Said once on stderr when the server starts with a terminal for stdin.
pub const AT_A_TERMINAL: &str = "solvapay-mcp: this is an MCP server, waiting for an MCP client \
    to send JSON-RPC messages on stdin (Ctrl-D ends it). At a terminal, run `solvapay-mcp tools` \
    to list the tools, `solvapay-mcp call TOOL '{...}'` to call one, or `solvapay-mcp config \
    <client>` for an MCP client's configuration (`solvapay-mcp --help` for more).";

/// Said on stderr for each line typed at the terminal that is not JSON.
pub const NOT_JSON: &str = "solvapay-mcp: that line is not JSON; this server reads JSON-RPC \
    messages from an MCP client (the answer on stdout is a parse error). For a person: \
    `solvapay-mcp tools`, `solvapay-mcp call`, `solvapay-mcp --help`.";

/// Writes `text` on stderr, for the person at the terminal (outside the logs: whatever RUST_LOG
/// says, they see it).
pub(crate) fn tell(text: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{text}");
    let _ = err.flush();
}

/// Standard input, however it is driven.
pub type Input = Box<dyn AsyncRead + Send + Unpin>;
/// Standard output, however it is driven.
pub type Output = Box<dyn AsyncWrite + Send + Unpin>;

/// The server's transport over the process's standard input and output. Must be called inside the
/// runtime.
pub fn transport() -> StdioTransport<Input, Output> {
    let at_terminal = io::stdin().is_terminal();
    if at_terminal {
        tell(AT_A_TERMINAL);
    }
    let (input, output): (Input, Output) = match sockets() {
        Some((input, output)) => {
            tracing::debug!("stdin and stdout are sockets: non-blocking");
            (Box::new(input), Box::new(output))
        }
        // Pipes are reopened privately non-blocking by rmcp; anything else stays blocking.
        None => {
            let (input, output) = rmcp::transport::stdio_pipes();
            (Box::new(input), Box::new(output))
        }
    };
    over(input, output, MAX_LINE_BYTES).at_terminal(at_terminal)
}

/// stdin and stdout as non-blocking sockets, when both are sockets and stdout is not also stderr
/// (non-blocking mode belongs to the socket, and log writes to stderr must not meet `EAGAIN`).
#[cfg(unix)]
fn sockets() -> Option<(tokio::net::UnixStream, tokio::net::UnixStream)> {
    let stdin = socket(io::stdin().as_fd())?;
    let stdout = socket(io::stdout().as_fd())?;
    if identity(io::stdout().as_fd()) == identity(io::stderr().as_fd()) {
        return None;
    }
    let stream = |fd: OwnedFd| {
        let socket = std::os::unix::net::UnixStream::from(fd);
        socket.set_nonblocking(true).ok()?;
        tokio::net::UnixStream::from_std(socket).ok()
    };
    Some((stream(stdin)?, stream(stdout)?))
}

/// Off Unix (Windows): never sockets; the blocking handles serve.
#[cfg(not(unix))]
fn sockets() -> Option<(tokio::io::Stdin, tokio::io::Stdout)> {
    None
}

/// A duplicate of `fd` when it is a socket.
#[cfg(unix)]
fn socket(fd: BorrowedFd<'_>) -> Option<OwnedFd> {
    let file = std::fs::File::from(fd.try_clone_to_owned().ok()?);
    let is_socket = file.metadata().ok()?.file_type().is_socket();
    is_socket.then(|| OwnedFd::from(file))
}

/// Which object `fd` refers to (device and inode).
#[cfg(unix)]
fn identity(fd: BorrowedFd<'_>) -> Option<(u64, u64)> {
    let file = std::fs::File::from(fd.try_clone_to_owned().ok()?);
    file.metadata().ok().map(|m| (m.dev(), m.ino()))
}

/// The same framing over any reader and writer, lines capped at `max_line` bytes (tests, fuzzing).
pub fn over<R, W>(input: R, output: W, max_line: usize) -> StdioTransport<R, W>
where
    R: AsyncRead + Send + Unpin,
    W: AsyncWrite + Send + Unpin + 'static,
{
    StdioTransport::new(input, output, max_line)
}
