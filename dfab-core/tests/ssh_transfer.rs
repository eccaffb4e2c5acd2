//! `put()` and `get()` against the test environment's real sshd.

use dfab_test_support::require_env;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use dfab_core::env::{env_mut, warn_only};
use dfab_core::ssh::{get, put, put_with, run, GetOptions, PutOptions};

/// Writes `size` pseudo-random bytes (xorshift; incompressible enough for a transfer test).
fn random_file(path: &Path, size: usize) {
    let mut file = std::io::BufWriter::new(File::create(path).unwrap());
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15 ^ size as u64;
    let mut block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        let n = left.min(block.len());
        file.write_all(&block[..n]).unwrap();
        left -= n;
    }
    file.flush().unwrap();
}

/// FNV-1a over the whole file, streamed.
fn checksum(path: &Path) -> (u64, u64) {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).unwrap());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut length = 0u64;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buffer).unwrap();
        if n == 0 {
            return (hash, length);
        }
        length += n as u64;
        for byte in &buffer[..n] {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn remote_dir(name: &str) -> String {
    let dir = format!("/tmp/dfab-transfer-{}-{name}", std::process::id());
    run(&format!(
        "rm -rf {dir} && mkdir -p {dir} && chmod 777 {dir}"
    ))
    .unwrap();
    dir
}

#[test]
fn a_200_mb_file_round_trips_unchanged() {
    let t = require_env!();
    t.as_root();
    let local = tempfile::tempdir().unwrap();
    let source = local.path().join("big.bin");
    random_file(&source, 200 * 1024 * 1024);
    let dir = remote_dir("big");
    let put_result = put(&source.display().to_string(), &format!("{dir}/big.bin")).unwrap();
    assert_eq!(put_result.paths, [format!("{dir}/big.bin")]);
    let size = run(&format!("stat -c %s {dir}/big.bin")).unwrap();
    assert_eq!(size.stdout, (200 * 1024 * 1024).to_string());
    let back = local.path().join("back.bin");
    let got = get(&format!("{dir}/big.bin"), &back.display().to_string()).unwrap();
    assert_eq!(got.paths, [back.display().to_string()]);
    assert_eq!(checksum(&source), checksum(&back));
    run(&format!("rm -rf {dir}")).unwrap();
}

#[test]
fn directories_globs_and_templates() {
    let t = require_env!();
    let host = t.as_root();
    let local = tempfile::tempdir().unwrap();
    let tree = local.path().join("site");
    std::fs::create_dir_all(tree.join("css")).unwrap();
    std::fs::write(tree.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(tree.join("css/app.css"), "body{}").unwrap();
    std::fs::write(local.path().join("a.log"), "a").unwrap();
    std::fs::write(local.path().join("b.log"), "b").unwrap();
    let dir = remote_dir("tree");

    let uploaded = put(&tree.display().to_string(), &dir).unwrap();
    assert_eq!(
        uploaded.paths,
        [
            format!("{dir}/site/css/app.css"),
            format!("{dir}/site/index.html")
        ]
    );
    let logs = put(
        &format!("{}/*.log", local.path().display()),
        &format!("{dir}/logs"),
    )
    .unwrap();
    assert_eq!(
        logs.paths,
        [format!("{dir}/logs/a.log"), format!("{dir}/logs/b.log")]
    );
    assert_eq!(
        run(&format!("cat {dir}/site/css/app.css")).unwrap().stdout,
        "body{}"
    );

    let out = tempfile::tempdir().unwrap();
    let template = format!("{}/%(host)s/%(path)s", out.path().display());
    let fetched = get(&format!("{dir}/logs/*.log"), &template).unwrap();
    let host_dir = host.replace(':', "-");
    assert_eq!(
        fetched.paths,
        [
            format!("{}/{host_dir}/a.log", out.path().display()),
            format!("{}/{host_dir}/b.log", out.path().display())
        ]
    );
    let whole = get(
        &format!("{dir}/site"),
        &out.path().join("copy").display().to_string(),
    )
    .unwrap();
    assert_eq!(whole.paths.len(), 2);
    assert_eq!(
        std::fs::read_to_string(out.path().join("copy/site/index.html")).unwrap(),
        "<h1>hi</h1>"
    );
    run(&format!("rm -rf {dir}")).unwrap();
}

#[test]
fn modes_are_set_or_mirrored() {
    let t = require_env!();
    t.as_root();
    let local = tempfile::tempdir().unwrap();
    let script = local.path().join("run.sh");
    std::fs::write(&script, "#!/bin/sh\necho ran\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o751)).unwrap();
    let dir = remote_dir("modes");
    let options = PutOptions {
        mode: Some(0o640),
        ..PutOptions::default()
    };
    put_with(
        &script.display().to_string(),
        &format!("{dir}/a.sh"),
        &options,
    )
    .unwrap();
    let mirror = PutOptions {
        mirror_local_mode: true,
        ..PutOptions::default()
    };
    put_with(
        &script.display().to_string(),
        &format!("{dir}/b.sh"),
        &mirror,
    )
    .unwrap();
    let modes = run(&format!("stat -c %a {dir}/a.sh {dir}/b.sh")).unwrap();
    assert_eq!(modes.stdout, "640\r\n751");
    run(&format!("rm -rf {dir}")).unwrap();
}

#[test]
fn sudo_transfers_as_the_unprivileged_user() {
    let t = require_env!();
    t.as_root();
    run("mkdir -p /root/dfab-sudo && echo secret > /root/dfab-sudo/secret.txt && chmod 600 /root/dfab-sudo/secret.txt")
        .unwrap();
    t.as_user();
    let password = t.password.clone();
    env_mut(move |e| e.sudo_password = Some(password));
    let local = tempfile::tempdir().unwrap();
    let file = local.path().join("conf.txt");
    std::fs::write(&file, "setting=1\n").unwrap();
    let options = PutOptions {
        use_sudo: true,
        mode: Some(0o600),
        ..PutOptions::default()
    };
    put_with(
        &file.display().to_string(),
        "/root/dfab-sudo/conf.txt",
        &options,
    )
    .unwrap();
    let back = local.path().join("secret.txt");
    dfab_core::ssh::get_with(
        "/root/dfab-sudo/secret.txt",
        &back.display().to_string(),
        &GetOptions {
            use_sudo: true,
            ..GetOptions::default()
        },
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "secret\n");
    t.as_root();
    let owner =
        run("stat -c '%U %a' /root/dfab-sudo/conf.txt && cat /root/dfab-sudo/conf.txt").unwrap();
    // As in Fabric, `sudo mv` keeps the uploading user as the owner.
    assert_eq!(owner.stdout, format!("{} 600\r\nsetting=1", t.user));
    run("rm -rf /root/dfab-sudo").unwrap();
}

#[test]
fn missing_files_permissions_and_a_full_disk_are_reported() {
    let t = require_env!();
    t.as_user();
    let error = put("/nonexistent/file.txt", "/tmp/x").unwrap_err();
    assert_eq!(
        error.to_string(),
        "'/nonexistent/file.txt' is not a valid local path or glob."
    );
    let error = format!(
        "{:#}",
        get("/nonexistent/remote.txt", "/tmp/dfab-never").unwrap_err()
    );
    assert_eq!(
        error,
        "get() encountered an exception while downloading '/nonexistent/remote.txt': No such file or directory"
    );

    let local = tempfile::tempdir().unwrap();
    let small = local.path().join("small.txt");
    std::fs::write(&small, "x").unwrap();
    let error = format!(
        "{:#}",
        put(&small.display().to_string(), "/root/forbidden.txt").unwrap_err()
    );
    assert!(
        error.starts_with(&format!(
            "put() encountered an exception while uploading '{}': ",
            small.display()
        )) && error.contains("Permission denied"),
        "{error}"
    );

    let full_dir = std::env::var("DFAB_TEST_FULL_DIR").expect("DFAB_TEST_FULL_DIR");
    let big = local.path().join("big.bin");
    random_file(&big, 3 * 1024 * 1024);
    let target = format!("{full_dir}/big-{}.bin", std::process::id());
    let error = format!(
        "{:#}",
        put(&big.display().to_string(), &target).unwrap_err()
    );
    assert!(error.contains("No space left on device"), "{error}");
    let leftovers = run(&format!("ls -A {full_dir}")).unwrap();
    assert!(
        !leftovers
            .stdout
            .contains(&format!("big-{}", std::process::id())),
        "{}",
        leftovers.stdout
    );

    // A get into a full local disk names the cause and the file, and leaves nothing behind.
    let remote_big = format!("/tmp/dfab-big-{}.bin", std::process::id());
    put(&big.display().to_string(), &remote_big).unwrap();
    let local_target = format!("{full_dir}/local-{}.bin", std::process::id());
    let error = format!("{:#}", get(&remote_big, &local_target).unwrap_err());
    assert!(
        error.contains("No space left on device (os error 28) writing '")
            && error.contains(&format!(
                "{full_dir}/local-{}.bin.dfab-",
                std::process::id()
            )),
        "{error}"
    );
    let _ = run(&format!("rm -f {remote_big}"));
    let leftovers: Vec<_> = std::fs::read_dir(&full_dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("local-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let _w = warn_only();
    let partial = put(&small.display().to_string(), "/root/forbidden.txt").unwrap();
    assert_eq!(partial.failed, [small.display().to_string()]);
}

/// A TCP proxy to the test sshd that cuts the connection once `limit` bytes flowed in the armed direction.
struct CuttingProxy {
    port: u16,
    armed: Arc<AtomicBool>,
}

impl CuttingProxy {
    fn start(sshd_port: u16, limit: u64, downstream: bool) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&armed);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = TcpStream::connect(("127.0.0.1", sshd_port)).unwrap();
                let counted = Arc::new(AtomicU64::new(0));
                for (from, to, counts) in [
                    (
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        !downstream,
                    ),
                    (server, client, downstream),
                ] {
                    let flag = Arc::clone(&flag);
                    let counted = Arc::clone(&counted);
                    std::thread::spawn(move || {
                        relay(from, to, counts.then_some((flag, counted, limit)))
                    });
                }
            }
        });
        CuttingProxy { port, armed }
    }
}

fn relay(
    mut from: TcpStream,
    mut to: TcpStream,
    cut: Option<(Arc<AtomicBool>, Arc<AtomicU64>, u64)>,
) {
    let mut buffer = [0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some((armed, counted, limit)) = &cut {
            if armed.load(Ordering::SeqCst)
                && counted.fetch_add(n as u64, Ordering::SeqCst) > *limit
            {
                break;
            }
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[test]
fn a_connection_dropped_mid_download_leaves_no_file() {
    let t = require_env!();
    t.as_root();
    let dir = remote_dir("drop-get");
    run(&format!("head -c 60000000 /dev/urandom > {dir}/big.bin")).unwrap();
    let proxy = CuttingProxy::start(t.port, 8 * 1024 * 1024, true);
    t.login(
        "root",
        &t.root_key,
        &format!("root@127.0.0.1:{}", proxy.port),
    );
    assert_eq!(
        run("echo through-the-proxy").unwrap().stdout,
        "through-the-proxy"
    );
    proxy.armed.store(true, Ordering::SeqCst);
    let local = tempfile::tempdir().unwrap();
    let target = local.path().join("big.bin");
    let error = format!(
        "{:#}",
        get(&format!("{dir}/big.bin"), &target.display().to_string()).unwrap_err()
    );
    assert!(error.contains("dropped"), "{error}");
    assert!(
        !target.exists(),
        "a partial file was left under the final name"
    );
    assert_eq!(
        std::fs::read_dir(local.path()).unwrap().count(),
        0,
        "a temporary file was left"
    );
    t.as_root();
    run(&format!("rm -rf {dir}")).unwrap();
}

#[test]
fn a_connection_dropped_mid_upload_leaves_no_file() {
    let t = require_env!();
    t.as_root();
    let dir = remote_dir("drop-put");
    let local = tempfile::tempdir().unwrap();
    let source = local.path().join("big.bin");
    random_file(&source, 60 * 1024 * 1024);
    let proxy = CuttingProxy::start(t.port, 8 * 1024 * 1024, false);
    t.login(
        "root",
        &t.root_key,
        &format!("root@127.0.0.1:{}", proxy.port),
    );
    run("true").unwrap();
    proxy.armed.store(true, Ordering::SeqCst);
    let error = format!(
        "{:#}",
        put(&source.display().to_string(), &format!("{dir}/big.bin")).unwrap_err()
    );
    assert!(
        error.contains("dropped") || error.contains("broke"),
        "{error}"
    );
    t.as_root();
    let exists = run(&format!(
        "test -e {dir}/big.bin && echo present || echo absent"
    ))
    .unwrap();
    assert_eq!(exists.stdout, "absent");
    run(&format!("rm -rf {dir}")).unwrap();
}
