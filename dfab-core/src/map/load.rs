//! Loading map files: `load_map_file`, `load_map_str`, and the maps of `env.docker_maps`.

use std::path::Path;

use super::container_map::ContainerMap;
use super::node::{parse, Node, NodeKind};
use super::problems::{read_file, MapError, Problem, Problems};
use super::reader::Reader;
use super::{extend, integrity, tags};
use crate::env::{env, Env};

/// A loaded map and the warnings about it (keys of older docker-map versions).
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The map, with `extends` applied.
    pub map: ContainerMap,
    /// What still works but should change.
    pub warnings: Vec<Problem>,
}

/// Reads and checks a map document; `source` names it in messages. The name comes from `name` when given and
/// not empty, else from the document's `name` key. Every problem is reported, not just the first.
///
/// ```
/// use dfab_core::env::Env;
/// use dfab_core::map::{load_map_str, Graph, Item};
///
/// let yaml = "name: site\napp: {instances: [a, b]}\nweb: {links: app.a}\n";
/// let site = load_map_str(yaml, None, "site.yaml", &Env::default())?.map;
/// let graph = Graph::new(&site, &Env::default())?;
/// let web = Item::Container { config: "web".into(), instance: None };
/// let order: Vec<String> = graph.start_order(&[web]).iter().map(ToString::to_string).collect();
/// assert_eq!(order, ["image app:latest", "app.a", "image web:latest", "web"]);
///
/// let broken = load_map_str("name: site\nweb: {linsk: app}\n", None, "site.yaml", &Env::default());
/// let error = broken.err().expect("a misspelt key");
/// assert_eq!(
///     error.problems[0].to_string(),
///     "site.yaml:2:7: web.linsk: unknown container key 'linsk'; did you mean 'links'?"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_map_str(
    text: &str,
    name: Option<&str>,
    source: &str,
    env: &Env,
) -> Result<Loaded, MapError> {
    load_text(text, name, None, source, env)
}

/// `load_map_str` with a name to fall back on when neither the caller nor the document gives one.
fn load_text(
    text: &str,
    name: Option<&str>,
    fallback: Option<&str>,
    source: &str,
    env: &Env,
) -> Result<Loaded, MapError> {
    let mut problems = Problems::new(source);
    let mut root = match parse(text) {
        Ok(root) => root,
        Err(e) => {
            problems.error(e.at, "", format!("not valid YAML: {}", e.message));
            let warnings = problems.into_result()?;
            return Ok(Loaded {
                map: ContainerMap::default(),
                warnings,
            });
        }
    };
    tags::resolve(&mut root, env, &mut problems);
    let mut map = Reader {
        problems: &mut problems,
    }
    .map(&root, name, fallback, source);
    extend::apply(&mut map, &mut problems);
    integrity::check(&map, &mut problems);
    let warnings = problems.into_result()?;
    Ok(Loaded { map, warnings })
}

/// The file's base name without its last extension, docker-map's name for a map file without a `name` key.
fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Loads a map file with the current env (for `!env`); the name is `name` when given and not empty, else the
/// file's `name` key.
pub fn load_map_file(path: impl AsRef<Path>, name: Option<&str>) -> Result<Loaded, MapError> {
    let path = path.as_ref();
    let source = path.display().to_string();
    let text = read_file(path, "map")?;
    load_map_str(&text, name, &source, &env())
}

/// Checks a map file without a fabfile's env (for `build.rs`): `!env` values need only be named. Returns the
/// warnings; errors list every problem with its line and column.
///
/// A fabfile crate's `build.rs`, so that `cargo build` refuses a broken map:
///
/// ```no_run
/// // The body of build.rs's `main`.
/// println!("cargo:rerun-if-changed=map.yaml");
/// if let Err(error) = dfab_core::map::validate_map_file("map.yaml") {
///     for problem in &error.problems {
///         eprintln!("{problem}");
///     }
///     std::process::exit(1);
/// }
/// ```
pub fn validate_map_file(path: impl AsRef<Path>) -> Result<Vec<Problem>, MapError> {
    let result = validate(path.as_ref());
    // The dfab launcher names a file here, so that it can show the problems plainly after cargo's build-script
    // block; `cargo build` alone does not set it.
    if let (Err(error), Some(report)) = (&result, std::env::var_os(BUILD_REPORT)) {
        let lines: String = error.problems.iter().map(|p| format!("{p}\n")).collect();
        let _best_effort = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(report)
            .and_then(|mut file| std::io::Write::write_all(&mut file, lines.as_bytes()));
    }
    result
}

/// The environment variable through which the launcher asks `validate_map_file` for its problems.
pub const BUILD_REPORT: &str = "DFAB_BUILD_REPORT";

fn validate(path: &Path) -> Result<Vec<Problem>, MapError> {
    let text = read_file(path, "map")?;
    let mut relaxed = Env::default();
    // `!env` keys are the fabfile's business at run time; here each stands for a placeholder value.
    if let Ok(root) = parse(&text) {
        for key in env_tags(&root) {
            let placeholder = serde_yaml::Value::String(format!("<{key}>"));
            relaxed.extra.insert(key, placeholder);
        }
    }
    load_text(
        &text,
        None,
        Some(&stem(path)),
        &path.display().to_string(),
        &relaxed,
    )
    .map(|l| l.warnings)
}

/// The env keys that `!env` tags in a document name.
fn env_tags(node: &Node) -> Vec<String> {
    let own = (node.tag.as_deref() == Some("env"))
        .then(|| node.text().map(str::to_owned))
        .flatten();
    let children: Vec<String> = match &node.kind {
        NodeKind::Seq(items) => items.iter().flat_map(env_tags).collect(),
        NodeKind::Map(pairs) => pairs.iter().flat_map(|(_, v)| env_tags(v)).collect(),
        _ => Vec::new(),
    };
    own.into_iter().chain(children).collect()
}

/// Maps a fabfile made in code and handed over with `register_map`.
fn registered() -> &'static std::sync::Mutex<Vec<std::sync::Arc<ContainerMap>>> {
    static REGISTERED: std::sync::OnceLock<std::sync::Mutex<Vec<std::sync::Arc<ContainerMap>>>> =
        std::sync::OnceLock::new();
    REGISTERED.get_or_init(Default::default)
}

/// Hands a map built or changed in code (docker-map's `ContainerMap(name, {...})`) to the `actions.*` tasks and
/// `container_fabric()`, as if it came from `env.docker_maps`; it replaces a map of the same name. The map is
/// checked as a map file is (written out and read back), so a map made in code gets the same errors, with the
/// source `<code: NAME>`.
///
/// ```
/// use dfab_core::env::Env;
/// use dfab_core::map::{load_map_str, register_map};
///
/// // Start from YAML (or an empty map) and change it in code, as Python fabfiles did with their dicts.
/// let mut site = load_map_str("name: site\nweb: {image: busybox:latest}\n", None, "site", &Env::default())?.map;
/// site.containers[0].1.stop_timeout = Some(2);
/// register_map(site)?;
/// # Ok::<(), dfab_core::map::MapError>(())
/// ```
pub fn register_map(map: ContainerMap) -> Result<(), MapError> {
    let source = format!("<code: {}>", map.name);
    let loaded = load_map_str(&super::to_yaml(&map), None, &source, &env())?;
    if let Some(clients) = configured_clients()? {
        super::clients::check_clients(&loaded.map, &clients)?;
    }
    let map = std::sync::Arc::new(loaded.map);
    if let Ok(mut all) = registered().lock() {
        all.retain(|m| m.name != map.name);
        all.push(map);
    }
    Ok(())
}

/// The maps of `env.docker_maps` (file paths), each named by its `name` key or else its file name, loaded once
/// per path and checked against `env.docker_clients` when set (warnings are printed the first time), then the
/// maps registered in code, which replace file maps of the same name.
pub fn configured_maps() -> Result<Vec<std::sync::Arc<ContainerMap>>, MapError> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<ContainerMap>>>> = OnceLock::new();
    let paths = env().docker_maps.clone();
    let mut maps = Vec::new();
    for path in paths {
        let cached = CACHE
            .get_or_init(Mutex::default)
            .lock()
            .ok()
            .and_then(|c| c.get(&path).cloned());
        let map = match cached {
            Some(map) => map,
            None => {
                let file = Path::new(&path);
                let text = read_file(file, "map")?;
                let loaded = load_text(&text, None, Some(&stem(file)), &path, &env())?;
                for warning in &loaded.warnings {
                    crate::term::output::warn(&warning.to_string());
                }
                if let Some(clients) = configured_clients()? {
                    super::clients::check_clients(&loaded.map, &clients)?;
                }
                let map = Arc::new(loaded.map);
                if let Ok(mut cache) = CACHE.get_or_init(Mutex::default).lock() {
                    cache.insert(path.clone(), Arc::clone(&map));
                }
                map
            }
        };
        maps.push(map);
    }
    let registered: Vec<Arc<ContainerMap>> = registered()
        .lock()
        .map(|all| all.clone())
        .unwrap_or_default();
    maps.retain(|m| !registered.iter().any(|r| r.name == m.name));
    maps.extend(registered);
    Ok(maps)
}

/// The clients of `env.docker_clients`, if a file is set.
pub fn configured_clients(
) -> Result<Option<std::collections::BTreeMap<String, super::ClientConfig>>, MapError> {
    match env().docker_clients.clone() {
        Some(path) => super::clients::load_clients_file(path).map(Some),
        None => Ok(None),
    }
}
