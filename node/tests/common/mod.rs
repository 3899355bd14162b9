//! Helpers for tests that run a real `tessera-node` process: free ports, a minimal JSON-RPC
//! client over HTTP/1.1 (std only), and a process guard that stops the node by its PID.
#![allow(dead_code)]

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

pub mod chain;

/// The node binary cargo built for these tests.
pub const NODE_BIN: &str = env!("CARGO_BIN_EXE_tessera-node");

/// A TCP port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS hands out an ephemeral port")
}

/// Calls `method` with `params` on the JSON-RPC server at `127.0.0.1:port`.
/// Returns the `result`, or the `error` object / transport failure as an `Err` string.
pub fn rpc(port: u16, method: &str, params: Value) -> Result<Value, String> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| format!("read: {e}"))?;
    let response = String::from_utf8(response).map_err(|e| format!("utf8: {e}"))?;
    let (head, payload) =
        response.split_once("\r\n\r\n").ok_or_else(|| format!("malformed HTTP response: {response}"))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("HTTP error: {}", head.lines().next().unwrap_or_default()));
    }
    let v: Value = serde_json::from_str(payload).map_err(|e| format!("json: {e}: {payload}"))?;
    match (v.get("result"), v.get("error")) {
        (Some(r), _) => Ok(r.clone()),
        (_, Some(e)) => Err(format!("rpc error: {e}")),
        _ => Err(format!("neither result nor error: {v}")),
    }
}

/// Decodes a `0x…` hex string.
pub fn hex_bytes(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("a hex string");
    let s = s.strip_prefix("0x").unwrap_or(s);
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("valid hex"))
        .collect()
}

/// A running `tessera-node`; stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Node {
    pub child: Child,
    pub rpc_port: u16,
    pub p2p_port: u16,
    pub prometheus_port: u16,
    pub log: PathBuf,
}

impl Node {
    /// Starts `tessera-node --dev --tmp` on free ports, logging to a file.
    pub fn start_dev(extra: &[&str]) -> Node {
        let (rpc_port, p2p_port, prometheus_port) = (free_port(), free_port(), free_port());
        let log = std::env::temp_dir().join(format!("tessera-node-{rpc_port}.log"));
        let log_file = std::fs::File::create(&log).expect("create log file");
        let child = Command::new(NODE_BIN)
            .args(["--dev", "--tmp", "--no-telemetry", "--no-mdns", "--rpc-port"])
            .arg(rpc_port.to_string())
            .arg("--port")
            .arg(p2p_port.to_string())
            .arg("--prometheus-port")
            .arg(prometheus_port.to_string())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn tessera-node");
        Node { child, rpc_port, p2p_port, prometheus_port, log }
    }

    /// The last lines of the node's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    pub fn rpc(&self, method: &str, params: Value) -> Result<Value, String> {
        rpc(self.rpc_port, method, params)
    }

    /// Polls `f` every 500 ms until it returns `Some`, failing the test after `timeout`
    /// (or at once if the node exits).
    pub fn wait_for<T>(&mut self, what: &str, timeout: Duration, mut f: impl FnMut(&Node) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("tessera-node exited ({status}) while waiting for {what}:\n{}", self.log_tail());
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Waits until JSON-RPC answers.
    pub fn wait_for_rpc(&mut self, timeout: Duration) {
        self.wait_for("JSON-RPC", timeout, |n| n.rpc("system_chain", json!([])).ok());
    }

    /// The number of the block with `hash`.
    pub fn block_number(&self, hash: &Value) -> Option<u64> {
        let header = self.rpc("chain_getHeader", json!([hash])).ok()?;
        u64::from_str_radix(header["number"].as_str()?.trim_start_matches("0x"), 16).ok()
    }

    /// Sends SIGTERM to the node's PID and waits up to `timeout` for it to exit.
    pub fn stop(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("tessera-node ignored SIGTERM for {timeout:?}:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
