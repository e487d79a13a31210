//! What the client needs to reach SolvaPay: [`ClientSettings`] (where, with which key, within
//! which time, with which retries) and the [`ApiKey`] it sends. The client layer owns these types;
//! `config` fills them from the environment.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::RetryPolicy;

/// Longest wait for a TCP/TLS connection, whatever the attempt timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Per-attempt timeout unless the operator sets another.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// Everything [`SolvaPayClient::new`](super::SolvaPayClient::new) is built from.
#[derive(Clone)]
pub struct ClientSettings {
    /// Secret key; `None`: every call answers [`ApiError::MissingKey`](super::ApiError::MissingKey).
    pub key: Option<ApiKey>,
    /// Base URL of the public `/v1/sdk/*` routes.
    pub base_url: Url,
    /// Base URL of the `/v1/ui/*` dashboard routes.
    pub ui_base_url: Url,
    /// Longest time one attempt may take (connection, request and answer).
    pub attempt_timeout: Duration,
    /// Longest wait for a connection (capped by `attempt_timeout`).
    pub connect_timeout: Duration,
    /// Retries and the whole-call time budget.
    pub retry: RetryPolicy,
}

impl ClientSettings {
    /// Settings for `base_url` (both route families) with `key` and the default timeouts and retries.
    pub fn new(base_url: Url, key: Option<ApiKey>) -> Self {
        Self {
            key,
            ui_base_url: base_url.clone(),
            base_url,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }
}

impl fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSettings")
            .field("key", &self.key)
            .field("base_url", &self.base_url.as_str())
            .field("ui_base_url", &self.ui_base_url.as_str())
            .field("attempt_timeout", &self.attempt_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A SolvaPay secret key. Its `Debug` prints only the kind of key.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Wraps a key; surrounding whitespace (a common copy-paste slip) is removed.
    pub fn new(raw: &str) -> Self {
        Self(SecretString::from(raw.trim().to_owned()))
    }

    /// The key itself, for the `Authorization` header and the redactors only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Which environment the key addresses, read from its prefix.
    pub fn mode(&self) -> KeyMode {
        let key = self.expose();
        if key.starts_with("sk_sandbox_") || key.starts_with("sk_test_") {
            KeyMode::Sandbox
        } else if key.starts_with("sk_live_") {
            KeyMode::Live
        } else {
            KeyMode::Unrecognised
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}, redacted)", self.mode())
    }
}

/// The environment a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    /// `sk_live_…`: real money.
    Live,
    /// `sk_sandbox_…` or `sk_test_…`: SolvaPay's test data.
    Sandbox,
    /// Any other prefix; treated as live wherever safety depends on it.
    Unrecognised,
}

impl fmt::Display for KeyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyMode::Live => "live key",
            KeyMode::Sandbox => "sandbox key",
            KeyMode::Unrecognised => "unrecognised key prefix (treated as live)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_modes_follow_the_prefix() {
        assert_eq!(ApiKey::new("sk_sandbox_x").mode(), KeyMode::Sandbox);
        assert_eq!(ApiKey::new("sk_test_x").mode(), KeyMode::Sandbox);
        assert_eq!(ApiKey::new("sk_live_x").mode(), KeyMode::Live);
        assert_eq!(ApiKey::new("whatever").mode(), KeyMode::Unrecognised);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let url = Url::parse("https://api.solvapay.com").unwrap();
        let settings = ClientSettings::new(url, Some(ApiKey::new(" sk_live_CANARY123 ")));
        let shown = format!("{settings:?}");
        assert!(!shown.contains("CANARY123"), "{shown}");
        assert!(shown.contains("live key"), "{shown}");
        assert_eq!(settings.key.unwrap().expose(), "sk_live_CANARY123");
    }
}
