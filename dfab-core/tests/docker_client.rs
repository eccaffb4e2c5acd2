//! The Docker client through the real sshd: concurrent calls on one connection, a session killed mid-upload, an
//! upload timeout.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;

use dfab_core::docker::docker_client;
use dfab_core::tasks::load_image_file;
use dfab_test_support::TestEnv;

/// The tests kill sshd sessions, so they take turns.
fn serial() -> Option<(TestEnv, MutexGuard<'static, ()>)> {
    static LOCK: Mutex<()> = Mutex::new(());
    let t = dfab_test_support::test_env()?;
    Some((t, LOCK.lock().unwrap_or_else(|p| p.into_inner())))
}

/// A tarball of about 400 MB (one file of zeros), made once per test run.
fn big_tarball(dir: &Path) -> PathBuf {
    let data = dir.join("zeros.bin");
    let file = std::fs::File::create(&data).expect("data file");
    file.set_len(400 * 1024 * 1024).expect("size");
    let tar = dir.join("big.tar");
    let status = Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(dir)
        .arg("zeros.bin")
        .status()
        .expect("tar");
    assert!(status.success());
    std::fs::remove_file(&data).expect("remove the data file");
    tar
}

#[test]
fn ten_concurrent_calls_share_one_connection() {
    let Some((t, _turn)) = serial() else { return };
    let host = t.as_root();
    let client = docker_client().expect("client");
    let connection = dfab_core::ssh::connection(&host).expect("connection");
    assert!(
        Arc::ptr_eq(client.connection().expect("a remote client"), &connection),
        "the client uses the host's cached connection"
    );
    let image = t.image.clone();
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let (client, image) = (&client, image.clone());
                scope.spawn(move || {
                    client.call("inspecting the image", |d| async move {
                        d.inspect_image(&image).await
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for result in results {
        let inspected = result.expect("inspect through the tunnel");
        assert!(inspected.repo_tags.unwrap_or_default().contains(&image));
    }
    assert!(Arc::ptr_eq(
        &docker_client().expect("cached client"),
        &client
    ));
    assert!(!connection.is_broken());
}

#[test]
fn a_session_killed_mid_load_is_an_error_not_a_hang() {
    let Some((t, _turn)) = serial() else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let tar = big_tarball(dir.path());
    let host = format!("root@127.0.0.1:{}", t.port);
    let (done, outcome) = mpsc::channel();
    let login = {
        let t = dfab_test_support::test_env().expect("env");
        move || t.as_root()
    };
    let (connected, ready) = mpsc::channel();
    std::thread::spawn(move || {
        login();
        // Connect and negotiate the API version first, so that the kill below lands in the upload itself and not
        // in the negotiation, however slow the machine is.
        let _ = connected.send(docker_client().map(|_| ()).map_err(|e| e.to_string()));
        let _ = done.send(load_image_file(&tar, Duration::from_secs(120)));
    });
    ready
        .recv_timeout(Duration::from_secs(60))
        .expect("the client connects")
        .expect("the client connects");
    std::thread::sleep(Duration::from_millis(500));
    // Kill this sshd's session processes (the listener stays): the connection drops mid-upload.
    let daemon = std::fs::read_to_string(Path::new(&t.dir).join("sshd.pid")).expect("sshd pid");
    Command::new("pkill")
        .args(["-KILL", "-P", daemon.trim()])
        .status()
        .expect("pkill");
    let result = outcome
        .recv_timeout(Duration::from_secs(60))
        .expect("load_image ends instead of hanging");
    let error = result.expect_err("the load fails").to_string();
    assert!(
        error.starts_with(&format!(
            "the connection to the Docker engine on {host} dropped during loading {}: ",
            dir.path().join("big.tar").display()
        )),
        "{error}"
    );
}

#[test]
fn an_upload_slower_than_its_timeout_is_cut_off() {
    let Some((t, _turn)) = serial() else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let tar = big_tarball(dir.path());
    let host = t.as_root();
    let error = load_image_file(&tar, Duration::from_secs(1))
        .expect_err("400 MB do not pass in a second")
        .to_string();
    assert_eq!(
        error,
        format!("loading {} on {host} timed out after 1 s", tar.display())
    );
}

/// Every request carries the API version in its path: the pin when one is set (from the negotiation on), else the
/// lower of dfab's newest and the engine's; a pin outside the engine's range is one line naming both ranges. On
/// the old engine and both current ones, through a proxy that records what reaches the engine.
#[test]
fn every_request_carries_the_pinned_or_negotiated_api_version() {
    let Some((t, _turn)) = serial() else { return };
    let connect = |url: &str, pin: Option<&str>| {
        let (url, pin) = (url.to_owned(), pin.map(str::to_owned));
        dfab_core::env::env_mut(move |e| {
            e.host_string = None;
            e.docker_base_url = Some(url);
            e.docker_api_version = pin;
        });
        dfab_core::docker::DockerClient::connect(&dfab_core::env::env())
    };
    let touch = |client: &dfab_core::docker::DockerClient| {
        client
            .call("listing containers", |d| async move {
                d.list_containers(None::<bollard::query_parameters::ListContainersOptions>)
                    .await
            })
            .expect("containers");
        client
            .find_image("inspecting the image", &t.image)
            .expect("inspect")
            .expect("the test image");
    };
    for engine in &t.matrix {
        let proxy = dfab_test_support::RecordingProxy::start(&engine.url);
        let newest = if engine.label == "20.10" {
            "1.41"
        } else {
            "1.51"
        };
        // Unpinned: the negotiation itself is unversioned, everything after it at the settled version.
        let client = connect(&proxy.url(), None).expect("an unpinned client");
        assert_eq!(
            client.api_version(),
            newest,
            "negotiated on {}",
            engine.label
        );
        touch(&client);
        let requests = proxy.requests();
        assert_eq!(requests[0], "GET /version", "on {}", engine.label);
        assert!(requests.len() >= 3, "{requests:?}");
        for request in &requests[1..] {
            assert!(
                request.contains(&format!(" /v{newest}/")),
                "{request} on {} without /v{newest}/ in {requests:?}",
                engine.label
            );
        }
        // Pinned: every request, the negotiation too.
        proxy.clear();
        let client = connect(&proxy.url(), Some("1.41")).expect("a pinned client");
        assert_eq!(client.api_version(), "1.41");
        touch(&client);
        let requests = proxy.requests();
        assert!(requests.len() >= 3, "{requests:?}");
        for request in &requests {
            assert!(
                request.contains(" /v1.41/"),
                "{request} on {} without /v1.41/ in {requests:?}",
                engine.label
            );
        }
        // A pin newer than the engine speaks.
        let oldest = if engine.label == "20.10" {
            "1.12"
        } else {
            "1.24"
        };
        let error = connect(&proxy.url(), Some("1.52"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(format!(
                "docker_api_version 1.52 is outside the API versions the Docker engine on localhost accepts ({oldest} to {newest}); dfab speaks 1.24 to 1.51 (unset docker_api_version to negotiate)"
            ).as_str()),
            "on {}",
            engine.label
        );
    }
    dfab_core::env::env_mut(|e| {
        e.docker_base_url = None;
        e.docker_api_version = None;
    });
}
