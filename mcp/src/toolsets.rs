//! Which groups of tools the server lists: settle's own (`local`) and QuantConnect's cloud
//! tools (`quantconnect`).
//!
//! Clients cap the tools they pass to the model (Cursor's agent sees the first 40, Antigravity
//! allows 50, VS Code 128 including its own), and 64 QuantConnect tools a user without
//! QuantConnect credentials cannot call only crowd settle's out. So the default is the local
//! tools, plus QuantConnect's when its credentials are set; `--tools` (or `SETTLE_TOOLS`)
//! says exactly which.

use std::fmt;
use std::str::FromStr;

/// The tool groups a server lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Toolsets {
    /// settle's own tools.
    pub local: bool,
    /// QuantConnect's cloud tools.
    pub quantconnect: bool,
}

/// Every group name `--tools` accepts.
pub const NAMES: &str = "local, quantconnect";

impl Toolsets {
    /// Both groups.
    pub const ALL: Toolsets = Toolsets {
        local: true,
        quantconnect: true,
    };

    /// The local tools, and QuantConnect's when `credentials_set`.
    pub fn default_for(credentials_set: bool) -> Toolsets {
        Toolsets {
            local: true,
            quantconnect: credentials_set,
        }
    }

    /// The default for this process: QuantConnect's tools when its credentials are in the
    /// environment.
    pub fn from_env_credentials() -> Toolsets {
        let config = crate::quantconnect::client::Config::from_env();
        Toolsets::default_for(config.credentials.is_some())
    }
}

impl FromStr for Toolsets {
    type Err = String;

    /// A comma-separated list such as `local,quantconnect`; `all` means both.
    fn from_str(s: &str) -> Result<Toolsets, String> {
        let mut sets = Toolsets {
            local: false,
            quantconnect: false,
        };
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "local" => sets.local = true,
                "quantconnect" | "qc" => sets.quantconnect = true,
                "all" => sets = Toolsets::ALL,
                other => {
                    return Err(format!(
                        "unknown toolset `{other}`; valid: {NAMES} (comma-separated) or all"
                    ))
                }
            }
        }
        if !sets.local && !sets.quantconnect {
            return Err(format!(
                "no toolset named; valid: {NAMES} (comma-separated)"
            ));
        }
        Ok(sets)
    }
}

impl fmt::Display for Toolsets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [(self.local, "local"), (self.quantconnect, "quantconnect")]
            .into_iter()
            .filter_map(|(on, n)| on.then_some(n))
            .collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_refuses_unknown_names() {
        let both: Toolsets = "local, quantconnect".parse().unwrap();
        assert_eq!(both, Toolsets::ALL);
        assert_eq!("all".parse::<Toolsets>().unwrap(), Toolsets::ALL);
        let qc: Toolsets = "QuantConnect".parse().unwrap();
        assert_eq!((qc.local, qc.quantconnect), (false, true));
        assert_eq!(qc.to_string(), "quantconnect");
        let e = "local,lean".parse::<Toolsets>().unwrap_err();
        assert!(e.contains("`lean`") && e.contains(NAMES), "{e}");
        assert!(",".parse::<Toolsets>().is_err());
        assert_eq!(Toolsets::default_for(false).to_string(), "local");
        assert_eq!(Toolsets::default_for(true), Toolsets::ALL);
    }
}
