//! A person behind an MCP client: answers every confirmation the same way and remembers the
//! questions. [`Confirmer`] speaks the 2025-11-25 era (`elicitation/create` requests);
//! [`Modern`] negotiates 2026-07-28, where the server asks through input-required results and
//! rmcp's client drives the rounds through the same handler.

use std::sync::{Arc, Mutex};

use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
    Implementation, ProtocolVersion,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::json;
use solvapay_mcp::{BillingServer, stdio};

/// A client that answers every confirmation with `answer` (`None`: declares no elicitation) and
/// records the questions.
#[derive(Clone, Default)]
pub(crate) struct Confirmer {
    pub(crate) answer: Option<ElicitationAction>,
    pub(crate) questions: Arc<Mutex<Vec<String>>>,
}

impl Confirmer {
    /// A person who answers `answer`.
    pub(crate) fn answering(answer: ElicitationAction) -> Self {
        Self {
            answer: Some(answer),
            ..Self::default()
        }
    }

    /// The questions asked so far.
    pub(crate) fn asked(&self) -> Vec<String> {
        self.questions.lock().unwrap().clone()
    }

    fn capabilities(&self) -> ClientCapabilities {
        match self.answer {
            Some(_) => serde_json::from_value(json!({"elicitation": {"form": {}}})).unwrap(),
            None => ClientCapabilities::default(),
        }
    }

    fn answer(&self, request: ElicitRequestParams) -> ElicitResult {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = request {
            self.questions.lock().unwrap().push(message);
        }
        let action = self.answer.clone().unwrap_or(ElicitationAction::Decline);
        let mut result = ElicitResult::new(action.clone());
        if matches!(action, ElicitationAction::Accept) {
            result.content = Some(json!({"confirm": true}));
        }
        result
    }
}

impl ClientHandler for Confirmer {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(self.capabilities(), Implementation::new("confirmer", "1"))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        Ok(self.answer(request))
    }
}

/// The same person behind a 2026-07-28 client (connect it with [`Modern::serve_modern`]).
#[derive(Clone, Default)]
pub(crate) struct Modern(pub(crate) Confirmer);

impl Modern {
    /// Starts the stateless lifecycle over `transport`: `server/discover`, then every request
    /// carries its protocol version and capabilities in `_meta`.
    pub(crate) async fn serve_modern<T, E, A>(
        self,
        transport: T,
    ) -> RunningService<RoleClient, Self>
    where
        T: rmcp::transport::IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let lifecycle = ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        };
        self.serve_with_lifecycle(transport, lifecycle)
            .await
            .unwrap()
    }
}

impl ClientHandler for Modern {
    fn get_info(&self) -> ClientConfig {
        self.0.get_info()
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        Ok(self.0.answer(request))
    }
}

/// `handler` connected in-process to `server` (2025-11-25, `initialize`).
pub(crate) async fn connect_as<H: ClientHandler>(
    handler: H,
    server: BillingServer,
) -> RunningService<RoleClient, H> {
    handler.serve(in_process(server)).await.unwrap()
}

/// `person` connected in-process to `server` on 2026-07-28.
pub(crate) async fn connect_modern(
    person: Confirmer,
    server: BillingServer,
) -> RunningService<RoleClient, Modern> {
    Modern(person).serve_modern(in_process(server)).await
}

/// `server` on its own stdio transport over an in-memory pipe; the client's end.
fn in_process(server: BillingServer) -> tokio::io::DuplexStream {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let (input, output) = tokio::io::split(server_io);
    let transport = stdio::over(input, output, stdio::MAX_LINE_BYTES);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(transport).await {
            let _ = running.waiting().await;
        }
    });
    client_io
}
