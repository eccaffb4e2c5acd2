//! The run's exports: each image exported once (from the local engine or a saved tarball) into a spool file that
//! the hosts' uploads read, and the sweep of spool files that killed runs left.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::super::{docker_client, runtime, DockerClient, DockerError, ImageError, CHUNK};
use super::layout::{index, Export};

/// The exports of this run, by image (and tarball), shared by the hosts.
static EXPORTS: Mutex<Vec<(String, Arc<Export>)>> = Mutex::new(Vec::new());

/// Removes the run's spooled exports; the runner calls it when the tasks are done.
pub fn release_exports() {
    EXPORTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
}

/// The export of `image` (from `source`, a tarball, or else the local engine), made on first use in the run (then
/// the second value is true); the local export may take `timeout`.
pub(super) fn export(
    image: &str,
    source: Option<&Path>,
    timeout: Duration,
) -> Result<(Arc<Export>, bool), ImageError> {
    let key = format!(
        "{image}\0{}",
        source
            .map(Path::display)
            .map(|p| p.to_string())
            .unwrap_or_default()
    );
    // Held while exporting, so parallel hosts wait for the one export instead of each making their own.
    let mut exports = EXPORTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, found)) = exports.iter().find(|(k, _)| *k == key) {
        return Ok((Arc::clone(found), false));
    }
    let made = Arc::new(make_export(image, source, timeout)?);
    exports.push((key, Arc::clone(&made)));
    Ok((made, true))
}

/// The spool directory, `push/` under dfab's cache directory.
fn spool_dir() -> Result<std::path::PathBuf, ImageError> {
    let dir = crate::input::cache_dir().join("push");
    std::fs::create_dir_all(&dir).map_err(ImageError::file("create", &dir))?;
    Ok(dir)
}

/// How old a spool file must be before a run may take it for one a killed run left.
const SPOOL_GRACE: Duration = Duration::from_secs(60);

/// Removes the spool files that runs killed mid-push left in `dir`: a live run holds a lock on its own, so a file
/// nobody holds, older than a fresh one could be, is nobody's.
fn sweep_spools(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(SPOOL_PREFIX) && name.ends_with(".tar")) {
            continue;
        }
        let old = entry
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > SPOOL_GRACE);
        let unheld = old && File::open(entry.path()).is_ok_and(|file| file.try_lock().is_ok());
        if unheld {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The start of every spool file's name.
const SPOOL_PREFIX: &str = "dfab-push-";

fn make_export(
    image: &str,
    source: Option<&Path>,
    timeout: Duration,
) -> Result<Export, ImageError> {
    let start = Instant::now();
    // Created exclusively under an unpredictable name, readable by this user only.
    let dir = spool_dir()?;
    sweep_spools(&dir);
    let mut file = tempfile::Builder::new()
        .prefix(SPOOL_PREFIX)
        .suffix(".tar")
        .tempfile_in(&dir)
        .map_err(ImageError::file("create a spool file in", &dir))?;
    // Held while the run has the file, so that other runs' sweeps leave it alone.
    file.as_file()
        .try_lock()
        .map_err(|e| ImageError::file("lock", file.path())(e.into()))?;
    match source {
        Some(path) => copy_tarball(path, file.as_file_mut())?,
        None => {
            let path = file.path().to_owned();
            export_local(image, file.as_file_mut(), &path, timeout)?
        }
    }
    let mut export = index(image, file, source)?;
    export.seconds = start.elapsed().as_secs_f64();
    Ok(export)
}

/// Copies a saved tarball (plain or gzip) into the spool file.
fn copy_tarball(path: &Path, spool: &mut File) -> Result<(), ImageError> {
    copy_tarball_within(path, spool, GZIP_SLACK)
}

/// Copies a saved tarball into the spool file; a gzipped one may expand to [`GZIP_RATIO_LIMIT`] times its size
/// plus `slack` bytes.
fn copy_tarball_within(path: &Path, spool: &mut File, slack: u64) -> Result<(), ImageError> {
    crate::input::check_regular(path, "image tarball")?;
    let mut head = [0u8; 2];
    let mut file = File::open(path).map_err(ImageError::file("read", path))?;
    let gzip = file.read_exact(&mut head).is_ok() && head == [0x1f, 0x8b];
    file.seek(SeekFrom::Start(0))
        .map_err(ImageError::file("read", path))?;
    if !gzip {
        std::io::copy(&mut file, spool).map_err(ImageError::file("read", path))?;
        return Ok(());
    }
    // A gzip stream may claim any size: a few bytes can expand to more than the disk holds.
    let compressed = file
        .metadata()
        .map_err(ImageError::file("read", path))?
        .len();
    let limit = compressed
        .saturating_mul(GZIP_RATIO_LIMIT)
        .saturating_add(slack);
    let copied = std::io::copy(
        &mut flate2::read::GzDecoder::new(file).take(limit + 1),
        spool,
    )
    .map_err(ImageError::file("read", path))?;
    if copied > limit {
        return Err(ImageError::NotATarball {
            what: format!("'{}'", path.display()),
            why: format!(
                "unzipped it is more than {limit} bytes ({GZIP_RATIO_LIMIT} times its size and {} MiB more)",
                slack >> 20
            ),
        });
    }
    Ok(())
}

/// How many times its size a gzipped image tarball may expand to (saved images expand a few times), besides
/// [`GZIP_SLACK`].
const GZIP_RATIO_LIMIT: u64 = 1000;

/// What a gzipped image tarball may expand to whatever its size.
const GZIP_SLACK: u64 = 1 << 30;

/// Streams `GET /images/{image}/get` from the local engine into the spool file at `path`, for at most `timeout`.
fn export_local(
    image: &str,
    spool: &mut File,
    path: &Path,
    timeout: Duration,
) -> Result<(), ImageError> {
    let local = local_client()?;
    let docker = local.docker();
    let what = format!("exporting {image}");
    let target = spool.try_clone().map_err(ImageError::file("write", path))?;
    let name = image.to_owned();
    // Run on one of the runtime's threads, where the connection's reads wake it without a hop to another thread:
    // the stream comes in thousands of small chunks, and the hops doubled the time it took to take them in.
    let task = runtime::spawn(async move {
        use std::io::Write;
        // Plain buffered writes: the spool is written at the pace the engine exports, and tokio's file type would
        // hand each chunk to a blocking thread.
        let mut out = std::io::BufWriter::with_capacity(CHUNK, target);
        let mut stream = docker.export_image(&name);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(Ok)?;
            out.write_all(&chunk).map_err(Err)?;
        }
        out.flush().map_err(Err)
    })?;
    let written = local.block_on_within(&what, timeout, task)?;
    match written {
        Ok(()) => Ok(()),
        Err(Ok(e)) => match local.explain(&what, e) {
            DockerError::Api { status: 404, .. } => Err(ImageError::NoLocalImage(image.to_owned())),
            other => Err(other.into()),
        },
        Err(Err(e)) => Err(ImageError::file("write", path)(e)),
    }
}

/// The local engine's client (`DOCKER_HOST`, else the default socket), whatever host the task runs on and whatever
/// `docker_base_url` says about the hosts' engines.
pub(super) fn local_client() -> Result<Arc<DockerClient>, ImageError> {
    let _local = crate::env::settings([
        ("host_string", serde_yaml::Value::Null),
        ("docker_base_url", serde_yaml::Value::Null),
    ])?;
    Ok(docker_client()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_spools_nobody_holds_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let make = |name: &str, age: u64| {
            let file = File::create(dir.path().join(name)).unwrap();
            file.set_modified(std::time::SystemTime::now() - Duration::from_secs(age))
                .unwrap();
            file
        };
        drop(make("dfab-push-killed.tar", 120));
        let held = make("dfab-push-live.tar", 120);
        held.try_lock().unwrap();
        drop(make("dfab-push-fresh.tar", 1));
        drop(make("other.tar", 120));
        sweep_spools(dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["dfab-push-fresh.tar", "dfab-push-live.tar", "other.tar"]
        );
        drop(held);
    }

    #[test]
    fn a_gzip_bomb_is_refused_at_its_limit() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let bomb = dir.path().join("bomb.tar.gz");
        let mut gzip = flate2::write::GzEncoder::new(
            File::create(&bomb).unwrap(),
            flate2::Compression::best(),
        );
        for _ in 0..128 {
            gzip.write_all(&[0u8; 1 << 20]).unwrap();
        }
        gzip.finish().unwrap();
        let size = std::fs::metadata(&bomb).unwrap().len();
        let mut spool = tempfile::tempfile().unwrap();
        let error = copy_tarball_within(&bomb, &mut spool, 1 << 20)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "'{}' is not an image tarball: unzipped it is more than {} bytes (1000 times its size and 1 MiB more)",
                bomb.display(),
                size * 1000 + (1 << 20)
            )
        );
        assert!(spool.metadata().unwrap().len() <= size * 1000 + (1 << 20) + 1);
    }
}
