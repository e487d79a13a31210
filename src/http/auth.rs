//! Who may call (HTTP): the three modes of [`Access`], the credential a request carries, the
//! [`Caller`] it becomes, and the 401 answer that says how to authenticate. A credential is taken
//! off the request once read, so nothing past this layer (rmcp, the tools, a log line) holds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::tokens::{self, Digest, TokenFile};
use crate::api::{ApiKey, KeyMode, SolvaPayClient};
use crate::policy::{ToolPolicy, ToolSelection, UnknownName};
use crate::server::Caller;

/// Most callers' clients kept at once in caller-key mode; past it the memory starts afresh.
const MAX_REMEMBERED_KEYS: usize = 4096;

/// Who may call, chosen by the deployment.
#[derive(Debug)]
pub enum Access {
    /// Each request brings its own SolvaPay key (`Authorization: Bearer sk_…` or `X-API-Key`).
    CallerKeys(CallerKeys),
    /// The operator holds the key; callers present operator tokens (`Authorization: Bearer smt_…`).
    Tokens(HashMap<Digest, Caller>),
    /// No credential: the in-process sandbox on a loopback address.
    Anonymous,
}

/// Caller-key mode: the client every caller's is derived from, and the tools each kind of key
/// may use (the live-key guard applies to a caller with a live key).
#[derive(Debug)]
pub struct CallerKeys {
    base: SolvaPayClient,
    sandbox: Arc<ToolPolicy>,
    live: Arc<ToolPolicy>,
    /// Callers seen, by the SHA-256 of their key: each keeps its client (and what SolvaPay said
    /// of its key) from one request to the next. Losing it loses nothing but that memory.
    seen: Mutex<HashMap<Digest, Caller>>,
}

impl Access {
    /// Caller-key mode: clients derived from `base`, tools as `selection` resolves for each key.
    pub fn caller_keys(
        base: SolvaPayClient,
        selection: &ToolSelection,
    ) -> Result<Self, UnknownName> {
        Ok(Self::CallerKeys(CallerKeys {
            base,
            sandbox: Arc::new(selection.resolve(Some(KeyMode::Sandbox))?),
            live: Arc::new(selection.resolve(Some(KeyMode::Live))?),
            seen: Mutex::default(),
        }))
    }

    /// Token mode: each token of `file` calls through `api`, with `policy` narrowed by its grant.
    pub fn tokens(
        file: &TokenFile,
        api: &SolvaPayClient,
        policy: &ToolPolicy,
    ) -> Result<Self, UnknownName> {
        let mut callers = HashMap::new();
        for (digest, grant) in file.iter() {
            let narrowed = policy.narrowed(grant.toolsets.as_deref(), grant.read_only)?;
            callers.insert(
                *digest,
                Caller {
                    name: grant.name.as_str().into(),
                    api: api.clone(),
                    policy: Arc::new(narrowed),
                },
            );
        }
        Ok(Self::Tokens(callers))
    }

    /// The caller `headers` authenticate (`None` in anonymous mode), or why not.
    pub fn admit(&self, headers: &HeaderMap) -> Result<Option<Caller>, Refusal> {
        let credential = Credential::of(headers);
        match self {
            Self::Anonymous => Ok(None),
            Self::CallerKeys(keys) => match credential {
                Credential::Key(key) => Ok(Some(keys.caller(key))),
                Credential::Token(_) => Err(Refusal::TokenToKeyServer),
                Credential::None | Credential::Other => Err(Refusal::NoKey),
            },
            Self::Tokens(callers) => match credential {
                Credential::Token(token) => callers
                    .get(&tokens::digest(token))
                    .cloned()
                    .map(Some)
                    .ok_or(Refusal::UnknownToken),
                Credential::Key(_) => Err(Refusal::KeyToTokenServer),
                Credential::None | Credential::Other => Err(Refusal::NoToken),
            },
        }
    }
}

impl CallerKeys {
    fn caller(&self, key: &str) -> Caller {
        let digest = tokens::digest(key);
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(caller) = seen.get(&digest) {
            return caller.clone();
        }
        if seen.len() >= MAX_REMEMBERED_KEYS {
            seen.clear();
        }
        let key = ApiKey::new(key);
        let policy = match key.mode() {
            KeyMode::Sandbox => self.sandbox.clone(),
            KeyMode::Live | KeyMode::Unrecognised => self.live.clone(),
        };
        let hex = tokens::hex(&digest);
        let caller = Caller {
            name: format!("key …{}", hex.get(hex.len() - 4..).unwrap_or_default()).into(),
            api: self.base.for_key(key),
            policy,
        };
        seen.insert(digest, caller.clone());
        caller
    }
}

/// The credential a request carries.
enum Credential<'a> {
    None,
    /// A SolvaPay secret key (`sk_…`).
    Key(&'a str),
    /// An operator token (`smt_…`).
    Token(&'a str),
    /// Something else.
    Other,
}

impl<'a> Credential<'a> {
    fn of(headers: &'a HeaderMap) -> Self {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .and_then(|v| {
                v.split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            })
            .map(|(_, value)| value.trim());
        let api_key = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        match bearer.or(api_key) {
            None if headers.contains_key(header::AUTHORIZATION) => Self::Other,
            None => Self::None,
            Some(value) if value.starts_with(tokens::PREFIX) => Self::Token(value),
            Some(value) if value.starts_with("sk_") => Self::Key(value),
            Some(_) => Self::Other,
        }
    }
}

/// Why a request is refused with 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Caller-key mode, no key.
    NoKey,
    /// Caller-key mode, an operator token.
    TokenToKeyServer,
    /// Token mode, no token.
    NoToken,
    /// Token mode, a token not in the file.
    UnknownToken,
    /// Token mode, a SolvaPay key.
    KeyToTokenServer,
}

impl Refusal {
    /// What the caller is told: what was wrong and how to authenticate.
    pub fn message(self) -> &'static str {
        match self {
            Self::NoKey => {
                "This server calls SolvaPay with your own secret key: send it on every request \
                 as `Authorization: Bearer sk_…` or `X-API-Key: sk_…`."
            }
            Self::TokenToKeyServer => {
                "This server takes SolvaPay secret keys, not operator tokens: send your key as \
                 `Authorization: Bearer sk_…` or `X-API-Key: sk_…`."
            }
            Self::NoToken => {
                "This server admits callers with operator tokens: send yours as \
                 `Authorization: Bearer smt_…` (the operator issues them with \
                 `solvapay-mcp token new`)."
            }
            Self::UnknownToken => {
                "Unknown operator token: send a token this server's operator issued, as \
                 `Authorization: Bearer smt_…`."
            }
            Self::KeyToTokenServer => {
                "This server does not take SolvaPay keys (its operator holds the key): send \
                 your operator token as `Authorization: Bearer smt_…`, and do not send your \
                 secret key here."
            }
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {"code": "UNAUTHORIZED", "message": self.message()}
        });
        let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    }
}

/// The middleware in front of `/mcp`: admits the request's caller (into its extensions) and
/// removes the credential from the request, or answers 401.
pub async fn authenticate(
    State(access): State<Arc<Access>>,
    mut request: Request,
    next: Next,
) -> Response {
    match access.admit(request.headers()) {
        Ok(caller) => {
            let headers = request.headers_mut();
            headers.remove(header::AUTHORIZATION);
            headers.remove("x-api-key");
            if let Some(caller) = caller {
                tracing::debug!(caller = %caller.name, "request admitted");
                request.extensions_mut().insert(caller);
            }
            next.run(request).await
        }
        Err(refusal) => {
            tracing::debug!(?refusal, "request refused");
            refusal.into_response()
        }
    }
}
