//! A builder for end-to-end tests of the example fabfile binary: arguments, expected output and status in one chain.

// Each test binary uses a different part of the builder.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// One run of the example binary and what it must print.
pub struct Test {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
    home_files: Vec<(String, String)>,
    rc: Option<String>,
    stdout: Option<String>,
    stderr: Option<String>,
    stdout_has: Vec<String>,
    stderr_has: Vec<String>,
    /// The exit status expected, or `None` when any status will do.
    status: Option<i32>,
}

impl Test {
    pub fn new() -> Test {
        Test {
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            home_files: Vec::new(),
            rc: None,
            stdout: None,
            stderr: None,
            stdout_has: Vec::new(),
            stderr_has: Vec::new(),
            status: Some(0),
        }
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// An environment variable for the run.
    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Text on standard input (otherwise it is empty).
    pub fn stdin(mut self, text: &str) -> Test {
        self.stdin = Some(text.into());
        self
    }

    /// A file in the run's fresh HOME, such as `.ssh/known_hosts`.
    pub fn home_file(mut self, path: &str, content: &str) -> Test {
        self.home_files.push((path.into(), content.into()));
        self
    }

    /// Content of `~/.fabricrc` for this run (HOME is always a fresh directory).
    pub fn rcfile(mut self, text: &str) -> Test {
        self.rc = Some(text.into());
        self
    }

    pub fn stdout(mut self, text: &str) -> Test {
        self.stdout = Some(text.into());
        self
    }

    pub fn stderr(mut self, text: &str) -> Test {
        self.stderr = Some(text.into());
        self
    }

    pub fn stdout_has(mut self, text: &str) -> Test {
        self.stdout_has.push(text.into());
        self
    }

    pub fn stderr_has(mut self, text: &str) -> Test {
        self.stderr_has.push(text.into());
        self
    }

    pub fn status(mut self, status: i32) -> Test {
        self.status = Some(status);
        self
    }

    /// Runs the binary without expecting a status; returns the status.
    pub fn run_any_status(self) -> i32 {
        self.run_any().2
    }

    /// Runs the binary without expecting a status; returns stdout, stderr and the status.
    pub fn run_any(mut self) -> (String, String, i32) {
        self.status = None;
        self.run_both()
    }

    /// Runs the binary and checks everything stated; returns stdout for further checks.
    pub fn run(self) -> String {
        self.run_both().0
    }

    /// Like `run`, returning stderr.
    pub fn run_stderr(self) -> String {
        self.run_both().1
    }

    fn run_both(self) -> (String, String, i32) {
        let home = tempfile::tempdir().expect("temporary HOME");
        if let Some(rc) = &self.rc {
            std::fs::write(home.path().join(".fabricrc"), rc).expect("write rc file");
        }
        for (path, content) in &self.home_files {
            let file = home.path().join(path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("home folder");
            std::fs::write(file, content).expect("home file");
        }
        let mut child = Command::new(binary())
            .args(&self.args)
            .env("HOME", home.path())
            .env("USER", "tester")
            .env_remove("FABRIC_DISABLE_COLORS")
            .env_remove("SSH_AUTH_SOCK")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the example binary");
        let input = self.stdin.clone().unwrap_or_default();
        let mut pipe = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
        let output = child
            .wait_with_output()
            .expect("wait for the example binary");
        let _ = writer.join();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let context = format!(
            "args: {:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            self.args
        );
        if let Some(expected) = &self.stdout {
            assert_eq!(&stdout, expected, "stdout differs; {context}");
        }
        if let Some(expected) = &self.stderr {
            assert_eq!(&stderr, expected, "stderr differs; {context}");
        }
        for text in &self.stdout_has {
            assert!(stdout.contains(text), "stdout lacks {text:?}; {context}");
        }
        for text in &self.stderr_has {
            assert!(stderr.contains(text), "stderr lacks {text:?}; {context}");
        }
        let code = output.status.code().unwrap_or(-1);
        if let Some(status) = self.status {
            assert_eq!(code, status, "status differs; {context}");
        }
        (stdout, stderr, code)
    }
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dfab-example"))
}

/// The abort block for `message`, as the runner prints it on stderr.
pub fn abort(message: &str) -> String {
    format!("\nFatal error: {message}\n\nAborting.\n")
}

/// A TCP proxy to the test sshd that, once cut, drops every connection through it and refuses new ones, as a
/// network that went away would.
pub struct Cutter {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Cutter {
    pub fn start(sshd_port: u16) -> Cutter {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let port = listener.local_addr().expect("address").port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (flag, streams) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                if flag.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", sshd_port)) else {
                    continue;
                };
                let mut all = streams.lock().expect("proxy streams");
                for (from, to) in [(&client, &server), (&server, &client)] {
                    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
                        continue;
                    };
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
                all.extend([client, server]);
            }
        });
        Cutter { port, cut, open }
    }

    /// Drops every connection now and refuses the next ones.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        self.drop_open();
    }

    /// Drops every connection now; new ones still pass, as after a network blip.
    pub fn drop_open(&self) {
        for stream in self.open.lock().expect("proxy streams").iter() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// What the proxy does when the event comes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Drops the connections and refuses new ones: the network is gone.
    ForGood,
    /// Drops the connections; a reconnection passes.
    Once,
}

/// Runs `task` through a proxy to sshd on `port` and cuts the connection when the local engine reports `event`
/// (type, action prefix, the object's name); returns the run's status once what the engine was still doing when
/// the connection went (a preparation, say) has ended.
pub fn cut_at(
    port: u16,
    event: (&str, &str, &str),
    how: Cut,
    task: impl FnOnce(&str) -> i32,
) -> i32 {
    let proxy = Cutter::start(port);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    // Replayed from now on, so that an event before the stream is set up is not missed.
    let mut events = std::process::Command::new("docker")
        .args([
            "events",
            "--since",
            &format!("{since:.6}"),
            "--format",
            "{{.Type}}|{{.Action}}|{{.Actor.ID}}|{{.Actor.Attributes.name}}",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("docker events");
    let lines = events.stdout.take().expect("events output");
    let wanted = (event.0.to_owned(), event.1.to_owned(), event.2.to_owned());
    let cutter = Cutter {
        port: proxy.port,
        cut: proxy.cut.clone(),
        open: proxy.open.clone(),
    };
    let watcher = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(lines).lines().map_while(Result::ok) {
            // Volumes are named by their ID, containers and networks by their name attribute.
            let fields: Vec<&str> = line.split('|').collect();
            if let [kind, action, id, name] = fields[..] {
                if kind == wanted.0
                    && action.starts_with(&wanted.1)
                    && (id == wanted.2 || name == wanted.2)
                {
                    match how {
                        Cut::ForGood => cutter.cut(),
                        Cut::Once => cutter.drop_open(),
                    }
                    return Ok(());
                }
            }
            seen.push(line);
        }
        Err(seen)
    });
    let status = task(&format!("root@127.0.0.1:{}", proxy.port));
    let _ = events.kill();
    let _ = events.wait();
    if let Err(seen) = watcher.join().expect("watcher") {
        panic!("no {event:?} event (status {status}) among {seen:#?}");
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    status
}
