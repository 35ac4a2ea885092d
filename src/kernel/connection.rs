//! The connection file Jupyter writes before starting a kernel: the five ports, the transport
//! and the signing key.

use std::path::Path;

use serde::Deserialize;

use crate::error::Error;

/// The parsed connection file.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// `tcp` (the only transport this kernel supports).
    pub transport: String,
    /// The address to bind, e.g. `127.0.0.1`.
    pub ip: String,
    /// Port of the shell channel (requests and replies).
    pub shell_port: u16,
    /// Port of the IOPub channel (broadcast outputs).
    pub iopub_port: u16,
    /// Port of the stdin channel (unused: cells cannot ask for input).
    pub stdin_port: u16,
    /// Port of the control channel (interrupt, shutdown).
    pub control_port: u16,
    /// Port of the heartbeat.
    pub hb_port: u16,
    /// The HMAC key; empty for unsigned messages.
    #[serde(default)]
    pub key: String,
    /// The signature scheme; only `hmac-sha256` is supported.
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
}

fn default_scheme() -> String {
    "hmac-sha256".to_string()
}

impl ConnectionInfo {
    /// Reads and checks the connection file at `path`.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = crate::data::input::read_text(path)?;
        Self::parse(&text).map_err(|problem| Error::format(path, "connection file", problem))
    }

    fn parse(text: &str) -> Result<Self, String> {
        let info: ConnectionInfo = serde_json::from_str(text).map_err(|err| err.to_string())?;
        if info.transport != "tcp" {
            return Err(format!(
                "transport '{}' is not supported; use \"tcp\"",
                info.transport
            ));
        }
        if !info.key.is_empty() && info.signature_scheme != "hmac-sha256" {
            return Err(format!(
                "signature scheme '{}' is not supported; use \"hmac-sha256\"",
                info.signature_scheme
            ));
        }
        Ok(info)
    }

    /// The address to bind: `ip`, with ZeroMQ's `*` (every interface) as `0.0.0.0`.
    pub fn host(&self) -> &str {
        if self.ip == "*" { "0.0.0.0" } else { &self.ip }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"shell_port": 5001, "iopub_port": 5002, "stdin_port": 5003,
        "control_port": 5004, "hb_port": 5005, "ip": "127.0.0.1", "key": "abc",
        "transport": "tcp", "signature_scheme": "hmac-sha256", "kernel_name": "bumplab"}"#;

    #[test]
    fn parses_what_jupyter_writes() {
        let info = ConnectionInfo::parse(FILE).unwrap();
        assert_eq!(info.shell_port, 5001);
        assert_eq!(info.key, "abc");
        assert_eq!(info.host(), "127.0.0.1");
        let any = ConnectionInfo::parse(&FILE.replace("127.0.0.1", "*")).unwrap();
        assert_eq!(any.host(), "0.0.0.0");
    }

    #[test]
    fn rejects_what_it_cannot_serve() {
        let ipc = FILE.replace("\"tcp\"", "\"ipc\"");
        assert!(
            ConnectionInfo::parse(&ipc)
                .unwrap_err()
                .contains("transport 'ipc'")
        );
        let md5 = FILE.replace("hmac-sha256", "hmac-md5");
        assert!(
            ConnectionInfo::parse(&md5)
                .unwrap_err()
                .contains("hmac-md5")
        );
        assert!(ConnectionInfo::parse("{").is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kernel.json");
        std::fs::write(&path, "{\"ip\": 1}").unwrap();
        let err = ConnectionInfo::read(&path).unwrap_err().to_string();
        assert!(err.contains("kernel.json: connection file:"), "{err}");
    }
}
