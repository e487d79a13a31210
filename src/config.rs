//! Configuration (top layer, beside `cli`): the environment parsed once into a validated
//! [`Config`], which fills the client layer's [`ClientSettings`].
//!
//! The secret key only ever comes from the environment (never a flag, so it cannot leak through `ps`),
//! and lives in an [`ApiKey`] whose `Debug` never shows it.

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::api::{ApiKey, ClientSettings, DEFAULT_ATTEMPT_TIMEOUT, RetryPolicy};

/// Production API base, used when `SOLVAPAY_API_BASE_URL` is not set.
pub const DEFAULT_BASE_URL: &str = "https://api.solvapay.com";

pub use crate::env;

/// The SolvaPay settings the environment gives: key, URLs, timeout and retries (see
/// [`Config::client_settings`] for what the client is built from).
#[derive(Clone)]
pub struct Config {
    /// Secret key; `None` means no key was configured.
    pub api_key: Option<ApiKey>,
    /// REST base URL, without a trailing `/`.
    pub base_url: Url,
    /// Base URL of the `/v1/ui/*` dashboard routes.
    pub ui_base_url: Url,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Retries and the whole-call time budget.
    pub retry: RetryPolicy,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url.as_str())
            .field("ui_base_url", &self.ui_base_url.as_str())
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

impl From<&Config> for ClientSettings {
    fn from(config: &Config) -> Self {
        config.client_settings()
    }
}

/// A configuration value that cannot be used; names the variable and says what is expected.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    /// The environment variable or flag at fault.
    pub var: &'static str,
    /// What is wrong and what is expected.
    pub problem: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let api_key = key_variable(&lookup)
            .and_then(non_empty)
            .map(|k| ApiKey::new(&k));
        let base_url = match non_empty(env::BASE_URL) {
            Some(raw) => parse_base_url(env::BASE_URL, &raw)?,
            None => parse_base_url(env::BASE_URL, DEFAULT_BASE_URL)?,
        };
        let ui_base_url = match non_empty(env::UI_BASE_URL) {
            Some(raw) => parse_base_url(env::UI_BASE_URL, &raw)?,
            None => base_url.clone(),
        };
        let timeout = match non_empty(env::TIMEOUT_SECS) {
            Some(raw) => parse_timeout(&raw)?,
            None => DEFAULT_ATTEMPT_TIMEOUT,
        };
        Ok(Self {
            api_key,
            base_url,
            ui_base_url,
            timeout,
            retry: RetryPolicy::default(),
        })
    }

    /// A configuration pointing at `base_url` with `key` (tests, the local sandbox).
    pub fn for_base_url(base_url: &str, key: Option<&str>) -> Result<Self, ConfigError> {
        let base_url = parse_base_url(env::BASE_URL, base_url)?;
        Ok(Self {
            api_key: key.map(ApiKey::new),
            ui_base_url: base_url.clone(),
            base_url,
            timeout: DEFAULT_ATTEMPT_TIMEOUT,
            retry: RetryPolicy::default(),
        })
    }

    /// The client layer's settings: this configuration's key, URLs, timeout and retries.
    pub fn client_settings(&self) -> ClientSettings {
        ClientSettings {
            key: self.api_key.clone(),
            base_url: self.base_url.clone(),
            ui_base_url: self.ui_base_url.clone(),
            attempt_timeout: self.timeout,
            connect_timeout: crate::api::DEFAULT_CONNECT_TIMEOUT,
            retry: self.retry,
        }
    }

    /// The one line printed on stderr at start: mode and base URL, never the key.
    pub fn describe(&self) -> String {
        match &self.api_key {
            Some(key) => format!(
                "{} — SolvaPay API at {}",
                key.mode(),
                self.base_url.as_str()
            ),
            None => format!(
                "no API key — SolvaPay API at {} (tools answer UNAUTHORIZED until {} is set)",
                self.base_url.as_str(),
                env::SECRET_KEY
            ),
        }
    }
}

/// The variable the key is read from: [`env::SECRET_KEY`], else its alias [`env::API_KEY`];
/// `None` when neither holds more than whitespace.
pub fn key_variable(lookup: impl Fn(&str) -> Option<String>) -> Option<&'static str> {
    [env::SECRET_KEY, env::API_KEY]
        .into_iter()
        .find(|name| lookup(name).is_some_and(|v| !v.trim().is_empty()))
}

/// The data directory when none is given: `$XDG_DATA_HOME/solvapay-mcp`, else
/// `~/.local/share/solvapay-mcp` (on Windows without `HOME`: `%LOCALAPPDATA%\solvapay-mcp`).
pub fn default_data_dir() -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("share"))
        })
        .or_else(local_app_data)?;
    Some(base.join("solvapay-mcp"))
}

/// `%LOCALAPPDATA%` (Windows).
#[cfg(windows)]
fn local_app_data() -> Option<std::path::PathBuf> {
    std::env::var_os("LOCALAPPDATA")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
}

/// Only Windows has `%LOCALAPPDATA%`.
#[cfg(not(windows))]
fn local_app_data() -> Option<std::path::PathBuf> {
    None
}

/// Parses an `http(s)` base URL and strips trailing slashes.
pub fn parse_base_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|e| ConfigError {
        var,
        problem: format!("not a valid URL ({e}); expected e.g. {DEFAULT_BASE_URL}"),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(ConfigError {
            var,
            problem: "expected an http:// or https:// URL".into(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(ConfigError {
            var,
            problem: "must not carry a query, fragment or credentials".into(),
        });
    }
    Ok(url)
}

fn parse_timeout(raw: &str) -> Result<Duration, ConfigError> {
    match raw.trim().parse::<u64>() {
        Ok(secs @ 1..=55) => Ok(Duration::from_secs(secs)),
        _ => Err(ConfigError {
            var: env::TIMEOUT_SECS,
            problem: format!("{raw:?} is not a whole number of seconds between 1 and 55"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::KeyMode;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_to_production_without_a_key() {
        let c = config(&[]).unwrap();
        assert!(c.api_key.is_none());
        assert_eq!(c.base_url.as_str(), "https://api.solvapay.com/");
        assert_eq!(c.timeout, DEFAULT_ATTEMPT_TIMEOUT);
    }

    #[test]
    fn strips_trailing_slashes_and_accepts_the_alias_key() {
        let c = config(&[
            (env::API_KEY, " sk_test_abc \n"),
            (env::BASE_URL, "http://localhost:3001//"),
        ])
        .unwrap();
        assert_eq!(c.api_key.as_ref().unwrap().expose(), "sk_test_abc");
        assert_eq!(c.base_url.as_str(), "http://localhost:3001/");
        assert_eq!(c.ui_base_url, c.base_url);
    }

    #[test]
    fn secret_key_wins_over_alias() {
        let c = config(&[(env::SECRET_KEY, "sk_live_1"), (env::API_KEY, "sk_test_2")]).unwrap();
        assert_eq!(c.api_key.unwrap().mode(), KeyMode::Live);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = config(&[(env::SECRET_KEY, "sk_live_CANARY123")]).unwrap();
        let shown = format!("{c:?} {:?} {}", c.api_key, c.describe());
        assert!(!shown.contains("CANARY123"), "{shown}");
        assert!(shown.contains("live key"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = config(&[(env::BASE_URL, "ftp://x")]).unwrap_err();
        assert_eq!(e.var, env::BASE_URL);
        let e = config(&[(env::TIMEOUT_SECS, "600")]).unwrap_err();
        assert_eq!(e.var, env::TIMEOUT_SECS);
        assert!(config(&[(env::BASE_URL, "https://x.test/?a=1")]).is_err());
    }
}
