//! The commands for people at a terminal (`tools`, `call`, …): they speak no JSON-RPC, so their
//! answer goes to stdout, and their logs (by default, warnings only) to stderr. Each gives an exit
//! code a script can act on: [`SUCCESS`], [`BAD_ARGUMENTS`], [`TOOL_FAILED`], or 1 when it could not
//! run at all.

pub mod call;
pub mod doctor;
pub mod import;
pub mod tools;

use std::io::Write;
use std::process::ExitCode;

/// Done.
pub const SUCCESS: u8 = 0;
/// The command line is wrong (clap's own errors are 2 too): nothing was called.
pub const BAD_ARGUMENTS: u8 = 2;
/// A tool answered with an error (`isError`), or a check failed.
pub const TOOL_FAILED: u8 = 5;

/// Writes `text` and a newline to stdout; a closed stdout (`| head`) is not an error worth a word.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

/// Says on stderr what is wrong with the command line and gives [`BAD_ARGUMENTS`].
pub(crate) fn bad_arguments(problem: &str) -> ExitCode {
    eprintln!("error: {problem}");
    ExitCode::from(BAD_ARGUMENTS)
}
