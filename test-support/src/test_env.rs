//! The test environment made by `scripts/test-env`: a real sshd on 127.0.0.1 and Docker engines.

use dfab_core::env::env_mut;

use crate::turns::Turn;

/// Connection details exported by `scripts/test-env`.
pub struct TestEnv {
    /// The sshd port for key logins.
    pub port: u16,
    /// The sshd port that accepts passwords.
    pub password_port: u16,
    /// root's private key file.
    pub root_key: String,
    /// The unprivileged user (in the docker group).
    pub user: String,
    /// That user's private key file.
    pub user_key: String,
    /// That user's password (also for sudo).
    pub password: String,
    /// A private key file encrypted with `passphrase`.
    pub encrypted_key: String,
    /// The passphrase of `encrypted_key`.
    pub passphrase: String,
    /// The sshd's public host key.
    pub host_key: String,
    /// A known_hosts file holding the host key for every test port.
    pub known_hosts: String,
    /// Whether sshd also listens on ::1.
    pub ipv6: bool,
    /// The environment's state directory.
    pub dir: String,
    /// The sshd whose sessions have no socat on their PATH.
    pub nosocat_port: u16,
    /// The sshd that refuses direct-streamlocal channels (`AllowStreamLocalForwarding no`).
    pub nostream_port: u16,
    /// A user outside the docker group (logs in with `user_key`).
    pub plain_user: String,
    /// The locally built image every Docker test may use.
    pub image: String,
    /// The extra engines' sockets (`unix:///…`), each with its own data root and bridge, the test image loaded.
    pub engines: Vec<String>,
    /// The engines every engine-facing suite runs on: the default (Docker 20.10), then Docker 28 with the classic
    /// image store and with containerd's.
    pub matrix: Vec<Engine>,
    /// The calling file's turn at the environment, held as long as this value lives.
    _turn: Turn,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set by scripts/test-env"))
}

/// The environment, or `None` (with the reason printed) when the tests run outside it; under `CI=true` a
/// missing environment is a failure. Waits while tests of another file use it (see `turns`).
// It prints why a test passes without running, for the person at the laptop.
#[allow(clippy::print_stderr)]
#[track_caller]
pub fn test_env() -> Option<TestEnv> {
    let file = std::panic::Location::caller().file();
    if std::env::var("DFAB_TEST_SSH_PORT").is_err() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("the test environment is missing under CI=true: run the tests through scripts/test-env");
        }
        eprintln!("skipping: no test environment (run the tests through scripts/test-env)");
        return None;
    }
    Some(TestEnv {
        port: var("DFAB_TEST_SSH_PORT").parse().expect("port"),
        password_port: var("DFAB_TEST_SSH_PASSWORD_PORT").parse().expect("port"),
        root_key: var("DFAB_TEST_SSH_ROOT_KEY"),
        user: var("DFAB_TEST_SSH_USER"),
        user_key: var("DFAB_TEST_SSH_USER_KEY"),
        password: var("DFAB_TEST_SSH_USER_PASSWORD"),
        encrypted_key: var("DFAB_TEST_SSH_ENCRYPTED_KEY"),
        passphrase: var("DFAB_TEST_SSH_KEY_PASSPHRASE"),
        host_key: var("DFAB_TEST_SSH_HOST_KEY"),
        known_hosts: var("DFAB_TEST_KNOWN_HOSTS"),
        ipv6: var("DFAB_TEST_IPV6") == "1",
        dir: var("DFAB_TEST_ENV"),
        nosocat_port: var("DFAB_TEST_SSH_NOSOCAT_PORT").parse().expect("port"),
        nostream_port: var("DFAB_TEST_SSH_NOSTREAM_PORT").parse().expect("port"),
        plain_user: var("DFAB_TEST_SSH_PLAIN_USER"),
        image: var("DFAB_TEST_IMAGE"),
        engines: var("DFAB_TEST_ENGINES")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        matrix: matrix(),
        _turn: Turn::take(file),
    })
}

/// One Docker engine of the test environment.
#[derive(Clone, Debug)]
pub struct Engine {
    /// What it is, for assertion messages: `20.10`, `28 classic`, `28 containerd`.
    pub label: &'static str,
    /// Its address, `unix:///…`.
    pub url: String,
    /// Whether it keeps images in containerd's image store (image IDs are manifest digests there).
    pub containerd: bool,
    /// The network namespace its published ports are in, when not the machine's own.
    pub netns: Option<String>,
}

impl Engine {
    /// The address for `docker -H`, `None` for the default engine.
    pub fn host(&self) -> Option<&str> {
        (self.label != DEFAULT_LABEL).then_some(self.url.as_str())
    }
}

/// The label of the default engine.
const DEFAULT_LABEL: &str = "20.10";

fn matrix() -> Vec<Engine> {
    let namespaces: Vec<String> = var("DFAB_TEST_CURRENT_NETNS")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    vec![
        Engine {
            label: DEFAULT_LABEL,
            url: var("DFAB_TEST_DOCKER_HOST"),
            containerd: false,
            netns: None,
        },
        Engine {
            label: "28 classic",
            url: var("DFAB_TEST_ENGINE_CLASSIC28"),
            containerd: false,
            netns: namespaces.first().cloned(),
        },
        Engine {
            label: "28 containerd",
            url: var("DFAB_TEST_ENGINE_CONTAINERD28"),
            containerd: true,
            netns: namespaces.get(1).cloned(),
        },
    ]
}

/// Returns from the test when the environment is missing (after saying why).
#[macro_export]
macro_rules! require_env {
    () => {
        match $crate::test_env() {
            Some(env) => env,
            None => return,
        }
    };
}

impl TestEnv {
    /// Whether `scripts/test-env` started the Docker engine itself, so tests may remove every container and
    /// unused image on it (never on an engine that was already running, such as a developer's).
    pub fn owns_engine(&self) -> bool {
        std::path::Path::new(&self.dir)
            .join("dockerd.started")
            .exists()
    }

    /// Sets this thread's env for key-only, prompt-free connections as `user` with `key`, on `host_string`.
    pub fn login(&self, user: &str, key: &str, host_string: &str) {
        let (user, key, known, host) = (
            user.to_owned(),
            key.to_owned(),
            self.known_hosts.clone(),
            host_string.to_owned(),
        );
        env_mut(move |e| {
            e.user = user;
            e.key_filename = vec![key];
            e.no_keys = true;
            e.no_agent = true;
            e.abort_on_prompts = true;
            e.disable_known_hosts = true;
            e.system_known_hosts = Some(known);
            e.host_string = Some(host);
        });
    }

    /// The command-line options that log in as `user` with `key` on `127.0.0.1:port`, key-only and prompt-free,
    /// checking the host key against the environment's known_hosts file.
    pub fn cli_login(&self, user: &str, key: &str, port: u16) -> Vec<String> {
        vec![
            "-H".into(),
            format!("{user}@127.0.0.1:{port}"),
            "-i".into(),
            key.into(),
            "-k".into(),
            "-a".into(),
            "--system-known-hosts".into(),
            self.known_hosts.clone(),
            "--abort-on-prompts".into(),
        ]
    }

    /// The command-line options of a key login as root on the keys-only sshd (see [`cli_login`](Self::cli_login)).
    pub fn root_login(&self) -> Vec<String> {
        self.cli_login("root", &self.root_key, self.port)
    }

    /// Logs in as root on `root@127.0.0.1:PORT` and returns that host string.
    pub fn as_root(&self) -> String {
        let host = format!("root@127.0.0.1:{}", self.port);
        self.login("root", &self.root_key, &host);
        host
    }

    /// Logs in as the unprivileged user on `USER@127.0.0.1:PORT` and returns that host string.
    pub fn as_user(&self) -> String {
        let host = format!("{}@127.0.0.1:{}", self.user, self.port);
        self.login(&self.user, &self.user_key, &host);
        host
    }
}
