//! The server's JSON-RPC transport: lines in, messages out, and the bookkeeping of requests in
//! flight. A line the server cannot process is answered here (see `triage`); a request whose id is
//! still in flight is refused with `-32600` and not run. Every request reaches rmcp under an id of
//! the transport's own, unique for the life of the process, and its answer goes back under the
//! client's id: rmcp keys its handlers by id and does not answer a cancelled request, so a client
//! that cancels a call and reuses its id must not meet the first call's late answer (rmcp would
//! send it for the second call, and drop the second call's own).
//!
//! Answers written here go through the same writer, under the same lock, as the server's
//! messages: lines never interleave.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::io;
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use rmcp::RoleServer;
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ErrorCode, JsonRpcError, JsonRpcMessage, RequestId,
    ServerJsonRpcMessage,
};
use rmcp::transport::Transport;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Mutex;
use tokio_util::codec::{FramedRead, FramedWrite};

use super::codec::{Frame, LineDecoder, MessageEncoder};
use super::triage::{self, Line};

type Writer<W> = FramedWrite<W, MessageEncoder>;

/// JSON-RPC over a reader and a writer, one message per line (see the module docs).
pub struct StdioTransport<R, W> {
    lines: FramedRead<R, LineDecoder>,
    max_line: usize,
    writer: Arc<Mutex<Option<Writer<W>>>>,
    requests: InFlight,
    /// An answer of the transport's own, waiting for the writer (kept here, not in a future, so
    /// a `receive` cancelled by the service loop loses nothing).
    answer: Option<ServerJsonRpcMessage>,
    /// An answer handed to the writer but not yet flushed.
    unflushed: bool,
    /// A person types the input: a line that is not JSON gets a word on stderr too.
    at_terminal: bool,
}

impl<R, W> StdioTransport<R, W>
where
    R: AsyncRead + Send + Unpin,
    W: AsyncWrite + Send + Unpin + 'static,
{
    pub(super) fn new(input: R, output: W, max_line: usize) -> Self {
        Self {
            lines: FramedRead::new(input, LineDecoder::new(max_line)),
            max_line,
            writer: Arc::new(Mutex::new(Some(FramedWrite::new(output, MessageEncoder)))),
            requests: InFlight::default(),
            answer: None,
            unflushed: false,
            at_terminal: false,
        }
    }

    /// Whether a person types the input at a terminal (then a line that is not JSON is also
    /// answered on stderr, in words).
    pub fn at_terminal(mut self, at_terminal: bool) -> Self {
        self.at_terminal = at_terminal;
        self
    }

    /// Writes and flushes the pending answer, if any.
    async fn write_answer(&mut self) -> io::Result<()> {
        let writer = self.writer.clone();
        let mut writer = writer.lock().await;
        let writer = writer.as_mut().ok_or_else(closed)?;
        if self.answer.is_some() {
            poll_fn(|cx| writer.poll_ready_unpin(cx)).await?;
            if let Some(answer) = self.answer.take() {
                writer.start_send_unpin(answer)?;
                self.unflushed = true;
            }
        }
        if self.unflushed {
            writer.flush().await?;
            self.unflushed = false;
        }
        Ok(())
    }

    fn refuse(&mut self, error: JsonRpcError) {
        tracing::warn!(
            code = error.error.code.0,
            id = ?error.id,
            "answering a message the server cannot process: {}",
            error.error.message
        );
        self.answer = Some(JsonRpcMessage::Error(error));
    }
}

impl<R, W> Transport<RoleServer> for StdioTransport<R, W>
where
    R: AsyncRead + Send + Unpin,
    W: AsyncWrite + Send + Unpin + 'static,
{
    type Error = io::Error;

    fn send(
        &mut self,
        mut message: ServerJsonRpcMessage,
    ) -> impl Future<Output = io::Result<()>> + Send + 'static {
        self.requests.answered(&mut message);
        let writer = self.writer.clone();
        async move {
            let mut writer = writer.lock().await;
            writer.as_mut().ok_or_else(closed)?.send(message).await
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            if (self.answer.is_some() || self.unflushed)
                && let Err(e) = self.write_answer().await
            {
                tracing::error!("could not write to stdout: {e}");
                return None;
            }
            let line = match self.lines.next().await? {
                Ok(Frame::Line(line)) => line,
                Ok(Frame::Oversized) => {
                    tracing::error!(
                        max_line_bytes = self.max_line,
                        "an incoming message exceeded the maximum line length, discarding it"
                    );
                    let why = format!("the line is longer than {} bytes", self.max_line);
                    self.refuse(triage::invalid_request(None, &why));
                    continue;
                }
                Err(e) => {
                    tracing::error!("could not read stdin: {e}");
                    return None;
                }
            };
            match triage::read(&line) {
                Line::Message(message) => match self.requests.admit(message) {
                    Admission::Forward(message) => return Some(message),
                    Admission::Refuse(error) => self.refuse(error),
                    Admission::Drop(why) => tracing::debug!("ignoring {why}"),
                },
                Line::Refused(error) => {
                    if self.at_terminal && error.error.code == ErrorCode::PARSE_ERROR {
                        super::tell(super::NOT_JSON);
                    }
                    self.refuse(error);
                }
                Line::Ignored(why) => tracing::debug!("ignoring {why}"),
            }
        }
    }

    async fn close(&mut self) -> io::Result<()> {
        let writer = self.writer.lock().await.take();
        if let Some(mut writer) = writer {
            writer.flush().await?;
        }
        Ok(())
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the transport is closed")
}

/// What becomes of a decoded message.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "moved once per message; boxing would cost an allocation per message"
)]
enum Admission {
    Forward(ClientJsonRpcMessage),
    Refuse(JsonRpcError),
    Drop(&'static str),
}

/// The client's requests the server has not answered yet, by the client's id and by the id the
/// server knows them under.
#[derive(Debug, Default)]
struct InFlight {
    by_client: HashMap<RequestId, i64>,
    by_server: HashMap<i64, RequestId>,
    last: i64,
}

impl InFlight {
    /// A request is forwarded under a fresh id unless its id is in flight; a cancellation is
    /// forwarded (and the id freed: rmcp answers no cancelled request) only for a request in flight.
    fn admit(&mut self, message: ClientJsonRpcMessage) -> Admission {
        match message {
            JsonRpcMessage::Request(mut request) => {
                if self.by_client.contains_key(&request.id) {
                    let why = format!(
                        "id {} is already in use by a request in flight",
                        serde_json::to_string(&request.id).unwrap_or_default()
                    );
                    return Admission::Refuse(triage::invalid_request(Some(request.id), &why));
                }
                self.last += 1;
                let ours = self.last;
                let theirs = std::mem::replace(&mut request.id, RequestId::Number(ours));
                tracing::debug!(id = ours, client_id = %theirs, "request admitted");
                self.by_client.insert(theirs.clone(), ours);
                self.by_server.insert(ours, theirs);
                Admission::Forward(JsonRpcMessage::Request(request))
            }
            JsonRpcMessage::Notification(mut notification) => {
                if let ClientNotification::CancelledNotification(cancelled) =
                    &mut notification.notification
                    && let Some(theirs) = &cancelled.params.request_id
                {
                    let Some(ours) = self.by_client.remove(theirs) else {
                        return Admission::Drop("a cancellation of a request not in flight");
                    };
                    self.by_server.remove(&ours);
                    cancelled.params.request_id = Some(RequestId::Number(ours));
                }
                Admission::Forward(JsonRpcMessage::Notification(notification))
            }
            message => Admission::Forward(message),
        }
    }

    /// The server answers a request: its id is the client's again, and free.
    fn answered(&mut self, message: &mut ServerJsonRpcMessage) {
        let id = match message {
            JsonRpcMessage::Response(response) => &mut response.id,
            JsonRpcMessage::Error(JsonRpcError { id: Some(id), .. }) => id,
            _ => return,
        };
        let RequestId::Number(ours) = *id else {
            return;
        };
        if let Some(theirs) = self.by_server.remove(&ours) {
            self.by_client.remove(&theirs);
            *id = theirs;
        }
    }
}

#[cfg(test)]
mod tests;
