//! The MCP server: the per-domain tool routers summed into one, server identity and instructions, and
//! the single place every tool call passes through.

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::api::SolvaPayClient;
use crate::error::{ErrorCode, ToolError};
use crate::tools::catalog;

/// What the model is told about this server once, at connection time.
pub const INSTRUCTIONS: &str = "SolvaPay billing tools. Money is always an integer in minor units \
(2500 = $25.00 in USD; JPY has no minor unit); results also give a formatted amount. References carry \
prefixes: cus_ customer, prd_ product, pln_ plan, pur_ purchase, txn_ transaction. Use ensure_customer \
(not create_customer) to get-or-create a customer safely. Lists are paged: follow nextOffset. \
Errors come back as {success:false,error:{code,message}} with codes NOT_FOUND, VALIDATION_ERROR, \
UNAUTHORIZED, INTERNAL_ERROR.";

/// Prefix rmcp puts on argument-decoding failures (kept in sync with rmcp 3.11).
const DESERIALIZE_PREFIX: &str = "failed to deserialize parameters";

/// The SolvaPay MCP server. Cheap to clone (one shared client).
#[derive(Clone)]
pub struct BillingServer {
    api: SolvaPayClient,
    tools: ToolRouter<Self>,
}

impl std::fmt::Debug for BillingServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BillingServer")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl BillingServer {
    /// A server exposing every tool through `api`.
    pub fn new(api: SolvaPayClient) -> Self {
        let tools = catalog::annotate(
            Self::customer_tools()
                + Self::usage_tools()
                + Self::transaction_tools()
                + Self::revenue_tools(),
        );
        Self { api, tools }
    }

    /// The SolvaPay client the tools call.
    pub(crate) fn api(&self) -> &SolvaPayClient {
        &self.api
    }

    /// The tools this server lists, sorted by name.
    pub fn tools(&self) -> Vec<Tool> {
        self.tools.list_all()
    }
}

impl ServerHandler for BillingServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
                    .with_title("SolvaPay billing"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.clone();
        let call = ToolCallContext::new(self, request, context);
        let response = self.tools.call(call).await?;
        tracing::debug!(tool = %name, "tool call finished");
        Ok(normalize_argument_errors(response))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut result = ListToolsResult::with_all_items(self.tools.list_all());
        if context
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
        {
            // The tool list changes only with the server's configuration.
            result = result
                .with_ttl_ms(60_000)
                .with_cache_scope(CacheScope::Public);
        }
        Ok(result)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.get(name).cloned()
    }
}

/// rmcp answers undecodable arguments (wrong type, unknown field) with a bare text error; give them the
/// same `VALIDATION_ERROR` envelope as every other bad argument.
fn normalize_argument_errors(response: CallToolResponse) -> CallToolResponse {
    let CallToolResponse::Complete(result) = &response else {
        return response;
    };
    if result.is_error != Some(true) || result.structured_content.is_some() {
        return response;
    }
    let text = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join(" ");
    if !text.starts_with(DESERIALIZE_PREFIX) {
        return response;
    }
    let detail = text
        .trim_start_matches(DESERIALIZE_PREFIX)
        .trim_start_matches(':')
        .trim();
    let error = ToolError::new(
        ErrorCode::ValidationError,
        format!("Invalid arguments: {}", crate::api::sanitize(detail, 300)),
    );
    match rmcp::handler::server::tool::IntoCallToolResult::into_call_tool_result(error) {
        Ok(mut converted) => {
            if let CallToolResponse::Complete(r) = &mut converted {
                r.is_error = Some(true);
            }
            converted
        }
        Err(_) => response,
    }
}
