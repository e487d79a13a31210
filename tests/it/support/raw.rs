//! A raw TCP upstream for wire faults wiremock cannot make: resets, truncated bodies, stalls.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fixture does with every request it reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    /// Read the request, then close without answering.
    ResetAfterRequest,
    /// Announce a 200 JSON body of 100 bytes, send 10, close.
    TruncatedBody,
    /// Read the request, wait this long before any byte of answer.
    SlowHeaders(Duration),
    /// Send the headers at once, then stall this long before the body.
    SlowBody(Duration),
    /// A 200 whose body is this many bytes of a JSON string.
    HugeBody(usize),
}

/// A running fixture: its base URL and how many requests it has read.
pub(crate) struct RawUpstream {
    pub(crate) url: String,
    requests: Arc<AtomicUsize>,
}

impl RawUpstream {
    pub(crate) async fn start(fault: Fault) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move { serve(stream, fault, counter).await });
            }
        });
        Self { url, requests }
    }

    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn serve(mut stream: TcpStream, fault: Fault, counter: Arc<AtomicUsize>) {
    // Serve requests on this connection until the fault closes it.
    loop {
        if !read_request(&mut stream).await {
            return;
        }
        counter.fetch_add(1, Ordering::SeqCst);
        match fault {
            Fault::ResetAfterRequest => return,
            Fault::TruncatedBody => {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"referenc")
                    .await;
                return;
            }
            Fault::SlowHeaders(wait) => {
                tokio::time::sleep(wait).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                    .await;
            }
            Fault::SlowBody(wait) => {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
                    .await;
                tokio::time::sleep(wait).await;
                let _ = stream.write_all(b"{}").await;
            }
            Fault::HugeBody(size) => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'a'; 64 * 1024];
                let mut sent = 0;
                while sent < size {
                    let frame = format!("{:x}\r\n", chunk.len());
                    if stream.write_all(frame.as_bytes()).await.is_err()
                        || stream.write_all(&chunk).await.is_err()
                        || stream.write_all(b"\r\n").await.is_err()
                    {
                        return;
                    }
                    sent += chunk.len();
                }
                let _ = stream.write_all(b"0\r\n\r\n").await;
            }
        }
    }
}

/// Reads one request (headers and a `content-length` body); false when the peer closed.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    }
    true
}
