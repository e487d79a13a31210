//! Logging: `tracing` to stderr only (stdout carries JSON-RPC), filtered by `RUST_LOG`, every line
//! scrubbed of the secrets once they are known (at `RUST_LOG=trace` the libraries below log too).

use std::io::{self, Write};
use std::sync::{Arc, OnceLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::redact::Redactor;

/// Tells the log writer which secrets to scrub; given by [`init`].
#[derive(Debug, Clone, Default)]
pub struct LogRedaction(Arc<OnceLock<Redactor>>);

impl LogRedaction {
    /// From now on, every log line is scrubbed by `redactor`. The first call wins: the secrets are
    /// known once, at start.
    pub fn set(&self, redactor: &Redactor) {
        let _ = self.0.set(redactor.clone());
    }
}

/// Installs the global subscriber for the server. Default level: `info` for this crate, `warn`
/// for the rest.
pub fn init() -> LogRedaction {
    init_with_default("warn,solvapay_mcp=info")
}

/// Installs the global subscriber with `default` as the filter when `RUST_LOG` is unset (the
/// commands for people default to `warn`: their output is the answer, not the start-up lines).
pub fn init_with_default(default: &str) -> LogRedaction {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let redaction = LogRedaction::default();
    // A second call (tests) leaves the first subscriber in place.
    let _ = tracing_subscriber::fmt()
        .with_writer(ScrubbedStderr(redaction.clone()))
        .with_ansi(false)
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
    redaction
}

/// Stderr through the redactor.
struct ScrubbedStderr(LogRedaction);

impl<'a> MakeWriter<'a> for ScrubbedStderr {
    type Writer = Scrubbing<'a, io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        Scrubbing {
            redactor: (self.0).0.get(),
            inner: io::stderr(),
        }
    }
}

/// A writer that scrubs each write. The fmt layer formats a whole event, then writes it with one
/// `write_all`, so a secret never straddles two writes.
struct Scrubbing<'a, W> {
    redactor: Option<&'a Redactor>,
    inner: W,
}

impl<W: Write> Write for Scrubbing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.redactor {
            Some(redactor) => {
                self.inner.write_all(&redactor.scrub_bytes(buf))?;
                Ok(buf.len())
            }
            None => self.inner.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_is_scrubbed_once_the_secret_is_known() {
        let redactor = Redactor::new(["sk_live_LOGCANARY42"]);
        let mut out = Vec::new();
        let mut writer = Scrubbing {
            redactor: Some(&redactor),
            inner: &mut out,
        };
        let line =
            b"DEBUG response body=\"Bearer sk_live_LOGCANARY42\" key=sk\\u005flive_LOGCANARY42\n";
        writer.write_all(line).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "DEBUG response body=\"Bearer [redacted]\" key=[redacted]\n"
        );
    }
}
