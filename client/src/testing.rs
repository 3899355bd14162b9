//! Test support (feature `test-support`): start real `tessera-node`, `tessera-worker` and
//! `tessera` processes from the workspace's build and talk to them through [`Client`], the
//! same client the tools use. Nothing here is compiled into a product.

use std::{
    future::Future,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{Client, Error};

/// A TCP port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A binary of the workspace (`tessera-node`, `tessera-worker`, `tessera`), from the target
/// directory the running test was built into.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its path");
    // target/<profile>/deps/<test>-<hash> → target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("a test binary lives in target/<profile>/deps");
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing: build the workspace first (cargo build --workspace)", path.display());
    path
}

/// A child process, killed (SIGKILL) when dropped.
pub struct Process {
    child: Child,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

impl Process {
    /// Spawns `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(mut cmd: Command, log: PathBuf) -> Process {
        let file = std::fs::File::options().create(true).append(true).open(&log).expect("log file");
        let child = cmd
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Process { child, log }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks it to stop (SIGTERM, as an operator or systemd would) and waits up to `timeout` for
    /// it to exit; returns how it exited. Fails the test (after SIGKILL) if it ignores the
    /// signal.
    pub fn stop(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.as_ref().is_ok_and(|s| s.success()), "cannot send SIGTERM to {pid}: {sent:?}");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                self.kill9();
                panic!("process {pid} ignored SIGTERM for {timeout:?}:\n{}", self.log_tail(40));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `n` lines of its log, for failure messages.
    pub fn log_tail(&self, n: usize) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A running `tessera-node --dev --tmp` on free loopback ports.
pub struct DevNode {
    /// The node process.
    pub process: Process,
    /// Its JSON-RPC port.
    pub rpc_port: u16,
    /// Its Prometheus port.
    pub prometheus_port: u16,
}

impl DevNode {
    /// Starts a dev node logging to `dir/<name>-node.log`, with `extra` arguments.
    pub fn start(dir: &Path, name: &str, extra: &[&str]) -> DevNode {
        let (rpc_port, prometheus_port, p2p_port) = (free_port(), free_port(), free_port());
        let mut cmd = Command::new(binary("tessera-node"));
        cmd.args(["--dev", "--tmp", "--no-telemetry", "--no-mdns"])
            .args(["--rpc-port", &rpc_port.to_string()])
            .args(["--prometheus-port", &prometheus_port.to_string()])
            .args(["--port", &p2p_port.to_string()])
            .args(extra);
        let process = Process::spawn(cmd, dir.join(format!("{name}-node.log")));
        DevNode { process, rpc_port, prometheus_port }
    }

    /// Its WebSocket JSON-RPC endpoint.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.rpc_port)
    }

    /// Connects once JSON-RPC answers (a debug node compiles the runtime first), failing the test
    /// after `timeout` or at once if the node exits.
    pub async fn connect(&mut self, timeout: Duration) -> Client {
        let started = Instant::now();
        loop {
            match Client::connect(&self.url()).await {
                Ok(c) => return c,
                Err(e) => {
                    if !self.process.is_running() {
                        panic!("tessera-node exited:\n{}", self.process.log_tail(40));
                    }
                    if started.elapsed() > timeout {
                        panic!("tessera-node did not answer within {timeout:?} ({e}):\n{}", self.process.log_tail(40));
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                },
            }
        }
    }

    /// Its Prometheus metrics as text.
    pub fn metrics(&self) -> String {
        scrape(self.prometheus_port)
    }
}

/// `GET /metrics` on 127.0.0.1:`port` (empty on any failure).
pub fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /metrics HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    let mut body = String::new();
    let _ = stream.read_to_string(&mut body);
    body.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
}

/// The value of the first sample of `metric` (a name with labels, as printed) in `text`.
pub fn metric(text: &str, metric: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(metric)?.trim().split_whitespace().next()?.parse().ok())
}

/// Polls `f` every half second until it returns `Some`; fails the test after `timeout`.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Unwraps a client result in a test, with the error's text.
pub fn ok<T>(what: &str, r: Result<T, Error>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}
