//! The standalone sandbox (`solvapay-mcp sandbox …`) as a test's SolvaPay: started in a home,
//! its URL and key read from the two lines it prints, killed when dropped.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use super::bin::Home;

/// A running standalone sandbox.
pub(crate) struct Standalone {
    /// Killed when dropped.
    pub(crate) child: Child,
    /// `SOLVAPAY_API_BASE_URL` as it printed it.
    pub(crate) url: String,
    /// `SOLVAPAY_SECRET_KEY` as it printed it.
    pub(crate) key: String,
}

impl Standalone {
    /// `solvapay-mcp sandbox ARGS` in `home`, once it has printed where it listens.
    pub(crate) async fn start(home: &Home, args: &[&str]) -> Self {
        let mut child = home
            .command()
            .arg("sandbox")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next = async |prefix: &str| {
            let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
                .await
                .expect("the sandbox prints its URL and key within 20 s")
                .unwrap()
                .unwrap();
            line.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("{line:?} does not start with {prefix}"))
                .to_owned()
        };
        let url = next("SOLVAPAY_API_BASE_URL=").await;
        let key = next("SOLVAPAY_SECRET_KEY=").await;
        Self { child, url, key }
    }
}
