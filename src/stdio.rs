//! The stdio transport. Standard input and output are driven by the I/O reactor when they are pipes
//! (Python and most launchers) or sockets (Node-based clients: Claude Desktop, Cursor, the
//! Inspector spawn servers over socket pairs), so a message costs no hand-off to a blocking thread;
//! anything else (a terminal, a file) falls back to Tokio's blocking handles. Over any of them runs
//! our own JSON-RPC transport ([`StdioTransport`]): a line the server cannot process gets the answer
//! JSON-RPC 2.0 prescribes and a notification never gets one, a request whose id is still in flight
//! is refused, and a line is capped (an oversized one is discarded, logged and answered), the server
//! reading on.

mod codec;
mod transport;
mod triage;

#[cfg(unix)]
use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
#[cfg(unix)]
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use tokio::io::{AsyncRead, AsyncWrite};

pub use transport::StdioTransport;

/// Longest accepted JSON-RPC line (4 MiB): far above any real request, far below memory trouble.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Standard input, however it is driven.
pub type Input = Box<dyn AsyncRead + Send + Unpin>;
/// Standard output, however it is driven.
pub type Output = Box<dyn AsyncWrite + Send + Unpin>;

/// The server's transport over the process's standard input and output. Must be called inside the
/// runtime.
pub fn transport() -> StdioTransport<Input, Output> {
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
    over(input, output, MAX_LINE_BYTES)
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
