//! A builder for end-to-end tests of the example fabfile binary: arguments, expected output and status in one chain.

use std::path::PathBuf;
use std::process::Command;

/// One run of the example binary and what it must print.
pub struct Test {
    args: Vec<String>,
    rc: Option<String>,
    stdout: Option<String>,
    stderr: Option<String>,
    stdout_has: Vec<String>,
    stderr_has: Vec<String>,
    status: i32,
}

impl Test {
    pub fn new() -> Test {
        Test {
            args: Vec::new(),
            rc: None,
            stdout: None,
            stderr: None,
            stdout_has: Vec::new(),
            stderr_has: Vec::new(),
            status: 0,
        }
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args.extend(args.iter().map(|a| a.to_string()));
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
        self.status = status;
        self
    }

    /// Runs the binary and checks everything stated; returns stdout for further checks.
    pub fn run(self) -> String {
        let home = tempfile::tempdir().expect("temporary HOME");
        if let Some(rc) = &self.rc {
            std::fs::write(home.path().join(".fabricrc"), rc).expect("write rc file");
        }
        let output = Command::new(binary())
            .args(&self.args)
            .env("HOME", home.path())
            .env("USER", "tester")
            .env_remove("FABRIC_DISABLE_COLORS")
            .output()
            .expect("run the example binary");
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
        assert_eq!(
            output.status.code(),
            Some(self.status),
            "status differs; {context}"
        );
        stdout
    }
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dfab-example"))
}

/// The abort block for `message`, as the runner prints it on stderr.
pub fn abort(message: &str) -> String {
    format!("\nFatal error: {message}\n\nAborting.\n")
}
