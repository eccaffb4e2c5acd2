//! Building images on an engine (the local one, or a host's through the tunnel): a context directory sent as a tar
//! stream with its `.dockerignore` honoured, or a [`DockerFile`] assembled in code, the engine's output shown line
//! by line.

use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;

use super::{docker_client, file_body, ImageError};
use crate::env::env;
use crate::term::output::{self, Stream};

/// The longest build output line kept whole before it is shown in pieces.
const LINE_LIMIT: usize = 64 * 1024;

/// How `build_image` builds.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The name (`repo:tag`) the image gets.
    pub tag: Option<String>,
    /// The Dockerfile's path inside the context (default `Dockerfile`).
    pub dockerfile: Option<String>,
    /// `ARG` values.
    pub build_args: Vec<(String, String)>,
    /// The stage of a multi-stage Dockerfile to build.
    pub target: Option<String>,
    /// Pull newer versions of the base images.
    pub pull: bool,
    /// Use no cached steps.
    pub no_cache: bool,
    /// How long the build may take.
    pub timeout: Duration,
}

impl Default for BuildOptions {
    fn default() -> BuildOptions {
        BuildOptions {
            tag: None,
            dockerfile: None,
            build_args: Vec::new(),
            target: None,
            pull: false,
            no_cache: false,
            timeout: Duration::from_secs(3600),
        }
    }
}

/// Builds the image of the context directory `context` on the current host's engine (or the local one) and
/// returns its ID; the engine's output is printed as `[host] out: …` lines, and a failing step is an error with the
/// engine's message.
pub fn build_image(context: &Path, options: &BuildOptions) -> Result<String, ImageError> {
    let dockerfile = options.dockerfile.as_deref().unwrap_or("Dockerfile");
    let problem = |problem: String| ImageError::Context {
        path: context.to_owned(),
        problem,
    };
    let meta =
        std::fs::metadata(context).map_err(ImageError::file("read the build context", context))?;
    if !meta.is_dir() {
        return Err(problem("is not a directory".into()));
    }
    if !context.join(dockerfile).is_file() {
        return Err(problem(format!("has no {dockerfile}")));
    }
    let ignore = Ignore::read(context)?;
    let temp = std::env::temp_dir();
    let mut spool = tempfile::tempfile().map_err(ImageError::file("create a file in", &temp))?;
    {
        let mut archive = tar::Builder::new(&mut spool);
        archive.follow_symlinks(false);
        add_dir(&mut archive, context, Path::new(""), &ignore, dockerfile)?;
        archive
            .finish()
            .map_err(ImageError::file("write the build context in", &temp))?;
    }
    spool
        .seek(SeekFrom::Start(0))
        .map_err(ImageError::file("read the build context in", &temp))?;
    build(spool, options)
}

/// Adds the files under `dir` (relative path `at`) that `.dockerignore` does not exclude.
fn add_dir(
    archive: &mut tar::Builder<&mut std::fs::File>,
    dir: &Path,
    at: &Path,
    ignore: &Ignore,
    dockerfile: &str,
) -> Result<(), ImageError> {
    let here = dir.join(at);
    let mut entries: Vec<_> = std::fs::read_dir(&here)
        .and_then(|list| list.collect::<Result<Vec<_>, _>>())
        .map_err(ImageError::file("read", &here))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let relative = at.join(entry.file_name());
        let name = relative.to_string_lossy().into_owned();
        // The Dockerfile and .dockerignore always go: the engine needs them whatever the patterns say.
        let always = name == dockerfile || name == ".dockerignore";
        if !always && ignore.excludes(&name) {
            continue;
        }
        let add = ImageError::file("add to the build context", entry.path());
        let kind = entry
            .file_type()
            .map_err(ImageError::file("read", entry.path()))?;
        if kind.is_dir() {
            archive.append_dir(&relative, entry.path()).map_err(add)?;
            add_dir(archive, dir, &relative, ignore, dockerfile)?;
        } else {
            archive
                .append_path_with_name(entry.path(), &relative)
                .map_err(add)?;
        }
    }
    Ok(())
}

/// A context's `.dockerignore`: patterns in order, the last that matches a path deciding, `!` marking exceptions.
#[derive(Debug, Default)]
pub(crate) struct Ignore {
    patterns: Vec<(glob::Pattern, bool)>,
}

impl Ignore {
    /// Reads `context/.dockerignore`, if there is one.
    fn read(context: &Path) -> Result<Ignore, ImageError> {
        let path = context.join(".dockerignore");
        if !path.exists() {
            return Ok(Ignore::default());
        }
        let text = crate::input::read_text(&path, ".dockerignore file")?;
        Ignore::parse(&text).map_err(|(line, reason)| ImageError::Dockerignore {
            file: path.clone(),
            line,
            reason,
        })
    }

    /// Parses the patterns of a `.dockerignore` text; a bad pattern gives its line and the reason.
    pub(crate) fn parse(text: &str) -> Result<Ignore, (usize, String)> {
        let mut patterns = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = pattern.trim_start_matches('/').trim_end_matches('/');
            let cleaned = cleaned.strip_prefix("./").unwrap_or(cleaned);
            let compiled = glob::Pattern::new(cleaned)
                .map_err(|e| (number + 1, format!("bad pattern '{pattern}': {e}")))?;
            patterns.push((compiled, exception));
        }
        Ok(Ignore { patterns })
    }

    /// Whether `path` (relative, `/`-separated) is left out: a pattern matches it or one of its parent directories.
    pub(crate) fn excludes(&self, path: &str) -> bool {
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        let mut excluded = false;
        for (pattern, exception) in &self.patterns {
            let mut prefix = String::new();
            let mut matched = false;
            for part in path.split('/') {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                if pattern.matches_with(&prefix, options) {
                    matched = true;
                    break;
                }
            }
            if matched {
                excluded = !exception;
            }
        }
        excluded
    }
}

/// Sends the tar context in `spool` to the engine's `POST /build` and follows its output.
fn build(spool: std::fs::File, options: &BuildOptions) -> Result<String, ImageError> {
    let client = docker_client()?.with_timeout(options.timeout);
    let host = client.host().to_owned();
    let label = options.tag.clone().unwrap_or_else(|| "the image".into());
    let query = bollard::query_parameters::BuildImageOptions {
        dockerfile: options
            .dockerfile
            .clone()
            .unwrap_or_else(|| "Dockerfile".into()),
        t: options.tag.clone(),
        nocache: options.no_cache,
        pull: options.pull.then(|| "1".to_owned()),
        rm: true,
        forcerm: true,
        buildargs: (!options.build_args.is_empty()).then(|| {
            options
                .build_args
                .iter()
                .cloned()
                .collect::<HashMap<_, _>>()
        }),
        target: options.target.clone().unwrap_or_default(),
        ..Default::default()
    };
    let chunks = file_body(spool, |_| {});
    let show = {
        let env = env();
        env.output.stdout.then(|| output::host_prefix(&env))
    };
    let docker = client.docker();
    let what = format!("building {label}");
    let outcome = client.block_on_within(&what, options.timeout, async move {
        let mut replies = docker.build_image(query, None, Some(bollard::body_try_stream(chunks)));
        let mut id = None;
        let mut partial = String::new();
        while let Some(reply) = replies.next().await {
            let reply = reply?;
            if let Some(aux) = reply.aux.and_then(|a| a.id) {
                id = Some(aux);
            }
            if let Some(text) = reply.stream {
                partial.push_str(&text);
                // A line that never ends is shown in pieces rather than kept whole without bound.
                if !partial.contains('\n') && partial.len() > LINE_LIMIT {
                    partial.push('\n');
                }
                while let Some(end) = partial.find('\n') {
                    let line: String = partial.drain(..=end).collect();
                    let line = line.trim_end();
                    if let Some(successfully) = line.strip_prefix("Successfully built ") {
                        id.get_or_insert_with(|| successfully.trim().to_owned());
                    }
                    if let Some(prefix) = &show {
                        output::write(Stream::Stdout, &format!("{prefix}out: {line}\n"));
                    }
                }
            }
        }
        Ok::<_, bollard::errors::Error>(id)
    })?;
    match outcome {
        Err(bollard::errors::Error::DockerStreamError { error }) => Err(ImageError::BuildFailed {
            label,
            host,
            message: error.trim().to_owned(),
        }),
        Err(e) => Err(client.explain(&what, e).into()),
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(ImageError::NoImageId { label, host }),
    }
}

/// A Dockerfile written in code, with the files its `COPY` instructions use, as docker-map's `DockerFile` offered.
///
/// The registry-free deploy of the README, in one task:
///
/// ```no_run
/// use std::path::Path;
///
/// use dfab_core::actions::container_fabric;
/// use dfab_core::docker::{BuildOptions, DockerFile};
/// use dfab_core::prelude::*;
///
/// /// Build the site's image here, ship its new layers to every client, and replace the containers that changed.
/// #[task]
/// fn release() -> anyhow::Result<()> {
///     DockerFile::from("busybox:latest")
///         .add_path(Path::new("dist"), "/srv/www")
///         .cmd(&["httpd", "-f", "-h", "/srv/www"])
///         .build(&BuildOptions { tag: Some("site/web:current".into()), ..BuildOptions::default() })?;
///     let _push = settings([("docker_push_images", true)])?;
///     container_fabric().update("site.web")
/// }
///
/// dfab_core::main!();
/// ```
#[derive(Clone, Debug, Default)]
pub struct DockerFile {
    lines: Vec<String>,
    files: Vec<(String, Source)>,
}

/// Where a file of a [`DockerFile`]'s context comes from.
#[derive(Clone, Debug)]
enum Source {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

impl DockerFile {
    /// A Dockerfile starting `FROM image`.
    pub fn from(image: &str) -> DockerFile {
        DockerFile::default().line(format!("FROM {image}"))
    }

    /// Appends any instruction line as written (`HEALTHCHECK …`, `ARG …`).
    pub fn line(mut self, line: impl Into<String>) -> DockerFile {
        self.lines.push(line.into());
        self
    }

    /// `RUN command`.
    pub fn run(self, command: &str) -> DockerFile {
        self.line(format!("RUN {command}"))
    }

    /// `ENV key=value` (the value JSON-quoted).
    pub fn env(self, key: &str, value: &str) -> DockerFile {
        self.line(format!("ENV {key}={}", quoted(value)))
    }

    /// `LABEL key=value` (the value JSON-quoted).
    pub fn label(self, key: &str, value: &str) -> DockerFile {
        self.line(format!("LABEL {key}={}", quoted(value)))
    }

    /// `WORKDIR path`.
    pub fn workdir(self, path: &str) -> DockerFile {
        self.line(format!("WORKDIR {path}"))
    }

    /// `USER user`.
    pub fn user(self, user: &str) -> DockerFile {
        self.line(format!("USER {user}"))
    }

    /// `EXPOSE port`.
    pub fn expose(self, port: u16) -> DockerFile {
        self.line(format!("EXPOSE {port}"))
    }

    /// `CMD ["…", …]`.
    pub fn cmd(self, argv: &[&str]) -> DockerFile {
        self.line(format!("CMD {}", json_list(argv)))
    }

    /// `ENTRYPOINT ["…", …]`.
    pub fn entrypoint(self, argv: &[&str]) -> DockerFile {
        self.line(format!("ENTRYPOINT {}", json_list(argv)))
    }

    /// Puts `content` into the image at `dest` (a file of the context, then `COPY`).
    pub fn add_bytes(mut self, content: &[u8], dest: &str) -> DockerFile {
        let name = format!("dfab-files/{}", self.files.len());
        self.files
            .push((name.clone(), Source::Bytes(content.to_vec())));
        self.line(format!("COPY {}", json_list(&[&name, dest])))
    }

    /// Puts the local file or directory `path` into the image at `dest` (added to the context, then `COPY`).
    pub fn add_path(mut self, path: &Path, dest: &str) -> DockerFile {
        let name = format!("dfab-files/{}", self.files.len());
        self.files
            .push((name.clone(), Source::Path(path.to_owned())));
        self.line(format!("COPY {}", json_list(&[&name, dest])))
    }

    /// The Dockerfile's text.
    pub fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }

    /// Builds it on the current host's engine (or the local one), the context assembled from the added files; returns
    /// the image ID.
    pub fn build(&self, options: &BuildOptions) -> Result<String, ImageError> {
        let temp = std::env::temp_dir();
        let mut spool =
            tempfile::tempfile().map_err(ImageError::file("create a file in", &temp))?;
        {
            let mut archive = tar::Builder::new(&mut spool);
            archive.follow_symlinks(false);
            let text = self.text();
            append_bytes(&mut archive, "Dockerfile", text.as_bytes())?;
            for (name, source) in &self.files {
                let add = ImageError::file("add to the build context", source_path(source));
                match source {
                    Source::Bytes(content) => append_bytes(&mut archive, name, content)?,
                    Source::Path(path) if path.is_dir() => {
                        archive.append_dir_all(name, path).map_err(add)?
                    }
                    Source::Path(path) => archive.append_path_with_name(path, name).map_err(add)?,
                }
            }
            archive
                .finish()
                .map_err(ImageError::file("write the build context in", &temp))?;
        }
        spool
            .flush()
            .and_then(|()| spool.seek(SeekFrom::Start(0)).map(drop))
            .map_err(ImageError::file("write the build context in", &temp))?;
        let options = BuildOptions {
            dockerfile: None,
            ..options.clone()
        };
        build(spool, &options)
    }
}

fn append_bytes(
    archive: &mut tar::Builder<&mut std::fs::File>,
    name: &str,
    content: &[u8],
) -> Result<(), ImageError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    archive
        .append_data(&mut header, name, content)
        .map_err(ImageError::file(
            "write the build context in",
            std::env::temp_dir(),
        ))
}

/// Where a context file comes from, for messages: its path, or the temporary directory for bytes.
fn source_path(source: &Source) -> PathBuf {
    match source {
        Source::Path(path) => path.clone(),
        Source::Bytes(_) => std::env::temp_dir(),
    }
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

fn json_list(argv: &[&str]) -> String {
    serde_json::to_string(argv).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_patterns_exceptions_and_directories() {
        let ignore =
            Ignore::parse("# comment\n*.log\nsecrets/\n!keep.log\n/build\n**/*.tmp\n").unwrap();
        assert!(ignore.excludes("app.log"));
        assert!(!ignore.excludes("keep.log"));
        assert!(ignore.excludes("secrets"));
        assert!(ignore.excludes("secrets/key.pem"));
        assert!(ignore.excludes("build/out.bin"));
        assert!(ignore.excludes("a/b/c.tmp"));
        assert!(!ignore.excludes("src/main.rs"));
        assert!(!ignore.excludes("logs/app.txt"));
        assert_eq!(Ignore::parse("[z-a\n").unwrap_err().0, 1);
    }

    #[test]
    fn a_dockerfile_in_code() {
        let file = DockerFile::from("busybox:latest")
            .env("MODE", "a b")
            .run("mkdir /app")
            .add_bytes(b"v2", "/app/VERSION")
            .cmd(&["cat", "/app/VERSION"]);
        assert_eq!(
            file.text(),
            "FROM busybox:latest\nENV MODE=\"a b\"\nRUN mkdir /app\nCOPY [\"dfab-files/0\",\"/app/VERSION\"]\nCMD [\"cat\",\"/app/VERSION\"]\n"
        );
    }
}
