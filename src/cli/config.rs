//! `solvapay-mcp config <client>`: a ready MCP client configuration that runs this very binary
//! (its canonical absolute path), in the client's own file format, on stdout; on stderr, where that
//! file goes (and, for Claude Code, the equivalent `claude mcp add` line). The secret key never
//! appears: each client gets its own way of supplying it (an environment reference, a password
//! prompt, or a placeholder to replace), and `--sandbox` runs the local sandbox with no key.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::env::SECRET_KEY;

/// The MCP clients `config` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Client {
    /// Claude Desktop: `claude_desktop_config.json`.
    ClaudeDesktop,
    /// Claude Code: the project's `.mcp.json`.
    ClaudeCode,
    /// Cursor: `.cursor/mcp.json`.
    Cursor,
    /// VS Code (GitHub Copilot): `.vscode/mcp.json`.
    Vscode,
}

/// `solvapay-mcp config`.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// The client to configure.
    #[arg(value_enum)]
    pub client: Client,
    /// Run the local sandbox (`serve --sandbox`): no key in the configuration.
    #[arg(long)]
    pub sandbox: bool,
    /// The server's name in the client (letters, digits, `-` and `_`, starting with a letter).
    #[arg(long, default_value = "solvapay", value_parser = parse_name)]
    pub name: String,
}

/// Stands in for the key where the client cannot read it from elsewhere (Claude Desktop).
pub const KEY_PLACEHOLDER: &str = "REPLACE_WITH_YOUR_SOLVAPAY_SECRET_KEY";

/// The id of VS Code's password prompt for the key.
const VSCODE_INPUT: &str = "solvapay-secret-key";

fn parse_name(name: &str) -> Result<String, String> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(name.to_owned())
    } else {
        Err("letters, digits, - and _ only, starting with a letter".to_owned())
    }
}

/// The client's configuration for a server called `name` that runs `command`: with a key
/// supplied the client's way, or (`sandbox`) the local sandbox without one.
pub fn configuration(client: Client, name: &str, command: &Path, sandbox: bool) -> Value {
    let command = command.display().to_string();
    let args: Vec<&str> = if sandbox {
        vec!["serve", "--sandbox"]
    } else {
        Vec::new()
    };
    let key = match client {
        Client::ClaudeDesktop => KEY_PLACEHOLDER.to_owned(),
        Client::ClaudeCode => format!("${{{SECRET_KEY}}}"),
        Client::Cursor => format!("${{env:{SECRET_KEY}}}"),
        Client::Vscode => format!("${{input:{VSCODE_INPUT}}}"),
    };
    let mut server = serde_json::Map::new();
    server.insert("command".into(), json!(command));
    server.insert("args".into(), json!(args));
    if client != Client::ClaudeDesktop {
        server.insert("type".into(), json!("stdio"));
    }
    if !sandbox {
        server.insert("env".into(), json!({ SECRET_KEY: key }));
    }
    match client {
        Client::Vscode if sandbox => json!({"servers": {name: server}}),
        Client::Vscode => json!({
            "servers": {name: server},
            "inputs": [{
                "type": "promptString",
                "id": VSCODE_INPUT,
                "description": "SolvaPay secret key (sk_test_… or sk_live_…)",
                "password": true,
            }],
        }),
        _ => json!({"mcpServers": {name: server}}),
    }
}

/// Where the client reads the file, on this operating system, and what to do with it.
pub fn placement(client: Client, sandbox: bool) -> String {
    match client {
        Client::ClaudeDesktop => {
            let file = match std::env::consts::OS {
                "macos" => "~/Library/Application Support/Claude/claude_desktop_config.json",
                "windows" => r"%APPDATA%\Claude\claude_desktop_config.json",
                _ => {
                    "~/.config/Claude/claude_desktop_config.json (Claude Desktop has no official Linux build)"
                }
            };
            let key = if sandbox {
                String::new()
            } else {
                format!("; replace {KEY_PLACEHOLDER} with your key")
            };
            format!(
                "Claude Desktop: merge this into {file} (Settings > Developer > Edit Config){key}, \
                 then restart Claude Desktop"
            )
        }
        Client::ClaudeCode => {
            let key = if sandbox {
                ""
            } else {
                "; Claude Code fills in ${SOLVAPAY_SECRET_KEY} from its environment"
            };
            format!("Claude Code: save this as .mcp.json at your project's root{key}")
        }
        Client::Cursor => {
            let key = if sandbox {
                ""
            } else {
                "; Cursor fills in ${env:SOLVAPAY_SECRET_KEY} from its environment"
            };
            format!(
                "Cursor: save this as .cursor/mcp.json in your project (or ~/.cursor/mcp.json for \
                 every project){key}"
            )
        }
        Client::Vscode => {
            let key = if sandbox {
                ""
            } else {
                "; VS Code asks for the key once and keeps it in its secret storage"
            };
            format!(
                "VS Code: save this as .vscode/mcp.json in your workspace (or run MCP: Open User \
                 Configuration){key}"
            )
        }
    }
}

/// The `claude mcp add` line that writes the same `.mcp.json` entry.
pub fn claude_mcp_add(name: &str, command: &Path, sandbox: bool) -> String {
    let command = shell_quote(&command.display().to_string());
    if sandbox {
        format!(
            "claude mcp add --scope project --transport stdio {name} -- {command} serve --sandbox"
        )
    } else {
        format!(
            "claude mcp add --scope project --transport stdio --env '{SECRET_KEY}=${{{SECRET_KEY}}}' \
             {name} -- {command}"
        )
    }
}

fn shell_quote(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// This binary's canonical absolute path (without Windows' `\\?\` prefix, which clients reject).
pub fn this_binary() -> std::io::Result<PathBuf> {
    let path = std::env::current_exe()?.canonicalize()?;
    let text = path.display().to_string();
    Ok(match text.strip_prefix(r"\\?\") {
        Some(plain) => PathBuf::from(plain),
        None => path,
    })
}

/// `config`: the configuration on `out`, the hints on `note`.
pub fn run(args: &ConfigArgs, out: &mut dyn Write, note: &mut dyn Write) -> ExitCode {
    let binary = match this_binary() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("cannot find this binary's path: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = configuration(args.client, &args.name, &binary, args.sandbox);
    let text = serde_json::to_string_pretty(&config).unwrap_or_default();
    let mut written = writeln!(out, "{text}").and_then(|()| out.flush());
    written = written.and_then(|()| writeln!(note, "{}", placement(args.client, args.sandbox)));
    if args.client == Client::ClaudeCode {
        written = written.and_then(|()| {
            writeln!(
                note,
                "or run: {}",
                claude_mcp_add(&args.name, &binary, args.sandbox)
            )
        });
    }
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("could not write the configuration: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_what_every_client_accepts() {
        assert!(parse_name("solvapay").is_ok());
        assert!(parse_name("solvapay_test-2").is_ok());
        for bad in ["", "2pay", "solva pay", "solva.pay", "-x"] {
            assert!(parse_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_with_spaces_are_quoted_for_the_shell() {
        assert_eq!(
            shell_quote("/usr/bin/solvapay-mcp"),
            "/usr/bin/solvapay-mcp"
        );
        assert_eq!(shell_quote("/Apps/My Tools/x"), "'/Apps/My Tools/x'");
        assert_eq!(shell_quote("/a/it's"), r"'/a/it'\''s'");
    }
}
