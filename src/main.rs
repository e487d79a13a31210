//! The `solvapay-mcp` binary: parse the command line, log to stderr, and run
//! [`solvapay_mcp::serve::run`] (the MCP server over stdio, or the standalone sandbox) on one thread.

use std::process::ExitCode;
use std::time::Duration;

use solvapay_mcp::cli::sandbox::SandboxArgs;
use solvapay_mcp::cli::{self, Cli, Command, NewToken, TokenCommand};
use solvapay_mcp::http::tokens::{self, Grant};
use solvapay_mcp::sandbox::Sandbox;
use solvapay_mcp::{serve, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse_env_blank_unset();
    // The commands for people answer on stdout; their logs are warnings unless RUST_LOG says more.
    let people = matches!(
        cli.command,
        Some(
            Command::Tools(_)
                | Command::Call(_)
                | Command::Usage(_)
                | Command::Doctor(_)
                | Command::Config(_)
                | Command::Completions(_)
                | Command::Man(_)
                | Command::Sandbox(SandboxArgs {
                    command: Some(_),
                    ..
                })
        )
    );
    let logs = if people {
        telemetry::init_with_default("warn")
    } else {
        telemetry::init()
    };
    if let Some(Command::Token(TokenCommand::New(args))) = &cli.command {
        return new_token(args);
    }
    if let Some(code) = for_people(&cli) {
        return code;
    }
    // One thread drives everything: the calls wait on I/O, not on CPU, and keeping stdin, the
    // handlers and the HTTP connections on one thread saves a cross-thread wake-up per message
    // (BENCHMARKS.md). Blocking work (fsync, SQLite, root certificates) runs on the blocking pool.
    let mut builder = tokio::runtime::Builder::new_current_thread();
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(serve::run(cli, &logs, announce));
    // A blocking read of stdin may still be parked after a signal; do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

/// Prints how to reach the standalone sandbox, in a form a shell can `eval`. That mode speaks no
/// JSON-RPC, so stdout belongs to the user there; this is the only write to stdout outside the
/// MCP transport, and it lives in the binary.
fn announce(sandbox: &Sandbox) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "SOLVAPAY_API_BASE_URL={}", sandbox.base_url());
    let _ = writeln!(out, "SOLVAPAY_SECRET_KEY={}", sandbox.key());
    let _ = out.flush();
}

/// The commands for people that need no runtime; their output is the person's, on stdout.
fn for_people(cli: &Cli) -> Option<ExitCode> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let code = match cli.command.as_ref()? {
        Command::Config(args) => cli::config::run(args, &mut out, &mut std::io::stderr()),
        Command::Completions(args) => cli::manual::completions(args, &mut out),
        Command::Man(args) => cli::manual::man(args, &mut out, &mut std::io::stderr()),
        Command::Sandbox(SandboxArgs {
            command: Some(command),
            ..
        }) => cli::sandbox::run(command, &mut out, &mut std::io::stderr()),
        _ => return None,
    };
    let _ = out.flush();
    Some(code)
}

/// `token new`: appends the token's hash to the file and prints the token, once, on stdout (the
/// only place it is ever shown).
fn new_token(args: &NewToken) -> ExitCode {
    let grant = Grant {
        name: args.name.clone(),
        toolsets: args.toolsets.clone(),
        read_only: args.read_only,
    };
    match tokens::create(&args.file, &grant) {
        Ok(token) => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", token.expose());
            let _ = out.flush();
            tracing::info!(
                "token {:?} added to {} (its hash only; the token above is not shown again)",
                args.name,
                args.file.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("could not make the token: {e}");
            ExitCode::from(2)
        }
    }
}
