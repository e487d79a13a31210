//! Running the real binary. Every run gets a [`Home`]: a tempdir owned by the test that is the
//! process's `HOME`, XDG base directories, `TMPDIR` and working directory, in an environment that
//! inherits nothing but `PATH` (and a coverage profile path, if any). So no run reads the
//! developer's `SOLVAPAY_*` settings, and none writes into their home: a run given no data
//! directory writes its default one inside the tempdir.

use std::path::{Path, PathBuf};

use tokio::process::Command;

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_solvapay-mcp");

/// Variables a run inherits from the test process; everything else is dropped.
const INHERITED: &[&str] = &["PATH", "LLVM_PROFILE_FILE"];

/// A private home for runs of the binary, removed when dropped.
pub(crate) struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    pub(crate) fn new() -> Self {
        let home = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        for dir in [home.tmp(), home.work()] {
            std::fs::create_dir_all(dir).unwrap();
        }
        home
    }

    /// The home directory itself (`HOME`).
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `XDG_DATA_HOME`.
    pub(crate) fn data_home(&self) -> PathBuf {
        self.path().join(".local").join("share")
    }

    /// The data directory the binary uses when given none: `$XDG_DATA_HOME/solvapay-mcp`.
    pub(crate) fn default_data_dir(&self) -> PathBuf {
        self.data_home().join("solvapay-mcp")
    }

    fn tmp(&self) -> PathBuf {
        self.path().join("tmp")
    }

    /// The working directory of every run (empty unless the binary writes a relative path).
    pub(crate) fn work(&self) -> PathBuf {
        self.path().join("work")
    }

    /// A command for the binary, confined to this home (see [`Home::confine`]).
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        self.confine(&mut command);
        command
    }

    /// Clears `command`'s environment but for [`INHERITED`], and points `HOME`, `XDG_DATA_HOME`,
    /// `XDG_STATE_HOME`, `XDG_CONFIG_HOME`, `XDG_CACHE_HOME`, `XDG_RUNTIME_DIR`, `TMPDIR` and the
    /// working directory into this home. Variables set on `command` afterwards still apply.
    pub(crate) fn confine<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command.env_clear();
        for name in INHERITED {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        let home = self.path();
        command
            .env("HOME", home)
            .env("XDG_DATA_HOME", self.data_home())
            .env("XDG_STATE_HOME", home.join(".local").join("state"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_RUNTIME_DIR", home.join("run"))
            .env("TMPDIR", self.tmp())
            .current_dir(self.work())
    }

    /// Every file under the home, as paths relative to it, sorted (directories are not listed).
    pub(crate) fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    out.push(path.strip_prefix(root).unwrap().to_owned());
                }
            }
        }
        let mut out = Vec::new();
        walk(self.path(), self.path(), &mut out);
        out.sort();
        out
    }
}

/// What a run of the binary gave: its exit code and its two streams.
pub(crate) struct Ran {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Ran {
    /// stdout as JSON (panics, naming both streams, when it is not).
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Home {
    /// Runs the binary with `args` and no stdin (not a terminal) to its end.
    pub(crate) async fn run(&self, args: &[&str]) -> Ran {
        self.run_with(args, &[]).await
    }

    /// [`Home::run`] with extra environment variables.
    pub(crate) async fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Ran {
        let mut command = self.command();
        command
            .args(args)
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null());
        let output = tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
            .await
            .unwrap_or_else(|_| panic!("{args:?} did not finish in 60 s"))
            .unwrap();
        Ran {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}
