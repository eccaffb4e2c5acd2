//! `docker.push_image` end to end on the test environment's extra engines, through sshd: a first push sends what the
//! engine lacks, a second sends nothing, a 5 MB change on a 100 MB base sends only its layer, engines with different
//! layers each get their own, and a push cut part way leaves no tag and completes when run again.

use std::path::Path;
use std::process::Command;

use dfab_test_support::{docker, image_content, image_id, untagged_images, Cutter, TestEnv};
use serde_json::Value;

use crate::dfab;

/// Held by the tests that use the current engines: they count untagged images there, and another test's retag
/// leaves one.
static CURRENT_ENGINES: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// This test's turn at the current engines.
fn current_engines() -> std::sync::MutexGuard<'static, ()> {
    CURRENT_ENGINES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

const BASE: &str = "dfab-push-test/base:1";
const APP: &str = "dfab-push-test/app:2";

/// Builds two images on the local engine: `base`, a layer of `base_mb` MB on busybox, and `app`, a layer of
/// `app_mb` MB on that.
fn build_images(t: &TestEnv, (base, base_mb): (&str, u32), (app, app_mb): (&str, u32)) {
    let dir = tempfile::tempdir().expect("build directory");
    for (name, from, file, mb) in [
        (base, t.image.as_str(), "base", base_mb),
        (app, base, "top", app_mb),
    ] {
        std::fs::write(
            dir.path().join("Dockerfile"),
            format!("FROM {from}\nRUN dd if=/dev/urandom of=/{file} bs=1M count={mb}\n"),
        )
        .expect("Dockerfile");
        let status = Command::new("docker")
            .args(["build", "-q", "--no-cache", "-t", name])
            .arg(dir.path())
            .status()
            .expect("docker build");
        assert!(status.success(), "docker build {name}");
    }
}

/// The options that reach `engine` through sshd on `port`.
fn to_engine(t: &TestEnv, port: u16, engine: &str) -> Vec<String> {
    let mut args = t.cli_login("root", &t.root_key, port);
    args.extend(["--set".into(), format!("docker_base_url={engine}")]);
    args
}

/// Pushes `image` (with any options after it: `app:1,source=app.tar`), spooling under `cache`, and returns the JSON
/// report.
fn push(t: &TestEnv, cache: &Path, engine: &str, image: &str) -> Value {
    let args = to_engine(t, t.port, engine);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let task = format!("docker.push_image:{image},format=json");
    let stdout = dfab()
        .env("DFAB_CACHE", &cache.to_string_lossy())
        .args(&args)
        .args(&[&task])
        .run();
    serde_json::from_str(stdout.lines().next().unwrap_or_default()).expect("a JSON report")
}

/// Pushes `image` through a proxy that cuts the connection for good after `after` bytes; returns the run's status.
fn push_cut_after(t: &TestEnv, cache: &Path, engine: &str, image: &str, after: u64) -> i32 {
    let proxy = Cutter::after_bytes(t.port, after);
    let args = to_engine(t, proxy.port(), engine);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    dfab()
        .env("DFAB_CACHE", &cache.to_string_lossy())
        .args(&args)
        .args(&[&format!("docker.push_image:{image}")])
        .run_any_status()
}

#[test]
fn push_sends_only_the_layers_each_engine_lacks() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let [e1, e2, ..] = t.engines.as_slice() else {
        panic!("the test environment has two extra engines");
    };
    for engine in [e1, e2] {
        docker(Some(engine), &["rmi", "-f", APP, BASE]);
    }
    build_images(&t, (BASE, 100), (APP, 5));
    const MB: u64 = 1024 * 1024;
    // Every run here spools under its own cache directory, where a run killed long ago left its spool file.
    let cache = tempfile::tempdir().expect("cache directory");
    let spools = cache.path().join("push");
    std::fs::create_dir_all(&spools).expect("spool directory");
    let stale = std::fs::File::create(spools.join("dfab-push-Killed.tar")).expect("stale spool");
    stale
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .expect("its age");
    drop(stale);
    let spooled = || -> Vec<String> {
        std::fs::read_dir(&spools)
            .expect("spool directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect()
    };

    // A dry run changes nothing and says what is missing.
    let args = to_engine(&t, t.port, e1);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    dfab()
        .env("DFAB_CACHE", &cache.path().to_string_lossy())
        .args(&args)
        .args(&[&format!("docker.push_image:{BASE},dry_run=true")])
        .stdout_has(&format!(
            "push {BASE} to root@127.0.0.1:{}: 1 of 2 layers, 10",
            t.port
        ))
        .run();
    assert_eq!(image_id(Some(e1), BASE), None);

    // The first push sends the 100 MB layer (busybox's is there already), the second nothing.
    let first = push(&t, cache.path(), e1, BASE);
    assert_eq!(first["layers_sent"], 1, "{first}");
    assert_eq!(first["layers_skipped"], 1, "{first}");
    let bytes = first["bytes_sent"].as_u64().expect("bytes");
    assert!((100 * MB..101 * MB).contains(&bytes), "{first}");
    assert_eq!(image_id(Some(e1), BASE), image_id(None, BASE));
    assert_eq!(
        spooled(),
        Vec::<String>::new(),
        "the run removed its spool and the one a killed run left"
    );
    let again = push(&t, cache.path(), e1, BASE);
    assert_eq!(again["bytes_sent"], 0, "{again}");

    // A 5 MB change on top: only its layer, within 1% of its size.
    let change = push(&t, cache.path(), e1, APP);
    assert_eq!(change["layers_sent"], 1, "{change}");
    assert_eq!(change["layers_skipped"], 2, "{change}");
    let bytes = change["bytes_sent"].as_u64().expect("bytes");
    assert!(bytes <= 5 * MB * 101 / 100, "{change}");
    assert_eq!(image_id(Some(e1), APP), image_id(None, APP));

    // The other engine lacks the base too: it gets both layers, and nothing lands on the first engine's behalf.
    let other = push(&t, cache.path(), e2, APP);
    assert_eq!(other["layers_sent"], 2, "{other}");
    assert!(
        other["bytes_sent"].as_u64().expect("bytes") > 105 * MB,
        "{other}"
    );
    assert_eq!(image_id(Some(e2), APP), image_id(None, APP));
    assert_eq!(
        image_id(Some(e2), BASE),
        None,
        "only the image asked for is tagged"
    );

    // Cut part way through the upload: no tag on the engine; run again, it completes.
    docker(Some(e2), &["rmi", "-f", APP]);
    docker(Some(e2), &["image", "prune", "-f"]);
    let status = push_cut_after(&t, cache.path(), e2, APP, 30 * MB);
    assert_ne!(status, 0, "the cut push fails");
    assert_eq!(
        image_id(Some(e2), APP),
        None,
        "an interrupted push leaves no tag"
    );
    let rerun = push(&t, cache.path(), e2, APP);
    assert_eq!(image_id(Some(e2), APP), image_id(None, APP), "{rerun}");
    assert_eq!(spooled(), Vec::<String>::new(), "no spool is left behind");

    for engine in [Some(e1.as_str()), Some(e2.as_str()), None] {
        docker(engine, &["rmi", "-f", APP, BASE]);
    }
}

/// The files of a saved tarball, by path.
fn saved_files(legacy: &Path) -> std::collections::HashMap<String, Vec<u8>> {
    let mut files = std::collections::HashMap::new();
    let mut archive = tar::Archive::new(std::fs::File::open(legacy).expect("the saved tarball"));
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).expect("its bytes");
        files.insert(path, bytes);
    }
    files
}

/// The blobs of an OCI layout being made, each named by the hex of its digest.
#[derive(Default)]
struct Blobs(Vec<(String, Vec<u8>)>);

impl Blobs {
    /// Adds `bytes`; returns their digest (`sha256:…`) and size.
    fn add(&mut self, bytes: Vec<u8>) -> (String, usize) {
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let size = bytes.len();
        self.0.push((hex.clone(), bytes));
        (format!("sha256:{hex}"), size)
    }

    /// Writes every blob (once) under `blobs/sha256/`, then `documents` and `oci-layout`, as a tarball into `out`.
    fn write<W: std::io::Write>(mut self, out: W, documents: &[(&str, &[u8])]) -> W {
        let mut builder = tar::Builder::new(out);
        let mut add = |path: &str, bytes: &[u8]| {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, path, bytes)
                .expect("an entry");
        };
        self.0.sort();
        self.0.dedup_by(|a, b| a.0 == b.0);
        for (hex, bytes) in &self.0 {
            add(&format!("blobs/sha256/{hex}"), bytes);
        }
        for (path, bytes) in documents {
            add(path, bytes);
        }
        add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
        builder.into_inner().expect("the tarball")
    }
}

/// Rewrites the legacy `docker save` tarball at `legacy` in the layout Docker 25 and later save (each file a blob
/// under `blobs/sha256/` named by its digest, `manifest.json` pointing at them, an OCI `index.json`), gzipped.
fn to_oci_layout(legacy: &Path, out: &Path) {
    let files = saved_files(legacy);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).expect("manifest.json");
    let mut blobs = Blobs::default();
    let mut blob = |bytes: &[u8]| {
        let (digest, _) = blobs.add(bytes.to_vec());
        format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
    };
    let image = &manifest[0];
    let config = blob(&files[image["Config"].as_str().expect("config")]);
    let layers: Vec<String> = image["Layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| blob(&files[l.as_str().expect("layer")]))
        .collect();
    let rewritten = serde_json::json!([{
        "Config": config,
        "RepoTags": image["RepoTags"],
        "Layers": layers,
    }]);
    let gzip = flate2::write::GzEncoder::new(
        std::fs::File::create(out).expect("the OCI tarball"),
        flate2::Compression::fast(),
    );
    blobs
        .write(
            gzip,
            &[
                ("index.json", br#"{"schemaVersion":2,"manifests":[]}"#),
                ("manifest.json", rewritten.to_string().as_bytes()),
            ],
        )
        .finish()
        .expect("gzip");
}

/// Rewrites the legacy `docker save` tarball at `legacy` as containerd's image store saves a pulled image: an OCI
/// layout with no `manifest.json`, each layer gzipped under its compressed digest, and `index.json` naming `name`
/// and pointing at the image's manifest, or (`nested`) at an index holding it and an attestation manifest of
/// platform `unknown/unknown`.
fn to_containerd_layout(legacy: &Path, out: &Path, name: &str, nested: bool) {
    let files = saved_files(legacy);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).expect("manifest.json");
    let mut blobs = Blobs::default();
    let mut blob = |bytes: Vec<u8>| blobs.add(bytes);
    let descriptor = |media: &str, (digest, size): (String, usize)| serde_json::json!({"mediaType": media, "digest": digest, "size": size});
    let image = &manifest[0];
    let config = blob(files[image["Config"].as_str().expect("config")].clone());
    let layers: Vec<Value> = image["Layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| {
            let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut gzip, &files[l.as_str().expect("layer")]).expect("gzip");
            descriptor(
                "application/vnd.oci.image.layer.v1.tar+gzip",
                blob(gzip.finish().expect("gzip")),
            )
        })
        .collect();
    const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": layers,
    });
    let mut top = descriptor(MANIFEST, blob(manifest.to_string().into_bytes()));
    top["platform"] = serde_json::json!({"architecture": "amd64", "os": "linux"});
    if nested {
        let statement = blob(br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#.to_vec());
        let empty = blob(b"{}".to_vec());
        let attestation = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", empty),
            "layers": [descriptor("application/vnd.in-toto+json", statement)],
        });
        let mut attestation = descriptor(MANIFEST, blob(attestation.to_string().into_bytes()));
        attestation["platform"] = serde_json::json!({"architecture": "unknown", "os": "unknown"});
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [attestation, top],
        });
        top = descriptor(
            "application/vnd.oci.image.index.v1+json",
            blob(index.to_string().into_bytes()),
        );
    }
    top["annotations"] = serde_json::json!({
        "io.containerd.image.name": format!("docker.io/{name}"),
        "org.opencontainers.image.ref.name": name.rsplit_once(':').map_or("latest", |(_, t)| t),
    });
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [top],
    });
    blobs.write(
        std::fs::File::create(out).expect("the OCI tarball"),
        &[("index.json", index.to_string().as_bytes())],
    );
}

/// On Docker 28 with either image store: a first push sends the layers the engine lacks, a 5 MB change sends only
/// its layer (within 1%), a rerun sends nothing, a push that fails after the load (a tag the engine refuses) and one
/// cut part way leave no image behind and a rerun completes the cut one. On containerd's store, where the base's
/// layers came gzipped (as pulled), the image is still made whole: the engine cannot make it from the missing layer
/// alone, so the whole image is sent, as the report says.
#[test]
fn pushes_to_current_engines_send_what_each_lacks_and_leave_nothing_behind() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let _turn = current_engines();
    // Names of its own: the file's tests run at once.
    const CURRENT_BASE: &str = "dfab-push-test/current-base:1";
    const CURRENT_APP: &str = "dfab-push-test/current-app:1";
    const MB: u64 = 1024 * 1024;
    build_images(&t, (CURRENT_BASE, 20), (CURRENT_APP, 5));
    let cache = tempfile::tempdir().expect("cache directory");
    let dir = tempfile::tempdir().expect("tarball directory");
    for engine in &t.matrix[1..] {
        let e = engine.url.as_str();
        let label = engine.label;
        docker(Some(e), &["rmi", "-f", CURRENT_APP, CURRENT_BASE]);
        let untagged = untagged_images(Some(e));
        let first = push(&t, cache.path(), e, CURRENT_BASE);
        assert_eq!(
            (&first["layers_sent"], &first["layers_skipped"]),
            (&Value::from(1), &Value::from(1)),
            "{label}: {first}"
        );
        let change = push(&t, cache.path(), e, CURRENT_APP);
        assert_eq!(change["layers_sent"], 1, "{label}: {change}");
        assert_eq!(change["full"], false, "{label}: {change}");
        let bytes = change["bytes_sent"].as_u64().expect("bytes");
        assert!(bytes <= 5 * MB * 101 / 100, "{label}: {change}");
        assert_eq!(
            image_content(Some(e), CURRENT_APP),
            image_content(None, CURRENT_APP),
            "{label}"
        );
        let again = push(&t, cache.path(), e, CURRENT_APP);
        assert_eq!(again["bytes_sent"], 0, "{label}: {again}");
        assert_eq!(
            untagged_images(Some(e)),
            untagged,
            "{label}: nothing untagged is left"
        );

        // A tag the engine refuses (a repository named like an ID), after the load: the push fails and removes what
        // it loaded.
        docker(Some(e), &["rmi", "-f", CURRENT_APP]);
        let refused = format!("{}:1", "a".repeat(64));
        let args = to_engine(&t, t.port, e);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        dfab()
            .env("DFAB_CACHE", &cache.path().to_string_lossy())
            .args(&args)
            .args(&[&format!("docker.push_image:{CURRENT_APP},tag={refused}")])
            .stderr_has(&format!("tagging {refused} on root@127.0.0.1:"))
            .status(1)
            .run();
        assert_eq!(
            untagged_images(Some(e)),
            untagged,
            "{label}: the failed push removed its image"
        );

        // Cut part way through the upload: no tag, nothing left; run again, it completes.
        let status = push_cut_after(&t, cache.path(), e, CURRENT_APP, 3 * MB);
        assert_ne!(status, 0, "{label}: the cut push fails");
        assert_eq!(
            image_content(Some(e), CURRENT_APP),
            None,
            "{label}: no tag after a cut"
        );
        push(&t, cache.path(), e, CURRENT_APP);
        assert_eq!(
            image_content(Some(e), CURRENT_APP),
            image_content(None, CURRENT_APP),
            "{label}"
        );
        assert_eq!(
            untagged_images(Some(e)),
            untagged,
            "{label}: nothing untagged is left"
        );

        if engine.containerd {
            // A base the engine never held uncompressed, as a registry would give it: gzipped layers under their
            // compressed digests.
            const PULLED_BASE: &str = "dfab-push-test/pulled-base:1";
            const PULLED_APP: &str = "dfab-push-test/pulled-app:1";
            docker(Some(e), &["rmi", "-f", PULLED_APP, PULLED_BASE]);
            build_images(&t, (PULLED_BASE, 3), (PULLED_APP, 1));
            let saved = dir.path().join("base.tar");
            let (ok, _) = docker(None, &["save", "-o", &saved.to_string_lossy(), PULLED_BASE]);
            assert!(ok, "docker save");
            let pulled = dir.path().join("pulled.tar");
            to_containerd_layout(&saved, &pulled, PULLED_BASE, false);
            let (loaded, _) = docker(Some(e), &["load", "-i", &pulled.to_string_lossy()]);
            assert!(loaded, "{label}: the gzipped base loads");
            let untagged = untagged_images(Some(e));
            let whole = push(&t, cache.path(), e, PULLED_APP);
            assert_eq!(whole["full"], true, "{label}: {whole}");
            assert_eq!(
                image_content(Some(e), PULLED_APP),
                image_content(None, PULLED_APP),
                "{label}"
            );
            let (saves, _) = docker(Some(e), &["save", PULLED_APP]);
            assert!(
                saves,
                "{label}: the pushed image is whole: the engine saves it"
            );
            assert_eq!(
                untagged_images(Some(e)),
                untagged,
                "{label}: nothing untagged is left"
            );
            for engine in [Some(e), None] {
                docker(engine, &["rmi", "-f", PULLED_APP, PULLED_BASE]);
            }
        }
        docker(Some(e), &["rmi", "-f", CURRENT_APP, CURRENT_BASE]);
    }
    docker(None, &["rmi", "-f", CURRENT_APP, CURRENT_BASE]);
}

/// `source=` pushes a saved tarball instead of the local engine's image: one in Docker 25's OCI layout, gzipped,
/// sends only the layer the host lacks and makes the same image; a legacy one with `tag=` tags it as asked.
#[test]
fn push_from_a_saved_tarball_in_either_layout() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let [_, _, e3, ..] = t.engines.as_slice() else {
        panic!("the test environment has three extra engines");
    };
    const OCI_BASE: &str = "dfab-push-test/oci-base:1";
    const OCI_APP: &str = "dfab-push-test/oci-app:2";
    const RENAMED: &str = "dfab-push-test/oci-app:renamed";
    docker(Some(e3), &["rmi", "-f", OCI_APP, OCI_BASE, RENAMED]);
    build_images(&t, (OCI_BASE, 3), (OCI_APP, 1));
    let cache = tempfile::tempdir().expect("cache directory");
    let dir = tempfile::tempdir().expect("tarball directory");
    let legacy = dir.path().join("legacy.tar");
    let (saved, _) = docker(None, &["save", "-o", &legacy.to_string_lossy(), OCI_APP]);
    assert!(saved, "docker save");
    let oci = dir.path().join("oci.tar.gz");
    to_oci_layout(&legacy, &oci);

    // The engine has the base: the OCI tarball sends only the top layer.
    push(&t, cache.path(), e3, OCI_BASE);
    let report = push(
        &t,
        cache.path(),
        e3,
        &format!("{OCI_APP},source={}", oci.display()),
    );
    assert_eq!(
        (&report["layers_sent"], &report["layers_skipped"]),
        (&Value::from(1), &Value::from(2)),
        "{report}"
    );
    assert!(
        report["bytes_sent"].as_u64().expect("bytes") < 1024 * 1024 * 11 / 10,
        "{report}"
    );
    assert_eq!(image_id(Some(e3), OCI_APP), image_id(None, OCI_APP));

    // The legacy tarball with another tag: the image is there, so nothing is sent and it gets the tag asked for.
    let report = push(
        &t,
        cache.path(),
        e3,
        &format!("{OCI_APP},source={},tag={RENAMED}", legacy.display()),
    );
    assert_eq!(report["bytes_sent"], 0, "{report}");
    assert_eq!(image_id(Some(e3), RENAMED), image_id(None, OCI_APP));

    for engine in [Some(e3.as_str()), None] {
        docker(engine, &["rmi", "-f", OCI_APP, OCI_BASE, RENAMED]);
    }
}

/// `source=` with what containerd's image store saves: no `manifest.json`, `index.json` naming the image and leading to
/// a nested index with the image's manifest and an attestation (platform `unknown/unknown`), gzipped layers. It
/// pushes onto a 20.10 engine and both Docker 28 stores; on the classic ones only the missing layer crosses.
#[test]
fn push_from_a_containerd_store_save() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let _turn = current_engines();
    const NESTED_BASE: &str = "dfab-push-test/nested-base:1";
    const NESTED_APP: &str = "dfab-push-test/nested-app:1";
    build_images(&t, (NESTED_BASE, 3), (NESTED_APP, 1));
    let cache = tempfile::tempdir().expect("cache directory");
    let dir = tempfile::tempdir().expect("tarball directory");
    let legacy = dir.path().join("legacy.tar");
    let (saved, _) = docker(None, &["save", "-o", &legacy.to_string_lossy(), NESTED_APP]);
    assert!(saved, "docker save");
    let nested = dir.path().join("nested.tar");
    to_containerd_layout(&legacy, &nested, NESTED_APP, true);
    let engines = [
        ("20.10", t.engines[2].as_str(), false),
        ("28 classic", t.matrix[1].url.as_str(), false),
        ("28 containerd", t.matrix[2].url.as_str(), true),
    ];
    for (label, engine, containerd) in engines {
        docker(Some(engine), &["rmi", "-f", NESTED_APP, NESTED_BASE]);
        push(&t, cache.path(), engine, NESTED_BASE);
        let report = push(
            &t,
            cache.path(),
            engine,
            &format!("{NESTED_APP},source={}", nested.display()),
        );
        assert_eq!(
            image_content(Some(engine), NESTED_APP),
            image_content(None, NESTED_APP),
            "{label}: {report}"
        );
        if containerd {
            // The base it holds came uncompressed, the tarball's layers are gzipped: other blobs, so all are sent.
            assert_eq!(report["full"], true, "{label}: {report}");
        } else {
            assert_eq!(
                (&report["layers_sent"], &report["full"]),
                (&Value::from(1), &Value::from(false)),
                "{label}: {report}"
            );
        }
        docker(Some(engine), &["rmi", "-f", NESTED_APP, NESTED_BASE]);
    }
    docker(None, &["rmi", "-f", NESTED_APP, NESTED_BASE]);
}

/// The names of the containers on `engine` whose names start with `prefix`, with their image IDs.
fn containers(engine: &str, prefix: &str) -> Vec<(String, String)> {
    let (_, names) = docker(Some(engine), &["ps", "-a", "--format", "{{.Names}}"]);
    let mut found: Vec<(String, String)> = names
        .lines()
        .filter(|n| n.starts_with(prefix))
        .map(|name| {
            let (_, image) = docker(Some(engine), &["inspect", "-f", "{{.Image}}", name]);
            (name.to_owned(), image)
        })
        .collect();
    found.sort();
    found
}

/// A whole deploy without a registry, on a 20.10 engine and both Docker 28 stores: an image built locally,
/// `actions.startup:…,push_images=true` puts each configuration on its own client's engine with the image pushed there (no pull: no registry is reachable), and
/// after a rebuild `actions.update:…,push_images=true` sends the new layer and recreates the containers from it.
#[test]
fn maps_push_their_images_to_each_clients_engine() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let _turn = current_engines();
    // One client on a 20.10 engine, one on Docker 28 with the classic store, one with containerd's.
    let (e1, e2, e3) = (&t.engines[0], &t.matrix[1].url, &t.matrix[2].url);
    const SITE: &str = "dfab-push-test/site:1";
    let build = |marker: &str| {
        let dir = tempfile::tempdir().expect("build directory");
        std::fs::write(
            dir.path().join("Dockerfile"),
            format!("FROM {}\nRUN echo {marker} > /marker\n", t.image),
        )
        .expect("Dockerfile");
        let status = Command::new("docker")
            .args(["build", "-q", "--no-cache", "-t", SITE])
            .arg(dir.path())
            .status()
            .expect("docker build");
        assert!(status.success());
    };
    let clean = || {
        for engine in [e1.as_str(), e2.as_str(), e3.as_str()] {
            for (name, _) in containers(engine, "pushsite.") {
                docker(Some(engine), &["rm", "-f", "-v", &name]);
            }
            docker(Some(engine), &["rmi", "-f", SITE]);
        }
    };
    clean();
    build("one");
    let dir = tempfile::tempdir().expect("temporary directory");
    let map = dir.path().join("site.yaml");
    let clients = dir.path().join("clients.yaml");
    std::fs::write(
        &map,
        "name: pushsite\nrepository: dfab-push-test\n\
         front: {image: site:1, clients: c1, stop_timeout: 1, create_options: {command: sleep 600}}\n\
         back: {image: site:1, clients: c2, stop_timeout: 1, create_options: {command: sleep 600}}\n\
         store: {image: site:1, clients: c3, stop_timeout: 1, create_options: {command: sleep 600}}\n",
    )
    .expect("map");
    std::fs::write(
        &clients,
        format!(
            "c1: {{fabric_host: \"root@127.0.0.1:{p}\", base_url: \"{e1}\"}}\n\
             c2: {{fabric_host: \"root@localhost:{p}\", base_url: \"{e2}\"}}\n\
             c3: {{fabric_host: \"root@127.0.0.1:{p}\", base_url: \"{e3}\"}}\n",
            p = t.port
        ),
    )
    .expect("clients");
    let set = format!(
        "docker_maps={},docker_clients={}",
        map.display(),
        clients.display()
    );
    let login = [
        "-i",
        t.root_key.as_str(),
        "--system-known-hosts",
        t.known_hosts.as_str(),
        "--set",
        set.as_str(),
    ];
    // The dry run says what each engine would get, and pulls nothing.
    let dry = dfab()
        .args(&login)
        .args(&["actions.startup:pushsite,__all__,push_images=true,dry_run=true"])
        .run();
    assert!(
        dry.contains(&format!(
            "docker: (dry run) push {SITE} to root@127.0.0.1:{}: 1 of 2 layers",
            t.port
        )),
        "{dry}"
    );
    assert!(!dry.contains("Pulling"), "{dry}");
    dfab()
        .args(&login)
        .args(&["actions.startup:pushsite,__all__,push_images=true", "-P"])
        .run();
    // Each engine has its own container, from the local image (compared by content: containerd's store gives it
    // another ID).
    let on = |engine: &str| {
        containers(engine, "pushsite.")
            .into_iter()
            .map(|(name, image)| (name, image_content(Some(engine), &image)))
            .collect::<Vec<_>>()
    };
    let local = image_id(None, SITE).expect("the local image");
    let content = image_content(None, SITE);
    assert_eq!(on(e1), vec![("pushsite.front".to_owned(), content.clone())]);
    assert_eq!(on(e2), vec![("pushsite.back".to_owned(), content.clone())]);
    assert_eq!(on(e3), vec![("pushsite.store".to_owned(), content.clone())]);
    // A new build: update sends its layer and recreates both containers from it, each on its own engine.
    build("two");
    // The first build's ID on containerd's store, where it is not the local one: removed at the end.
    let first_on_e3 = image_id(Some(e3), SITE).expect("the image on containerd's store");
    let rebuilt = image_id(None, SITE).expect("the rebuilt image");
    assert_ne!(rebuilt, local);
    let content = image_content(None, SITE);
    let output = dfab()
        .args(&login)
        .args(&["actions.update:pushsite,__all__,push_images=true"])
        .run();
    assert_eq!(
        output.matches("1 of 2 layers sent").count(),
        3,
        "one layer to each engine: {output}"
    );
    assert_eq!(on(e1), vec![("pushsite.front".to_owned(), content.clone())]);
    assert_eq!(on(e2), vec![("pushsite.back".to_owned(), content.clone())]);
    assert_eq!(on(e3), vec![("pushsite.store".to_owned(), content.clone())]);
    // Nothing changed since: a rerun sends nothing and recreates nothing.
    dfab()
        .args(&login)
        .args(&["actions.update:pushsite,__all__,push_images=true"])
        .stdout_has("docker: nothing to do in ")
        .run();
    clean();
    // The first build lost its tag to the second: remove it everywhere, so no test finds a stray image.
    for engine in [Some(e1.as_str()), Some(e2.as_str()), None] {
        docker(engine, &["rmi", "-f", &local]);
    }
    docker(Some(e3), &["rmi", "-f", &first_on_e3]);
    docker(None, &["rmi", "-f", SITE]);
}

/// `docker.build_image` from a directory: `.dockerignore` keeps files out of the context, build args reach the
/// Dockerfile, a failing step stops with the engine's message and a non-zero exit, and a build then a push puts the
/// image on another engine.
#[test]
fn build_from_a_directory_then_push() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let e1 = t.engines[0].as_str();
    const BUILT: &str = "dfab-push-test/built:1";
    let dir = tempfile::tempdir().expect("context");
    let context = dir.path();
    std::fs::create_dir_all(context.join("secrets")).expect("dir");
    std::fs::create_dir_all(context.join("app")).expect("dir");
    std::fs::write(context.join("secrets/key.pem"), "key").expect("file");
    std::fs::write(context.join("app/index.html"), "hi").expect("file");
    std::fs::write(context.join("debug.log"), "log").expect("file");
    std::fs::write(context.join(".dockerignore"), "secrets\n*.log\n").expect("file");
    std::fs::write(
        context.join("Dockerfile"),
        format!(
            "FROM {}\nARG GREETING=none\nCOPY . /ctx\nRUN echo $GREETING > /greeting\n",
            t.image
        ),
    )
    .expect("Dockerfile");
    std::fs::write(
        context.join("Failing.Dockerfile"),
        format!("FROM {}\nRUN exit 3\n", t.image),
    )
    .expect("Dockerfile");
    let path = context.display().to_string();
    dfab()
        .args(&[&format!(
            "docker.build_image:{path},tag={BUILT},build_args=GREETING=hello,no_cache=true"
        )])
        .stdout_has("out: Step 4/4 : RUN echo $GREETING > /greeting\n")
        .stdout_has(&format!("Built {BUILT} ("))
        .run();
    let (_, files) = docker(
        None,
        &[
            "run",
            "--rm",
            BUILT,
            "sh",
            "-c",
            "cd /ctx && find . -type f | sort; cat /greeting",
        ],
    );
    assert_eq!(
        files, "./.dockerignore\n./Dockerfile\n./Failing.Dockerfile\n./app/index.html\nhello",
        "the ignored files stay out; the build arg arrives"
    );
    dfab()
        .args(&[&format!(
            "docker.build_image:{path},dockerfile=Failing.Dockerfile"
        )])
        .stdout_has("out: Step 2/2 : RUN exit 3\n")
        .stderr_has(
            "building the image on localhost failed: The command '/bin/sh -c exit 3' returned a non-zero code: 3",
        )
        .status(1)
        .run();
    docker(Some(e1), &["rmi", "-f", BUILT]);
    let cache = tempfile::tempdir().expect("cache directory");
    let pushed = push(&t, cache.path(), e1, BUILT);
    assert_eq!(image_id(Some(e1), BUILT), image_id(None, BUILT), "{pushed}");
    docker(Some(e1), &["rmi", "-f", BUILT]);
    docker(None, &["rmi", "-f", BUILT]);

    // Built on a host's engine through the tunnel: the image is made there, and the local engine has no such tag.
    let e3 = t.engines[2].as_str();
    const REMOTE: &str = "dfab-push-test/built-remote:1";
    docker(Some(e3), &["rmi", "-f", REMOTE]);
    let args = to_engine(&t, t.port, e3);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    dfab()
        .args(&args)
        .args(&[&format!("docker.build_image:{path},tag={REMOTE}")])
        .stdout_has(&format!(
            "[root@127.0.0.1:{}] out: Step 4/4 : RUN echo $GREETING > /greeting\n",
            t.port
        ))
        .stdout_has(&format!("Built {REMOTE} ("))
        .run();
    assert!(
        image_id(Some(e3), REMOTE).is_some(),
        "built on the host's engine"
    );
    assert_eq!(image_id(None, REMOTE), None, "not on the local engine");
    docker(Some(e3), &["rmi", "-f", REMOTE]);
}

/// On a terminal, a parallel push draws one bar per host, labelled like the host's lines, and the lines pass above
/// the bars; without a terminal there is no bar.
#[test]
fn parallel_pushes_draw_a_bar_per_host_on_a_terminal() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let [e1, _, e3, ..] = t.engines.as_slice() else {
        panic!("the test environment has three extra engines");
    };
    const BARS: &str = "dfab-push-test/bars:1";
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!(
            "FROM {}\nRUN dd if=/dev/urandom of=/data bs=1M count=20\n",
            t.image
        ),
    )
    .expect("Dockerfile");
    let (built, _) = docker(
        None,
        &[
            "build",
            "-q",
            "--no-cache",
            "-t",
            BARS,
            &dir.path().to_string_lossy(),
        ],
    );
    assert!(built, "docker build");
    let map = dir.path().join("bars.yaml");
    let clients = dir.path().join("clients.yaml");
    std::fs::write(
        &map,
        format!("name: bars\none: {{image: {BARS}, clients: c1}}\nthree: {{image: {BARS}, clients: c3}}\n"),
    )
    .expect("map");
    std::fs::write(
        &clients,
        format!(
            "c1: {{fabric_host: \"root@127.0.0.1:{p}\", base_url: \"{e1}\"}}\n\
             c3: {{fabric_host: \"root@localhost:{p}\", base_url: \"{e3}\"}}\n",
            p = t.port
        ),
    )
    .expect("clients");
    let cache = tempfile::tempdir().expect("cache directory");
    let args = [
        "-i".to_owned(),
        t.root_key.clone(),
        "--system-known-hosts".to_owned(),
        t.known_hosts.clone(),
        "--set".to_owned(),
        format!(
            "docker_maps={},docker_clients={}",
            map.display(),
            clients.display()
        ),
        "-P".to_owned(),
        "actions.pull_images:bars,__all__,push_images=true".to_owned(),
    ];
    let remove = || {
        for engine in [e1, e3] {
            docker(Some(engine), &["rmi", "-f", BARS]);
        }
    };

    // `script` gives the run a terminal and records what it drew.
    remove();
    let line = std::iter::once(env!("CARGO_BIN_EXE_dfab-example").to_owned())
        .chain(args.iter().cloned())
        .map(|arg| format!("'{arg}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let recorded = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("DFAB_CACHE", cache.path())
        .env("COLUMNS", "160")
        .output()
        .expect("script (util-linux)");
    let screen = String::from_utf8_lossy(&recorded.stdout);
    assert!(recorded.status.success(), "{screen}");
    for host in ["127.0.0.1", "localhost"] {
        let label = format!("[root@{host}:{}] pushing {BARS} [", t.port);
        assert!(screen.contains(&label), "no bar {label}: {screen}");
        let line = format!("[root@{host}:{}] docker: pushed {BARS} (", t.port);
        let at = screen.find(&line).expect("the host's line");
        let rest = &screen[at..];
        let whole = &rest[..rest.find("\r\n").expect("the line's end")];
        assert!(
            whole.ends_with(" s") && !whole.contains('\u{1b}'),
            "a bar broke into the line: {whole:?}"
        );
    }

    let local = image_id(None, BARS);
    for engine in [e1, e3] {
        assert_eq!(image_id(Some(engine), BARS), local, "pushed to {engine}");
    }

    // Without a terminal: the same lines, no bar.
    remove();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (stdout, stderr, status) = dfab()
        .env("DFAB_CACHE", &cache.path().to_string_lossy())
        .args(&args)
        .run_any();
    assert_eq!(status, 0, "{stdout}{stderr}");
    assert!(!stderr.contains("pushing"), "{stderr}");
    assert!(
        stdout.contains(&format!(
            "[root@localhost:{}] docker: pushed {BARS} (",
            t.port
        )),
        "{stdout}"
    );
    remove();
    docker(None, &["rmi", "-f", BARS]);
}
