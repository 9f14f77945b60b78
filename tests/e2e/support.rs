//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `campustwin` binary built for these tests.
pub fn campustwin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_campustwin"))
}

/// Runs `campustwin` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    campustwin().args(args).output().expect("campustwin runs")
}

/// Root of the repository.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary directory, removed on drop unless `KEEP_TEST_DIRS` is set.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory under the system's temp dir, named after `label`.
    pub fn new(label: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "campustwin-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A TCP port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not listen on port {port} within 20 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Finds a server binary, or fails the test saying which Debian package provides it.
pub fn server_binary(name: &str, package: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = PathBuf::from(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("`{name}` is not installed: this test needs the Debian package `{package}` (.ci/run installs it)");
}

/// Sends SIGTERM (or SIGKILL with `kill`) to a child and waits for it.
pub fn stop_child(child: &mut std::process::Child, kill: bool) {
    let signal = if kill { "-KILL" } else { "-TERM" };
    let _ = Command::new("kill")
        .arg(signal)
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

/// A real Mosquitto broker on a free port, persisting to its own directory.
pub struct Mosquitto {
    child: Option<std::process::Child>,
    /// Its port.
    pub port: u16,
    dir: TempDir,
    tls: bool,
}

impl Mosquitto {
    /// Starts Mosquitto with persistence, unlimited queues and a wide in-flight window.
    pub fn start() -> Self {
        Self::start_with(false, |port, _| {
            format!("listener {port} 127.0.0.1\nallow_anonymous true\n")
        })
    }

    /// Starts Mosquitto that speaks TLS only (a certificate for `localhost` from a CA made
    /// for the test: [`Mosquitto::ca_file`]) and lets in `user` with `password` only.
    pub fn start_secure(user: &str, password: &str) -> Self {
        Self::start_with(true, |port, dir| {
            make_certificates(dir);
            let passwords = dir.join("passwd");
            let status = Command::new(server_binary("mosquitto_passwd", "mosquitto"))
                .arg("-c")
                .arg("-b")
                .arg(&passwords)
                .args([user, password])
                .status()
                .expect("mosquitto_passwd runs");
            assert!(status.success(), "mosquitto_passwd failed");
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n\
                 cafile {}\ncertfile {}\nkeyfile {}\n",
                passwords.display(),
                dir.join("ca.pem").display(),
                dir.join("server.pem").display(),
                dir.join("server.key").display()
            )
        })
    }

    /// `listener` gives the listener's lines for a port and the broker's directory.
    fn start_with(tls: bool, listener: impl FnOnce(u16, &std::path::Path) -> String) -> Self {
        let dir = TempDir::new("mosquitto");
        let port = free_port();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "{}persistence true\npersistence_location {}/\n\
                 max_queued_messages 0\nmax_inflight_messages 1000\nuser root\nlog_dest file {}/mosquitto.log\n",
                listener(port, dir.path()),
                dir.path().display(),
                dir.path().display()
            ),
        )
        .expect("mosquitto.conf");
        let mut m = Self {
            child: None,
            port,
            dir,
            tls,
        };
        m.restart();
        m
    }

    /// The broker URL (`mqtts://localhost:…` for a secure broker: the name its
    /// certificate is for).
    pub fn url(&self) -> String {
        match self.tls {
            true => format!("mqtts://localhost:{}", self.port),
            false => format!("mqtt://127.0.0.1:{}", self.port),
        }
    }

    /// The PEM file of the CA that signed a secure broker's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Stops it gracefully (it saves its persistence file).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, false);
        }
    }

    /// Starts it again on the same port with the same persistence.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "mosquitto is running");
        let bin = server_binary("mosquitto", "mosquitto");
        let child = Command::new(bin)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        self.child = Some(child);
        wait_for_port(self.port, "mosquitto");
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Makes, in `dir`, a CA (`ca.pem`, `ca.key`) and a server certificate for `localhost` and
/// 127.0.0.1 signed by it (`server.pem`, `server.key`), with the `openssl` command.
fn make_certificates(dir: &std::path::Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("`openssl` runs (Debian package openssl; .ci/run installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName = DNS:localhost, IP:127.0.0.1\nbasicConstraints = CA:FALSE\n\
         keyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n",
    )
    .expect("server.ext");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
}

/// A real VictoriaMetrics (speaks the InfluxDB v2 write API) on a free port.
pub struct VictoriaMetrics {
    child: Option<std::process::Child>,
    /// Its HTTP port.
    pub port: u16,
    dir: TempDir,
}

impl VictoriaMetrics {
    /// Starts it with its own storage directory.
    pub fn start() -> Self {
        let mut vm = Self {
            child: None,
            port: free_port(),
            dir: TempDir::new("victoria-metrics"),
        };
        vm.restart();
        vm
    }

    /// Base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops it gracefully.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, false);
        }
    }

    /// Starts it again with the same storage.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "victoria-metrics is running");
        let bin = server_binary("victoria-metrics", "victoria-metrics");
        let log = std::fs::File::create(self.dir.path().join("vm.log")).expect("vm log");
        let child = Command::new(bin)
            .arg(format!(
                "-storageDataPath={}",
                self.dir.path().join("data").display()
            ))
            .arg(format!("-httpListenAddr=127.0.0.1:{}", self.port))
            .arg("-retentionPeriod=100y")
            .stdout(log.try_clone().expect("vm log"))
            .stderr(log)
            .spawn()
            .expect("victoria-metrics starts");
        self.child = Some(child);
        wait_for_port(self.port, "victoria-metrics");
    }

    /// A plain HTTP GET on 127.0.0.1; returns the body.
    pub fn get(&self, path_and_query: &str) -> String {
        use std::io::{Read, Write};
        let mut s =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to victoria-metrics");
        write!(s, "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
        let mut response = String::new();
        s.read_to_string(&mut response).expect("response");
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        assert!(
            head.starts_with("HTTP/1.1 2") || head.starts_with("HTTP/1.0 2"),
            "GET {path_and_query}: {head}"
        );
        body.to_owned()
    }
}

impl Drop for VictoriaMetrics {
    fn drop(&mut self) {
        self.stop();
    }
}
