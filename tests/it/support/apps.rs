//! An MCP Apps host for the tests: a client that declares the `io.modelcontextprotocol/ui`
//! extension (or not), accepts every form elicitation and counts them, and the binary on its demo
//! sandbox connected to it in either protocol era.

use std::sync::{Arc, Mutex};

use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
    Implementation, ProtocolVersion,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RequestContext, RunningService};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::json;

use super::bin::Home;
use super::eras::Era;

/// The MIME type of an App's HTML resource.
pub(crate) const MIME: &str = "text/html;profile=mcp-app";

/// A host: declares form elicitation (accepting every confirmation, and counting them) and, when
/// `apps`, the MCP Apps extension.
#[derive(Clone)]
pub(crate) struct Host {
    apps: bool,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Host {
    /// A host that declares the Apps extension when `apps`, and has been asked nothing yet.
    pub(crate) fn new(apps: bool) -> Self {
        Self {
            apps,
            asked: Arc::default(),
        }
    }

    /// The confirmations it was asked, in order.
    pub(crate) fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl ClientHandler for Host {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = json!({"elicitation": {"form": {}}});
        if self.apps {
            capabilities["extensions"] =
                json!({"io.modelcontextprotocol/ui": {"mimeTypes": [MIME]}});
        }
        let capabilities: ClientCapabilities = serde_json::from_value(capabilities).unwrap();
        ClientConfig::new(capabilities, Implementation::new("apps-host", "1"))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = request {
            self.asked.lock().unwrap().push(message);
        }
        let mut result = ElicitResult::new(ElicitationAction::Accept);
        result.content = Some(json!({"confirm": true}));
        Ok(result)
    }
}

pub(crate) type Connected = RunningService<RoleClient, Host>;

/// The binary on its demo sandbox in `home` (with `extra` flags), connected in `era` as `host`.
pub(crate) async fn start(home: &Home, era: Era, host: Host, extra: &[&str]) -> Connected {
    let command = home.command().configure(|c| {
        c.env("RUST_LOG", "warn").arg("--demo").args(extra);
    });
    let transport = TokioChildProcess::new(command).unwrap();
    match era {
        Era::Session => host.serve(transport).await.unwrap(),
        Era::Stateless => {
            let lifecycle = ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            };
            host.serve_with_lifecycle(transport, lifecycle)
                .await
                .unwrap()
        }
    }
}
