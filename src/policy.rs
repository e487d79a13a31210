//! Which tools a server exposes (top level, read by `server`), decided once at start from the
//! operator's flags and the catalog's rows: toolsets, single tools added or excluded, read-only
//! mode, and the live-key guard on the tools a person confirms ([`ToolSpec::guarded`]).
//! Tools that are not enabled are neither listed nor callable.

use std::collections::BTreeSet;
use std::fmt;

use crate::api::KeyMode;
use crate::catalog::{self, Domain, TOOLS, ToolSpec};

/// The operator's choices, as given on the command line or in the environment.
#[derive(Debug, Clone, Default)]
pub struct ToolSelection {
    /// Toolsets to enable (`None`: every toolset, unless `tools` names single tools).
    pub toolsets: Option<Vec<String>>,
    /// Single tools to add.
    pub tools: Vec<String>,
    /// Tools to remove.
    pub exclude: Vec<String>,
    /// Register no tool that writes (wins over everything else).
    pub read_only: bool,
    /// Enable destructive and money-moving tools with a live key.
    pub allow_destructive: bool,
}

/// The outcome: the enabled tool names and why the others are off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPolicy {
    enabled: BTreeSet<&'static str>,
    read_only: bool,
    /// Guards in force, for the startup line.
    pub guards: Vec<String>,
}

/// A name that is not a toolset or a tool.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("unknown {kind} {name:?}; valid {kind}s: {valid}")]
pub struct UnknownName {
    kind: &'static str,
    name: String,
    valid: String,
}

/// Toolset names, as accepted by `--toolsets`.
pub const TOOLSETS: &[(&str, Domain)] = &[
    ("customers", Domain::Customers),
    ("catalog", Domain::Catalog),
    ("purchases", Domain::Purchases),
    ("checkout", Domain::Checkout),
    ("usage", Domain::Usage),
    ("payments", Domain::Payments),
    ("credits", Domain::Credits),
];

impl ToolSelection {
    /// Resolves the selection for a server using a key of `mode` (`None`: the local sandbox).
    pub fn resolve(&self, mode: Option<KeyMode>) -> Result<ToolPolicy, UnknownName> {
        let domains = match &self.toolsets {
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| domain(n))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let added = self
            .tools
            .iter()
            .map(|n| tool(n))
            .collect::<Result<Vec<_>, _>>()?;
        let excluded = self
            .exclude
            .iter()
            .map(|n| tool(n))
            .collect::<Result<Vec<_>, _>>()?;
        let mut enabled: BTreeSet<&'static str> = match (&domains, added.is_empty()) {
            (Some(domains), _) => TOOLS
                .iter()
                .filter(|t| domains.contains(&t.domain))
                .map(|t| t.name)
                .collect(),
            (None, false) => BTreeSet::new(),
            (None, true) => TOOLS.iter().map(|t| t.name).collect(),
        };
        enabled.extend(added.iter().map(|t| t.name));
        for t in &excluded {
            enabled.remove(t.name);
        }
        let mut guards = Vec::new();
        let live = matches!(mode, Some(KeyMode::Live | KeyMode::Unrecognised));
        if self.read_only {
            enabled.retain(|name| catalog::find(name).is_some_and(ToolSpec::read_only));
            guards.push("read-only".to_owned());
        } else if live && !self.allow_destructive {
            enabled.retain(|name| catalog::find(name).is_some_and(|t| !t.guarded()));
            guards.push("live key: destructive and money-moving tools off (--allow-destructive enables them)".to_owned());
        } else if live {
            guards.push("live key: destructive tools enabled by --allow-destructive".to_owned());
        }
        Ok(ToolPolicy {
            enabled,
            read_only: self.read_only,
            guards,
        })
    }
}

impl ToolPolicy {
    /// Every tool enabled (tests, the local sandbox default).
    pub fn all() -> Self {
        Self {
            enabled: TOOLS.iter().map(|t| t.name).collect(),
            read_only: false,
            guards: Vec::new(),
        }
    }

    /// True when the operator asked for `--read-only`: only tools that change nothing are enabled.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Whether `name` is enabled.
    pub fn allows(&self, name: &str) -> bool {
        self.enabled.contains(name)
    }

    /// The enabled tools, sorted.
    pub fn enabled(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.enabled.iter().copied()
    }

    /// This policy narrowed (an operator token's grant on the HTTP transport): to the tools of
    /// `toolsets` (`None`: every toolset), and with `read_only` to those that change nothing. Never
    /// enables a tool this policy has off.
    pub fn narrowed(
        &self,
        toolsets: Option<&[String]>,
        read_only: bool,
    ) -> Result<Self, UnknownName> {
        let domains = toolsets
            .map(|names| {
                names
                    .iter()
                    .map(|n| domain(n))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let mut narrowed = self.clone();
        narrowed.enabled.retain(|name| {
            catalog::find(name).is_some_and(|t| {
                domains.as_ref().is_none_or(|d| d.contains(&t.domain))
                    && (!read_only || t.read_only())
            })
        });
        if read_only && !self.read_only {
            narrowed.read_only = true;
            narrowed.guards.push("read-only".to_owned());
        }
        Ok(narrowed)
    }

    /// The toolsets with at least one enabled tool, in the documented order.
    pub fn toolsets(&self) -> Vec<&'static str> {
        TOOLSETS
            .iter()
            .filter(|(_, d)| TOOLS.iter().any(|t| t.domain == *d && self.allows(t.name)))
            .map(|(n, _)| *n)
            .collect()
    }
}

impl fmt::Display for ToolPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tools [{}]",
            self.enabled.len(),
            self.toolsets().join(", ")
        )?;
        if !self.guards.is_empty() {
            write!(f, "; guards: {}", self.guards.join("; "))?;
        }
        Ok(())
    }
}

fn domain(name: &str) -> Result<Domain, UnknownName> {
    let name = name.trim();
    TOOLSETS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, d)| *d)
        .ok_or_else(|| UnknownName {
            kind: "toolset",
            name: name.to_owned(),
            valid: TOOLSETS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

fn tool(name: &str) -> Result<&'static ToolSpec, UnknownName> {
    catalog::find(name.trim()).ok_or_else(|| UnknownName {
        kind: "tool",
        name: name.trim().to_owned(),
        valid: TOOLS.iter().map(|t| t.name).collect::<Vec<_>>().join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Confirmation;

    fn names(p: &ToolPolicy) -> Vec<&'static str> {
        p.enabled().collect()
    }

    #[test]
    fn a_narrowed_policy_keeps_only_its_toolsets_and_reads() {
        let live = ToolSelection::default()
            .resolve(Some(KeyMode::Live))
            .unwrap();
        let p = live
            .narrowed(Some(&["payments".into(), "customers".into()]), false)
            .unwrap();
        assert!(p.allows("list_customers") && p.allows("get_transaction"));
        assert!(!p.allows("list_products"));
        // The live-key guard stays: narrowing never enables a tool.
        assert!(!p.allows("create_refund") && !live.allows("create_refund"));
        let reads = ToolPolicy::all().narrowed(None, true).unwrap();
        assert!(reads.read_only());
        assert!(
            reads
                .enabled()
                .all(|n| catalog::find(n).unwrap().read_only())
        );
        assert!(reads.allows("list_customers"));
        assert!(
            ToolPolicy::all()
                .narrowed(Some(&["nope".into()]), false)
                .is_err()
        );
    }

    #[test]
    fn everything_by_default_in_the_sandbox() {
        let p = ToolSelection::default().resolve(None).unwrap();
        assert_eq!(names(&p).len(), TOOLS.len());
        assert!(p.guards.is_empty());
    }

    #[test]
    fn toolsets_plus_single_tools_minus_exclusions() {
        let s = ToolSelection {
            toolsets: Some(vec!["customers".into()]),
            tools: vec!["get_transaction".into()],
            exclude: vec!["delete_customer".into()],
            ..Default::default()
        };
        let p = s.resolve(Some(KeyMode::Sandbox)).unwrap();
        assert_eq!(
            names(&p),
            [
                "create_customer",
                "ensure_customer",
                "get_customer",
                "get_transaction",
                "list_customers",
                "update_customer"
            ]
        );
        assert_eq!(p.toolsets(), ["customers", "payments"]);
    }

    #[test]
    fn read_only_wins_over_everything() {
        let s = ToolSelection {
            tools: vec!["create_refund".into()],
            read_only: true,
            allow_destructive: true,
            ..Default::default()
        };
        assert!(names(&s.resolve(Some(KeyMode::Live)).unwrap()).is_empty());
        let all_read = ToolSelection {
            read_only: true,
            ..Default::default()
        }
        .resolve(None)
        .unwrap();
        assert!(
            all_read
                .enabled()
                .all(|n| catalog::find(n).is_some_and(ToolSpec::read_only))
        );
        assert!(!all_read.allows("create_customer") && all_read.allows("list_transactions"));
        assert!(all_read.read_only() && !ToolPolicy::all().read_only());
    }

    #[test]
    fn a_live_key_needs_an_opt_in_for_destructive_tools() {
        let guarded = ToolSelection::default()
            .resolve(Some(KeyMode::Live))
            .unwrap();
        for t in [
            "create_refund",
            "cancel_renewal",
            "delete_customer",
            "delete_product",
            "delete_plan",
        ] {
            assert!(!guarded.allows(t), "{t}");
        }
        assert!(guarded.allows("create_customer"));
        // Overwrites are destructiveHint but not guarded: they stay, unconfirmed.
        for t in [
            "update_customer",
            "update_product",
            "update_plan",
            "create_plan",
        ] {
            assert!(guarded.allows(t), "{t}");
            assert_eq!(
                catalog::find(t).unwrap().confirmation(),
                Confirmation::NotAsked,
                "{t}"
            );
        }
        // Cancelling a renewal is asked by the tool itself (it has a review form), still guarded.
        assert_eq!(
            catalog::find("cancel_renewal").unwrap().confirmation(),
            Confirmation::ByTool
        );
        assert_eq!(
            catalog::find("delete_plan").unwrap().confirmation(),
            Confirmation::BeforeCall
        );
        let unknown_prefix = ToolSelection::default()
            .resolve(Some(KeyMode::Unrecognised))
            .unwrap();
        assert!(!unknown_prefix.allows("create_refund"));
        let opted_in = ToolSelection {
            allow_destructive: true,
            ..Default::default()
        }
        .resolve(Some(KeyMode::Live))
        .unwrap();
        assert!(opted_in.allows("create_refund"));
        assert!(
            ToolSelection::default()
                .resolve(Some(KeyMode::Sandbox))
                .unwrap()
                .allows("create_refund")
        );
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let e = ToolSelection {
            toolsets: Some(vec!["billing".into()]),
            ..Default::default()
        }
        .resolve(None)
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("customers, catalog, purchases, checkout, usage, payments"),
            "{e}"
        );
        let e = ToolSelection {
            exclude: vec!["nuke".into()],
            ..Default::default()
        }
        .resolve(None)
        .unwrap_err();
        assert!(e.to_string().contains("create_customer"), "{e}");
    }
}
