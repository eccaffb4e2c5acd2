//! `Test`: one run of a fabfile binary, its arguments, expected output and status stated in one chain.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// One run of a fabfile binary and what it must print.
pub struct Test {
    binary: PathBuf,
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
    /// A run of `binary` (a test's `env!("CARGO_BIN_EXE_…")`) that must exit 0 unless told otherwise.
    pub fn of(binary: impl Into<PathBuf>) -> Test {
        Test {
            binary: binary.into(),
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

    /// Arguments for the run, after those given before.
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

    /// Exactly this on stdout.
    pub fn stdout(mut self, text: &str) -> Test {
        self.stdout = Some(text.into());
        self
    }

    /// Exactly this on stderr.
    pub fn stderr(mut self, text: &str) -> Test {
        self.stderr = Some(text.into());
        self
    }

    /// This somewhere on stdout.
    pub fn stdout_has(mut self, text: &str) -> Test {
        self.stdout_has.push(text.into());
        self
    }

    /// This somewhere on stderr.
    pub fn stderr_has(mut self, text: &str) -> Test {
        self.stderr_has.push(text.into());
        self
    }

    /// The exit status the run must end with (0 unless told).
    pub fn status(mut self, status: i32) -> Test {
        self.status = Some(status);
        self
    }

    /// Runs the binary without expecting a status; returns the status.
    #[track_caller]
    pub fn run_any_status(self) -> i32 {
        self.run_any().2
    }

    /// Runs the binary without expecting a status; returns stdout, stderr and the status.
    #[track_caller]
    pub fn run_any(mut self) -> (String, String, i32) {
        self.status = None;
        self.run_both()
    }

    /// Runs the binary and checks everything stated; returns stdout for further checks.
    #[track_caller]
    pub fn run(self) -> String {
        self.run_both().0
    }

    /// Like `run`, returning stderr.
    #[track_caller]
    pub fn run_stderr(self) -> String {
        self.run_both().1
    }

    #[track_caller]
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
        let mut child = Command::new(&self.binary)
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
            .expect("run the fabfile binary");
        let input = self.stdin.clone().unwrap_or_default();
        let mut pipe = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
        let output = child
            .wait_with_output()
            .expect("wait for the fabfile binary");
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

/// The abort block for `message`, as the runner prints it on stderr.
pub fn abort(message: &str) -> String {
    format!("\nFatal error: {message}\n\nAborting.\n")
}
