//! Building from a Dockerfile written in code and pushing the result, through the Rust API a fabfile task uses.

use std::process::Command;

use dfab_core::docker::{push_image_to_host, BuildOptions, DockerFile, PushOptions};
use dfab_core::env::env_mut;
use dfab_test_support::image_id;

#[test]
fn a_generated_dockerfile_builds_locally_and_pushes_to_another_engine() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    const IMAGE: &str = "dfab-build-test/generated:1";
    let e2 = t.engines[1].clone();
    let _ = Command::new("docker")
        .args(["-H", &e2, "rmi", "-f", IMAGE])
        .output();
    let dir = tempfile::tempdir().expect("directory");
    std::fs::create_dir_all(dir.path().join("site")).expect("site");
    std::fs::write(dir.path().join("site/index.html"), "<h1>v2</h1>").expect("page");
    let built = DockerFile::from(&t.image)
        .env("MODE", "demo site")
        .run("mkdir -p /srv")
        .add_bytes(b"v2\n", "/srv/VERSION")
        .add_path(&dir.path().join("site"), "/srv/site")
        .cmd(&["cat", "/srv/VERSION"])
        .build(&BuildOptions {
            tag: Some(IMAGE.into()),
            no_cache: true,
            ..BuildOptions::default()
        })
        .expect("the generated Dockerfile builds");
    let local = image_id(None, IMAGE).expect("the local image");
    assert!(
        local.contains(built.trim_start_matches("sha256:")),
        "{built} {local}"
    );
    let shown = Command::new("docker")
        .args([
            "run",
            "--rm",
            IMAGE,
            "sh",
            "-c",
            "cat /srv/VERSION /srv/site/index.html; echo $MODE",
        ])
        .output()
        .expect("docker run");
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout),
        "v2\n<h1>v2</h1>demo site\n"
    );
    // Pushed to the second engine from a task's code: the host's engine gets it, with the same ID.
    t.as_root();
    let engine = e2.clone();
    env_mut(move |e| e.docker_base_url = Some(engine));
    let report = push_image_to_host(
        IMAGE,
        &PushOptions {
            timeout: std::time::Duration::from_secs(120),
            ..PushOptions::default()
        },
    )
    .expect("the push");
    // Outside the runner the program removes the spooled export itself.
    dfab_core::docker::release_exports();
    // The three layers the Dockerfile made are sent; the base image's is there already.
    assert_eq!(
        (report.layers_sent, report.layers_skipped),
        (3, 1),
        "{report:?}"
    );
    assert_eq!(image_id(Some(&e2), IMAGE), Some(local));
    let _ = Command::new("docker")
        .args(["-H", &e2, "rmi", "-f", IMAGE])
        .output();
    let _ = Command::new("docker").args(["rmi", "-f", IMAGE]).output();
}
