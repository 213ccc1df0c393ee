//! The configuration file: `dirs::config_dir()/podtap/config.toml`.
//!
//! Everything is optional; `docs/config.sample.toml` documents each key. A
//! broken file is a one-line error naming the file and line, never a silent
//! fallback to defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::keys::KeyMap;

/// Limits on what the TUI keeps in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Caps {
    /// HTTP exchanges kept (oldest evicted first).
    pub exchanges: usize,
    /// Exchanges whose headers and body previews are kept for the detail view.
    pub details: usize,
    /// Ended flows kept.
    pub flows: usize,
    /// Bytes of each body kept as a preview.
    pub body_preview: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            exchanges: 200_000,
            details: 5_000,
            flows: 20_000,
            body_preview: 4096,
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The agent image to add to pods (tag or digest).
    pub agent_image: Option<String>,
    /// The namespace when neither `-n` nor the kubeconfig context names one.
    pub namespace: Option<String>,
    /// Key overrides: key -> action name (`none` unbinds).
    pub keys: BTreeMap<String, String>,
    /// `default` or `mono`.
    pub theme: Option<String>,
    /// Memory limits.
    pub caps: Caps,
}

impl Config {
    /// The default location of the file.
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("podtap").join("config.toml"))
    }

    /// Reads `path`; a missing file is the defaults.
    pub fn load(path: &Path) -> Result<Config, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                Config::parse(&text).map_err(|e| format!("config file {}: {e}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(format!(
                "config file {}: cannot read it: {e}",
                path.display()
            )),
        }
    }

    /// Parses the file's text; the error names the line.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            let msg = e.message().trim().to_owned();
            match line {
                Some(l) => format!("line {l}: {msg}"),
                None => msg,
            }
        })?;
        config.key_map()?;
        if let Some(t) = &config.theme
            && t != "default"
            && t != "mono"
        {
            return Err(format!(
                "theme {t:?} is unknown (use \"default\" or \"mono\")"
            ));
        }
        Ok(config)
    }

    /// The key table with this file's overrides.
    pub fn key_map(&self) -> Result<KeyMap, String> {
        KeyMap::with_overrides(self.keys.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_file_parses() {
        let sample = include_str!("../docs/config.sample.toml");
        let c = Config::parse(sample).unwrap();
        assert_eq!(c.caps, Caps::default(), "the sample documents the defaults");
    }

    #[test]
    fn errors_name_the_line() {
        let e =
            Config::parse("namespace = \"shop\"\n\n[caps]\nexchanges = \"many\"\n").unwrap_err();
        assert!(e.starts_with("line 4:"), "{e}");
        let e = Config::parse("colour = 1\n").unwrap_err();
        assert!(e.starts_with("line 1:") && e.contains("colour"), "{e}");
        let e = Config::parse("[keys]\nx = \"fly\"\n").unwrap_err();
        assert!(e.contains("unknown action"), "{e}");
        let e = Config::parse("theme = \"neon\"\n").unwrap_err();
        assert!(e.contains("neon"), "{e}");
        assert_eq!(
            Config::load(Path::new("/nonexistent/podtap.toml")).unwrap(),
            Config::default()
        );
    }
}
