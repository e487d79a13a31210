//! Operator tokens: the token file a `serve --http --tokens FILE` server admits callers by, and
//! `token new`, which appends one. The file holds one JSON object a line — a token's `name`, the
//! SHA-256 (hex) of the token, its `toolsets` and `readOnly` — and never a token itself: the token
//! is shown once, when made.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::policy::ToolPolicy;

/// What every operator token starts with (and a SolvaPay key never does).
pub const PREFIX: &str = "smt_";

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// One line of the token file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Line {
    name: String,
    sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    toolsets: Option<Vec<String>>,
    #[serde(default)]
    read_only: bool,
}

/// What a token grants: its name and the narrowing of the deployment's tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The token's name (for logs, the audit log and limits).
    pub name: String,
    /// The toolsets it may use (`None`: all the deployment enables).
    pub toolsets: Option<Vec<String>>,
    /// Only tools that change nothing.
    pub read_only: bool,
}

/// A token file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The token file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A line of the file is not a token entry.
    #[error("{}, line {line}: {problem}", path.display())]
    Line {
        /// The token file.
        path: PathBuf,
        /// 1-based.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A token of that name exists already.
    #[error("{}: a token named {name:?} exists already", path.display())]
    Duplicate {
        /// The token file.
        path: PathBuf,
        /// The name asked for.
        name: String,
    },
    /// The grant names a toolset that does not exist, or no name.
    #[error("{0}")]
    Grant(String),
}

/// The tokens of a token file, by the SHA-256 of each.
#[derive(Debug, Default)]
pub struct TokenFile {
    by_digest: HashMap<Digest, Grant>,
}

impl TokenFile {
    /// Reads `path` (a missing file is an error: a token server with no token admits no one).
    pub fn read(path: &Path) -> Result<Self, TokenError> {
        let io = |source| TokenError::Io {
            path: path.to_owned(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        let mut by_digest = HashMap::new();
        let mut names = std::collections::HashSet::new();
        for (index, raw) in text.lines().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            let bad = |problem: String| TokenError::Line {
                path: path.to_owned(),
                line: index + 1,
                problem,
            };
            let line: Line = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
            let digest = parse_hex(&line.sha256)
                .ok_or_else(|| bad("sha256 is not 64 hexadecimal digits".to_owned()))?;
            if !names.insert(line.name.clone()) {
                return Err(bad(format!("a second token named {:?}", line.name)));
            }
            let grant = Grant {
                name: line.name,
                toolsets: line.toolsets,
                read_only: line.read_only,
            };
            check(&grant)?;
            by_digest.insert(digest, grant);
        }
        Ok(Self { by_digest })
    }

    /// The grant of the token whose SHA-256 is `digest`.
    pub fn find(&self, digest: &Digest) -> Option<&Grant> {
        self.by_digest.get(digest)
    }

    /// Every token, by digest.
    pub fn iter(&self) -> impl Iterator<Item = (&Digest, &Grant)> {
        self.by_digest.iter()
    }

    /// How many tokens the file holds.
    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// True when the file holds no token.
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

/// A fresh token: to be shown once, never stored.
pub struct NewToken(SecretString);

impl NewToken {
    /// The token itself, to print.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewToken(redacted)")
    }
}

/// Makes a token for `grant`, appends its line (hash only) to the file at `path` (created, mode
/// 0600, if missing), and gives the token.
pub fn create(path: &Path, grant: &Grant) -> Result<NewToken, TokenError> {
    check(grant)?;
    let existing = match path.exists() {
        true => TokenFile::read(path)?,
        false => TokenFile::default(),
    };
    if existing.iter().any(|(_, g)| g.name == grant.name) {
        return Err(TokenError::Duplicate {
            path: path.to_owned(),
            name: grant.name.clone(),
        });
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", hex(&bytes));
    let line = Line {
        name: grant.name.clone(),
        sha256: hex(&digest(&token)),
        toolsets: grant.toolsets.clone(),
        read_only: grant.read_only,
    };
    let io = |source| TokenError::Io {
        path: path.to_owned(),
        source,
    };
    let mut text = serde_json::to_string(&line).map_err(|e| io(std::io::Error::other(e)))?;
    text.push('\n');
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(NewToken(SecretString::from(token)))
}

/// The SHA-256 of `secret`.
pub fn digest(secret: &str) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()).as_ref());
    out
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn parse_hex(text: &str) -> Option<Digest> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// A grant's name is not empty, and its toolsets exist.
fn check(grant: &Grant) -> Result<(), TokenError> {
    if grant.name.trim().is_empty() {
        return Err(TokenError::Grant("a token needs a name".to_owned()));
    }
    ToolPolicy::all()
        .narrowed(grant.toolsets.as_deref(), grant.read_only)
        .map(drop)
        .map_err(|e| TokenError::Grant(format!("token {:?}: {e}", grant.name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_is_stored_as_its_hash_and_found_by_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.jsonl");
        let grant = Grant {
            name: "support".into(),
            toolsets: Some(vec!["customers".into()]),
            read_only: true,
        };
        let token = create(&path, &grant).unwrap();
        assert!(token.expose().starts_with(PREFIX));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(token.expose()), "{text}");
        assert!(text.contains(&hex(&digest(token.expose()))), "{text}");
        let file = TokenFile::read(&path).unwrap();
        assert_eq!(file.find(&digest(token.expose())), Some(&grant));
        assert!(matches!(
            create(&path, &grant),
            Err(TokenError::Duplicate { .. })
        ));
        let bad = Grant {
            name: "x".into(),
            toolsets: Some(vec!["nope".into()]),
            read_only: false,
        };
        assert!(matches!(create(&path, &bad), Err(TokenError::Grant(_))));
        assert_eq!(TokenFile::read(&path).unwrap().len(), 1);
    }
}
