//! The MCP server (the MCP layer's top): the per-domain tool routers summed into one and annotated
//! from the catalog, server identity and instructions, and the single place every tool call passes
//! through (enabled? confirmed? audited? redacted?).

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult,
    ContentBlock, GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tokio_util::task::TaskTracker;

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use serde_json::value::RawValue;

use crate::api::SolvaPayClient;
use crate::audit::{self, AuditError, AuditLog, CallId, Finish, Outcome as Audited};
use crate::caller::Caller;
use crate::catalog::{self, ToolSpec};
use crate::confirm::{self, Confirmer, Consent};
use crate::error::{Advice, ErrorKind, ToolError, report};
use crate::metrics;
use crate::options::ServerOptions;
use crate::redact::Redactor;

/// What the model is told about this server once, at connection time.
pub const INSTRUCTIONS: &str = "SolvaPay billing tools. Money is always an integer in minor units \
(2500 = $25.00 in USD; JPY has no minor unit); results also give a formatted amount. References carry \
prefixes: cus_ customer, prd_ product, pln_ plan, pur_ purchase, txn_ transaction. Use ensure_customer \
(not create_customer) to get-or-create a customer safely. Lists are paged: follow nextOffset. \
Errors come back as {success:false,error:{code,message}} with codes NOT_FOUND, VALIDATION_ERROR, \
UNAUTHORIZED, INTERNAL_ERROR.";

/// The SolvaPay MCP server. Cheap to clone (one shared client, one shared tool router): the
/// HTTP transport clones it per request.
#[derive(Clone)]
pub struct BillingServer {
    api: SolvaPayClient,
    tools: Arc<ToolRouter<Self>>,
    in_flight: TaskTracker,
    options: Arc<ServerOptions>,
    confirmer: Arc<Confirmer>,
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
        Self::with_options(api, ServerOptions::default())
    }

    /// A server exposing the tools `options.policy` enables, with its guards.
    pub fn with_options(api: SolvaPayClient, options: ServerOptions) -> Self {
        let mut tools = catalog::annotate(
            Self::customer_tools()
                + Self::product_tools()
                + Self::plan_tools()
                + Self::purchase_tools()
                + Self::checkout_tools()
                + Self::usage_tools()
                + Self::transaction_tools()
                + Self::refund_tools()
                + Self::revenue_tools()
                + Self::revenue_metrics_tools()
                + Self::credit_tools(),
        );
        // The schemas as clients get them: standard, plain, with the older argument names.
        tools = crate::schema::lean(tools);
        let names: Vec<String> = tools
            .list_all()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        for name in names.iter().filter(|n| !options.policy.allows(n)) {
            tools.remove_route(name);
        }
        Self {
            api,
            tools: Arc::new(tools),
            in_flight: TaskTracker::new(),
            confirmer: Arc::new(Confirmer::new(
                options.confirm,
                options.confirm_timeout,
                &options.request_state_key,
                options.state.as_ref(),
            )),
            options: Arc::new(options),
        }
    }

    /// The operator's options.
    pub(crate) fn options(&self) -> &ServerOptions {
        &self.options
    }

    /// Asks the person to confirm a call (see [`crate::confirm`]).
    pub(crate) fn confirmer(&self) -> &Confirmer {
        &self.confirmer
    }

    /// Tool calls still running. At shutdown, `close()` it and `wait()` (with a grace period) so
    /// that writes already sent finish and their outcome is recorded.
    pub fn in_flight(&self) -> TaskTracker {
        self.in_flight.clone()
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
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_prompts()
            .enable_resources()
            .enable_completions()
            .build();
        ServerConfig::new(capabilities)
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
        match Caller::of(&context).cloned() {
            Some(caller) if !caller.policy.allows(&request.name) => {
                // Not this caller's: as unknown (and counted as unknown) as a tool the server
                // does not have.
                metrics::unknown_tool();
                Err(ErrorData::invalid_params("tool not found", None))
            }
            Some(caller) => self.for_caller(&caller).call(request, context).await,
            None => self.call(request, context).await,
        }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut tools = self.tools.list_all();
        if let Some(caller) = Caller::of(&context) {
            tools.retain(|t| caller.policy.allows(&t.name));
        }
        if crate::apps::renders(&context) {
            crate::apps::with_views(&mut tools);
        }
        Ok(ListToolsResult::with_all_items(tools).cached(&context))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.get(name).cloned()
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let prompts = crate::prompts::list(|tool| self.may_call(tool, &context));
        Ok(ListPromptsResult::with_all_items(prompts).cached(&context))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        let today = self.options().clock.now().date();
        crate::prompts::get(&request.name, &arguments, today, |tool| {
            self.may_call(tool, &context)
        })
        .map(Into::into)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resources = crate::resources::list(self, &context);
        Ok(ListResourcesResult::with_all_items(resources).cached(&context))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let templates = crate::resources::templates(self, &context);
        Ok(ListResourceTemplatesResult::with_all_items(templates).cached(&context))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let server = self.serving(&context);
        crate::resources::read(&server, &request.uri, &context)
            .await
            .map(Into::into)
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let server = self.serving(&context);
        crate::completion::complete(&server, &request, |tool| self.may_call(tool, &context)).await
    }
}

impl BillingServer {
    /// Whether the request `context` belongs to may call `tool`: this server has it on, and
    /// over HTTP the caller's policy allows it. Prompts, resources and completion answer only
    /// with what such tools could read.
    pub(crate) fn may_call(&self, tool: &str, context: &RequestContext<RoleServer>) -> bool {
        self.tools.has_route(tool) && Caller::of(context).is_none_or(|c| c.policy.allows(tool))
    }

    /// This server as the request `context` belongs to is served: through the caller's client
    /// over HTTP, through its own over stdio.
    pub(crate) fn serving(&self, context: &RequestContext<RoleServer>) -> Self {
        match Caller::of(context) {
            Some(caller) => self.for_caller(caller),
            None => self.clone(),
        }
    }

    /// This server, calling SolvaPay through `caller`'s client.
    fn for_caller(&self, caller: &Caller) -> Self {
        Self {
            api: caller.api.clone(),
            ..self.clone()
        }
    }

    /// A tool call, through this server's client: enabled? confirmed? audited? redacted?
    async fn call(
        &self,
        mut request: CallToolRequestParams,
        mut context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let spec = catalog::find(&name).filter(|_| self.tools.has_route(&name));
        let Some(spec) = spec else {
            metrics::unknown_tool();
            // Unknown or disabled: the same protocol error rmcp gives for an unknown tool.
            return Err(ErrorData::invalid_params("tool not found", None));
        };
        let measured = metrics::ToolCall::start(spec.name);
        // The MRTR answer of a retried call goes to the confirmation, not to the tool.
        context
            .extensions
            .insert(confirm::Answer::take(&mut request));
        let audit = self.options.audit.as_ref().filter(|_| !spec.read_only());
        let Some(audit) = audit else {
            let (response, failure) = report::scope(self.dispatch(spec, request, context)).await;
            measured.finish(counted(&response, failure.as_ref()));
            return redacted(self.api.redactor(), response);
        };
        // Write-ahead: the call is on record before it can send anything.
        // Over HTTP, the authenticated caller's name; over stdio there is one caller.
        let caller = Caller::of(&context).map(|c| c.name.clone());
        let caller = caller.as_deref();
        let call_id = match audit
            .start(
                &name,
                caller,
                &audit_arguments(self.api.redactor(), request.arguments.as_ref()),
            )
            .await
        {
            Ok(id) => id,
            Err(e) => {
                tracing::error!("{e}");
                measured.finish(ErrorKind::NotSent.counted());
                let advice = match e {
                    AuditError::Shared(_) => Advice::CheckSharedState,
                    _ => Advice::FixAuditLog,
                };
                return into_response(
                    ToolError::of(
                        ErrorKind::NotSent,
                        format!(
                            "Not sent: the audit log cannot be written ({e}); {name} was not run."
                        ),
                    )
                    .advise(advice),
                );
            }
        };
        let (response, failure) = report::scope(self.dispatch(spec, request, context)).await;
        // The last look before the answer leaves (and is audited): whatever a tool built from
        // SolvaPay's data, no secret goes with it.
        let response = redacted(self.api.redactor(), response);
        finish(audit, &call_id, &name, &response, failure.as_ref()).await;
        measured.finish(counted(&response, failure.as_ref()));
        response
    }

    /// The confirmation the catalog asks before the call (see [`Confirmer::before_call`]), then the
    /// tool, with panics answered as errors and cancelled reads dropped.
    async fn dispatch(
        &self,
        spec: &'static ToolSpec,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = spec.name;
        match self.confirmer.before_call(spec, &request, &context).await {
            Ok(Consent::Given) => {}
            Ok(Consent::Ask(input)) => return Ok(CallToolResponse::InputRequired(input)),
            // Only tools that confirm themselves have a review form (the catalog's rule).
            Ok(Consent::Review(_)) => {
                return into_response(ToolError::of(
                    ErrorKind::Internal,
                    format!("{name} was not run: its review form is shown by the tool itself."),
                ));
            }
            Err(refused) => return into_response(refused),
        }
        let cancelled = context.ct.clone();
        let call = ToolCallContext::new(self, request, context);
        // A panic in a handler answers this call with an error; the server goes on.
        let work = self
            .in_flight
            .track_future(AssertUnwindSafe(self.tools.call(call)).catch_unwind());
        let outcome = if spec.read_only() {
            // A cancelled read is dropped at once (its HTTP request with it). A write that may
            // already be on the wire runs to completion so its outcome is known and recorded.
            tokio::select! {
                outcome = work => outcome,
                () = cancelled.cancelled() => {
                    tracing::debug!(tool = %name, "read cancelled by the client");
                    return Err(ErrorData::internal_error("request cancelled", None));
                }
            }
        } else {
            work.await
        };
        match outcome {
            Ok(Ok(response)) => Ok(response),
            // rmcp answers with a protocol error when an extractor fails; ours (the arguments)
            // noted the typed reason, which becomes the result.
            Ok(Err(protocol)) => match report::noted() {
                Some(error) if matches!(error.kind(), ErrorKind::InvalidArgument { .. }) => {
                    into_response(error)
                }
                _ => Err(protocol),
            },
            Err(_) => {
                tracing::error!(tool = %name, "tool handler panicked");
                into_response(ToolError::of(
                    ErrorKind::Internal,
                    format!(
                        "{name} failed unexpectedly inside solvapay-mcp; the server is still running."
                    ),
                ))
            }
        }
    }
}

/// How long a 2026-07-28 client may cache a list (tools, prompts, resources, templates).
const LIST_TTL_MS: u64 = 60_000;

/// The cache scope of a list answered on `context`, for 2026-07-28 peers (older ones get no hint).
/// The lists change only with the server's configuration, over HTTP with the caller, and with
/// whether the client renders MCP Apps; a list of the latter two no one else may be served from a
/// cache.
fn cache_scope(context: &RequestContext<RoleServer>) -> Option<CacheScope> {
    let modern = context
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
    // A list that depends on who asks (an HTTP caller's grant) or on what the client declared
    // (the MCP Apps forms on the tools) is this client's own: a shared cache must not hand it on.
    modern.then(|| {
        if Caller::of(context).is_some() || crate::apps::renders(context) {
            CacheScope::Private
        } else {
            CacheScope::Public
        }
    })
}

/// Writes the outcome record of an audited call; a failure to write it is logged, never hidden.
async fn finish(
    log: &AuditLog,
    call_id: &CallId,
    tool: &str,
    response: &Result<CallToolResponse, ErrorData>,
    failure: Option<&ToolError>,
) {
    let mut finish = Finish::default();
    let message;
    let outcome = match response {
        Ok(CallToolResponse::Complete(result)) if crate::apps::is_review(result.meta.as_ref()) => {
            Audited::Asked
        }
        Ok(CallToolResponse::Complete(result)) if result.is_error != Some(true) => {
            finish.references = result
                .structured_content
                .as_ref()
                .map(audit::references)
                .unwrap_or_default();
            Audited::Ok
        }
        Ok(CallToolResponse::Complete(_)) => match failure {
            Some(e) => {
                finish.code = Some(e.code());
                message = e.message();
                finish.message = Some(&message);
                Audited::failed(e.kind())
            }
            None => Audited::Error,
        },
        Ok(CallToolResponse::InputRequired(_)) => Audited::Asked,
        Ok(_) => Audited::Ok,
        Err(e) => {
            finish.message = Some(&e.message);
            Audited::Error
        }
    };
    if let Err(e) = log.finish(call_id, tool, outcome, &finish).await {
        tracing::error!("could not write the audit log: {e}");
    }
}

/// A list result that may carry the 2026-07-28 caching hints.
trait Cached: Sized {
    fn hinted(self, ttl_ms: u64, scope: CacheScope) -> Self;

    /// The result with the hints `cache_scope` gives for `context` (none before 2026-07-28).
    fn cached(self, context: &RequestContext<RoleServer>) -> Self {
        match cache_scope(context) {
            Some(scope) => self.hinted(LIST_TTL_MS, scope),
            None => self,
        }
    }
}

macro_rules! cached {
    ($($list:ty),*) => {$(
        impl Cached for $list {
            fn hinted(self, ttl_ms: u64, scope: CacheScope) -> Self {
                self.with_ttl_ms(ttl_ms).with_cache_scope(scope)
            }
        }
    )*};
}

cached!(
    ListToolsResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult
);

/// How a call that answered `response` is counted in the metrics.
fn counted(
    response: &Result<CallToolResponse, ErrorData>,
    failure: Option<&ToolError>,
) -> metrics::CallOutcome {
    match response {
        Ok(CallToolResponse::Complete(result)) if result.is_error == Some(true) => {
            failure.map_or(metrics::CallOutcome::InternalError, |e| e.kind().counted())
        }
        Ok(CallToolResponse::Complete(result)) if crate::apps::is_review(result.meta.as_ref()) => {
            metrics::CallOutcome::Asked
        }
        Ok(CallToolResponse::InputRequired(_)) => metrics::CallOutcome::Asked,
        Ok(_) => metrics::CallOutcome::Ok,
        Err(_) => metrics::CallOutcome::ProtocolError,
    }
}

/// `response` with every secret scrubbed from its texts and structured content.
fn redacted(
    redactor: &Redactor,
    response: Result<CallToolResponse, ErrorData>,
) -> Result<CallToolResponse, ErrorData> {
    match response {
        Ok(CallToolResponse::Complete(mut result)) => {
            for block in &mut result.content {
                if let ContentBlock::Text(text) = block {
                    redactor.scrub_string(&mut text.text);
                }
            }
            if let Some(value) = &mut result.structured_content {
                redactor.scrub_json(value);
            }
            Ok(CallToolResponse::Complete(result))
        }
        Ok(other) => Ok(other),
        Err(mut error) => {
            if let Cow::Owned(message) = redactor.scrub_str(&error.message) {
                error.message = message.into();
            }
            if let Some(data) = &mut error.data {
                redactor.scrub_json(data);
            }
            Err(error)
        }
    }
}

/// The call's arguments as the audit log records them, with every secret `redactor` knows
/// scrubbed.
fn audit_arguments(
    redactor: &Redactor,
    arguments: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Box<RawValue> {
    let mut arguments = serde_json::Value::Object(arguments.cloned().unwrap_or_default());
    // The audit log's own redactor knows the deployment's key; over HTTP the caller's key is
    // known only to the caller's client, whose redactor this is.
    redactor.scrub_json(&mut arguments);
    let json = serde_json::to_string(&arguments).unwrap_or_else(|_| "{}".to_owned());
    RawValue::from_string(json).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

fn into_response(error: ToolError) -> Result<CallToolResponse, ErrorData> {
    rmcp::handler::server::tool::IntoCallToolResult::into_call_tool_result(error)
}
