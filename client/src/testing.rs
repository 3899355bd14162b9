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

/// The repository's root. Found at run time from the directory `cargo test` runs the test in
/// (a crate of the workspace, one level down), not from the path this crate was compiled at:
/// the target dir is shared between clones (CI builds a fresh clone elsewhere into it), and a
/// compile-time path would point into whichever clone last compiled this crate.
pub fn repo_root() -> PathBuf {
    let has_scripts = |dir: &Path| dir.join("scripts/zombienet.sh").is_file();
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        dirs.push(dir.into());
    }
    if let Ok(dir) = std::env::current_dir() {
        dirs.push(dir);
    }
    dirs.into_iter()
        .flat_map(|d| d.ancestors().map(Path::to_path_buf).collect::<Vec<_>>())
        .find(|d| has_scripts(d))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
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

/// A multi-validator network started by zombienet (`scripts/zombienet.sh spawn`, native
/// provider) from `zombienet/four-validators.toml`: one `tessera-node` process per validator,
/// each with its own base path, keystore and loopback ports. Stopped (zombienet and every node,
/// including restarted ones) when dropped.
pub struct Network {
    zombienet: Process,
    /// The network's files: the chain spec, zombienet's directory (`zn/`: `zombie.json`, one
    /// `<name>.log` and base path per node).
    pub dir: PathBuf,
    /// The validators, in the order of the network definition.
    pub nodes: Vec<NetworkNode>,
    /// Seconds from starting zombienet to every node answering JSON-RPC.
    pub bring_up: Duration,
}

/// One validator of a [`Network`].
pub struct NetworkNode {
    /// Its name in the network definition (`alice`, …).
    pub name: String,
    /// Its WebSocket JSON-RPC endpoint.
    pub url: String,
    /// Its Prometheus endpoint (`http://127.0.0.1:<port>/metrics`).
    pub prometheus_port: u16,
    /// Its log (zombienet's, appended to by restarts).
    pub log: PathBuf,
    /// The command line it runs, recorded from the process when it was first killed.
    argv: Option<Vec<String>>,
    /// The process started by [`NetworkNode::restart`] (zombienet started the first one).
    restarted: Option<Process>,
}

impl Network {
    /// Writes the chain-spec file (`tessera-node build-spec --chain four`) and starts the network
    /// with zombienet in `dir`; returns once every node answers JSON-RPC, failing the test after
    /// `timeout`.
    pub async fn start(dir: &Path, timeout: Duration) -> Network {
        let started = Instant::now();
        let node = binary("tessera-node");
        let spec = dir.join("tessera-four.json");
        let out = Command::new(&node)
            .args(["build-spec", "--chain", "four", "--disable-default-bootnode"])
            .stderr(Stdio::null())
            .output()
            .expect("tessera-node build-spec");
        assert!(out.status.success(), "build-spec failed");
        std::fs::write(&spec, out.stdout).expect("chain spec written");
        let script = repo_root().join("scripts/zombienet.sh");
        let zn = dir.join("zn");
        let mut cmd = Command::new(script);
        cmd.arg("spawn").arg(&zn).env("TESSERA_NODE", &node).env("TESSERA_CHAIN_SPEC", &spec);
        let mut zombienet = Process::spawn(cmd, dir.join("zombienet.log"));
        let description = zn.join("zombie.json");
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&description) {
                break text;
            }
            assert!(zombienet.is_running(), "zombienet exited:\n{}", zombienet.log_tail(60));
            assert!(started.elapsed() < timeout, "zombienet did not start the network in {timeout:?}:\n{}", zombienet.log_tail(60));
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let json: serde_json::Value = serde_json::from_str(&text).expect("zombie.json is JSON");
        let by_name = json["nodesByName"].as_object().expect("zombie.json lists nodesByName");
        let mut nodes: Vec<NetworkNode> = by_name
            .iter()
            .map(|(name, n)| {
                let url = n["wsUri"].as_str().expect("wsUri").to_owned();
                let prometheus = n["prometheusUri"].as_str().expect("prometheusUri");
                let prometheus_port = prometheus
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.split('/').next())
                    .and_then(|p| p.parse().ok())
                    .expect("prometheusUri has a port");
                NetworkNode {
                    name: name.clone(),
                    url,
                    prometheus_port,
                    log: zn.join(format!("{name}.log")),
                    argv: None,
                    restarted: None,
                }
            })
            .collect();
        nodes.sort_by_key(|n| ["alice", "bob", "charlie", "dave"].iter().position(|x| *x == n.name).unwrap_or(usize::MAX));
        for n in &nodes {
            n.connect(timeout.saturating_sub(started.elapsed())).await;
        }
        Network { zombienet, dir: dir.to_owned(), nodes, bring_up: started.elapsed() }
    }

    /// The validator called `name`.
    pub fn node(&mut self, name: &str) -> &mut NetworkNode {
        self.nodes.iter_mut().find(|n| n.name == name).unwrap_or_else(|| panic!("no node {name}"))
    }

    /// Every node's endpoint.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.url.clone()).collect()
    }

    /// zombienet's own log so far.
    pub fn zombienet_log(&self) -> String {
        self.zombienet.log_text()
    }
}

impl Drop for Network {
    /// Kills every node (zombienet's own and restarted ones), then zombienet: a SIGKILLed
    /// zombienet cannot stop the nodes it started, so they are found and killed first.
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut p) = node.restarted.take() {
                p.kill9();
            }
            if let Some(pid) = node.pid() {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
        self.zombienet.kill9();
    }
}

impl NetworkNode {
    /// Connects once JSON-RPC answers, failing the test after `timeout`.
    pub async fn connect(&self, timeout: Duration) -> Client {
        let started = Instant::now();
        loop {
            match Client::connect(&self.url).await {
                Ok(c) => return c,
                Err(e) => {
                    assert!(started.elapsed() < timeout, "{} did not answer within {timeout:?} ({e}):\n{}", self.name, self.log_tail(40));
                    tokio::time::sleep(Duration::from_millis(500)).await;
                },
            }
        }
    }

    /// Its Prometheus metrics as text (empty while it is down).
    pub fn metrics(&self) -> String {
        scrape(self.prometheus_port)
    }

    /// The process id of its `tessera-node`, found by its `--name` and this network's files.
    pub fn pid(&self) -> Option<u32> {
        let base = self.log.parent().expect("the log is in zombienet's dir").to_string_lossy().into_owned();
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let argv = proc_argv(pid)?;
            let named = argv.windows(2).any(|w| w[0] == "--name" && w[1] == self.name);
            let ours = argv.iter().any(|a| a.starts_with(&base));
            (argv.first()?.ends_with("tessera-node") && named && ours).then_some(pid)
        })
    }

    /// Kills its node with SIGKILL (no chance to flush or say goodbye) and waits until it is gone.
    pub fn kill9(&mut self) {
        if let Some(p) = self.restarted.as_mut() {
            p.kill9();
            self.restarted = None;
            return;
        }
        let pid = self.pid().unwrap_or_else(|| panic!("{} is not running", self.name));
        self.argv = Some(proc_argv(pid).expect("the node's command line"));
        let status = Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill");
        assert!(status.success(), "kill -9 {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.pid().is_some() {
            assert!(Instant::now() < deadline, "{} survived kill -9", self.name);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts its node again with the same command line, base path and database (what
    /// zombienet's native `restart` does), logging to the same file.
    pub fn restart(&mut self) {
        assert!(self.pid().is_none() && self.restarted.is_none(), "{} is still running", self.name);
        let argv = self.argv.clone().expect("kill9 recorded the command line");
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        self.restarted = Some(Process::spawn(cmd, self.log.clone()));
    }

    /// The last `n` lines of its log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// A process's command line, from /proc.
fn proc_argv(pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let argv: Vec<String> =
        raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    (!argv.is_empty()).then_some(argv)
}
