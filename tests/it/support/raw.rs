//! A raw TCP upstream for wire faults wiremock cannot make: resets, truncated bodies, stalls.
//! Either one fault for every request ([`RawUpstream::start`]), or a small route table where some
//! routes answer JSON and others fail ([`RawUpstream::start_routed`]), e.g. a refund whose lookups
//! succeed and whose POST is cut off.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

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
    /// Announce a 200 JSON body of 100 bytes, send 10, then reset the connection (RST, not FIN).
    ResetMidBody,
}

/// What a routed fixture answers on one route.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// A complete answer with this status and JSON body.
    Json(u16, Value),
    /// The wire fault.
    Fault(Fault),
}

/// `(method, path without query, reply)`; unmatched requests answer 599.
type Routes = Arc<Vec<(&'static str, &'static str, Reply)>>;

/// A running fixture: its base URL and how many requests it has read.
pub(crate) struct RawUpstream {
    pub(crate) url: String,
    requests: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl RawUpstream {
    /// A fixture failing every request with `fault`.
    pub(crate) async fn start(fault: Fault) -> Self {
        Self::start_with(None, Some(fault)).await
    }

    /// A fixture answering by route (see [`Reply`]).
    pub(crate) async fn start_routed(routes: Vec<(&'static str, &'static str, Reply)>) -> Self {
        Self::start_with(Some(Arc::new(routes)), None).await
    }

    async fn start_with(routes: Option<Routes>, fault: Option<Fault>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (counter, log) = (requests.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (counter, log, routes) = (counter.clone(), log.clone(), routes.clone());
                tokio::spawn(async move { serve(stream, routes, fault, counter, log).await });
            }
        });
        Self {
            url,
            requests,
            seen,
        }
    }

    /// Requests read so far, all routes together.
    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Requests read so far with this method and path (query ignored).
    pub(crate) fn requests_to(&self, method: &str, path: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p)| m == method && p == path)
            .count()
    }
}

async fn serve(
    mut stream: TcpStream,
    routes: Option<Routes>,
    fault: Option<Fault>,
    counter: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
) {
    // Serve requests on this connection until the fault closes it.
    loop {
        let Some((verb, target)) = read_request(&mut stream).await else {
            return;
        };
        let path = target.split('?').next().unwrap_or_default().to_owned();
        counter.fetch_add(1, Ordering::SeqCst);
        seen.lock().unwrap().push((verb.clone(), path.clone()));
        let reply = match (&routes, fault) {
            (_, Some(fault)) => Reply::Fault(fault),
            (Some(routes), None) => routes
                .iter()
                .find(|(m, p, _)| *m == verb && *p == path)
                .map_or_else(
                    || Reply::Json(599, Value::String("unexpected request in test".into())),
                    |(_, _, reply)| reply.clone(),
                ),
            (None, None) => return,
        };
        let fault = match reply {
            Reply::Json(status, body) => {
                let body = body.to_string();
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                if stream.write_all(head.as_bytes()).await.is_err()
                    || stream.write_all(body.as_bytes()).await.is_err()
                {
                    return;
                }
                continue;
            }
            Reply::Fault(fault) => fault,
        };
        match fault {
            Fault::ResetAfterRequest => return,
            Fault::ResetMidBody => {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"referenc")
                    .await;
                let _ = stream.flush().await;
                // Let the client read the partial body, then reset instead of closing.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = stream.set_zero_linger();
                return;
            }
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

/// Reads one request (headers and a `content-length` body) and returns its method and target;
/// `None` when the peer closed.
async fn read_request(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => return None,
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
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    }
    let original = String::from_utf8_lossy(&buf[..header_end]);
    let mut request_line = original.lines().next().unwrap_or_default().split(' ');
    let verb = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    Some((verb, target))
}
