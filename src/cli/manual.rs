//! `solvapay-mcp completions <shell>` and `solvapay-mcp man [--dir DIR]`: shell completion scripts
//! and man pages generated from the clap definitions, so they never drift from the flags.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

/// `solvapay-mcp completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `solvapay-mcp man`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write one page per command and subcommand into this directory (solvapay-mcp.1,
    /// solvapay-mcp-sandbox.1, …) instead of the top-level page to stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The completion script for `args.shell`, on `out`.
pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> ExitCode {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    clap_complete::generate(args.shell, &mut command, name, out);
    ExitCode::SUCCESS
}

/// The top-level man page on `out`, or every page into `args.dir` (said on `note`).
pub fn man(args: &ManArgs, out: &mut dyn Write, note: &mut dyn Write) -> ExitCode {
    let written = match &args.dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
            .and_then(|()| writeln!(note, "man pages written to {}", dir.display())),
        None => clap_mangen::Man::new(Cli::command()).render(out),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): what it wanted, it has.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("could not write the man page: {e}");
            ExitCode::FAILURE
        }
    }
}
