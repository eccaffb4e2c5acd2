//! Carrying out one action on one engine: observe it, check every request, plan, and run the plan (or print it).

use super::{execute, plan, schedule, visit, Action, Observed, PlanOptions};
use crate::docker::{describe_push, docker_client, push_image_to_host, PushOptions};
use crate::env::env;
use crate::map::{ClientConfig, ContainerMap, Graph, Item};
use crate::term::output;

/// Plans and carries out `action` on the engine of the current host string (or the local engine).
pub(crate) fn run_on_engine(
    action: Action,
    (map, graph): (&ContainerMap, &Graph),
    items: &[Item],
    client: Option<(&str, &ClientConfig)>,
    dry_run: bool,
    options: &PlanOptions,
) -> anyhow::Result<()> {
    let client_config = client.map(|(_, config)| config);
    let env = env();
    let docker = docker_client()?;
    let visited = visit(graph, action, items, options);
    // Pushed before the engine is observed, so that update compares containers with the pushed images.
    let pushed = if env.docker_push_images
        && matches!(
            action,
            Action::Create | Action::Startup | Action::Update | Action::PullImages
        ) {
        push_images(graph, &visited, dry_run, &env)?
    } else {
        Vec::new()
    };
    let mut observed = Observed::load(&docker)?;
    observed.check_owners(&docker, map, graph, &visited)?;
    // What only the run's env or the client settles is checked before anything changes, also in a dry run.
    if matches!(action, Action::Create | Action::Startup | Action::Update) {
        super::create_args::check_requests(map, &visited, client_config, &env)?;
    }
    // startup keeps docker-map's meaning and leaves existing containers as they are, but says which of them no
    // longer match their configuration.
    if matches!(action, Action::Update | Action::Startup) {
        observed.check_updates(
            &docker,
            map,
            graph,
            &visited,
            client_config,
            &env,
            &options.update,
        )?;
        let mut outdated: Vec<_> = observed.outdated().iter().collect();
        outdated.sort();
        for (name, reasons) in outdated {
            if action == Action::Update {
                output::running(&format!(
                    "docker: '{name}' is out of date: {}.",
                    reasons.join(", ")
                ));
            } else {
                output::warn(&format!(
                    "'{name}' differs from its configuration ({}); startup leaves it as it is, \
                     actions.update replaces it",
                    reasons.join(", ")
                ));
            }
        }
    }
    let state = |item: &Item| observed.state(map, item);
    // A pushed image is not pulled as well.
    let steps: Vec<_> = plan(map, graph, action, items, &state, options)
        .into_iter()
        .filter(|step| !matches!(&step.item, Item::Image(image) if pushed.contains(image)))
        .collect();
    let schedule = schedule(graph, &steps);
    if dry_run {
        // Every line names where the step would happen: the client, its host and its engine.
        let place = match client {
            Some((name, _)) => format!("client {name}, {} {}", docker.host(), docker.engine()),
            None => format!("{} {}", docker.host(), docker.engine()),
        };
        // In planned order, which a one-worker run follows; parallel workers interleave independent items.
        for step in schedule.steps() {
            output::running(&format!("docker: (dry run on {place}) {step}"));
        }
        if steps.is_empty() {
            output::running(&format!("docker: (dry run on {place}) nothing to do"));
        }
        return Ok(());
    }
    for helper in observed.leftover_helpers(map) {
        output::running(&format!(
            "docker: Removing helper container '{helper}', left behind by an earlier run."
        ));
        super::execute::remove_helper(&docker, helper)?;
    }
    execute(&docker, map, &schedule, client_config, &env, parallel(&env))?;
    Ok(())
}

/// Pushes the images of the containers among `visited` from the local engine to the current host's engine (only
/// the layers it lacks), one line each; returns the images pushed (or, in a dry run, that would be).
fn push_images(
    graph: &Graph,
    visited: &[Item],
    dry_run: bool,
    env: &crate::env::Env,
) -> anyhow::Result<Vec<String>> {
    let mut images: Vec<String> = visited
        .iter()
        .filter(|item| matches!(item, Item::Container { .. }))
        .map(|item| graph.image(item))
        .filter(|image| !image.is_empty())
        .collect();
    images.sort();
    images.dedup();
    let options = PushOptions {
        dry_run,
        // An upload of image layers takes longer than one API request may: at least the push task's default.
        timeout: std::time::Duration::from_secs(env.docker_timeout.max(600)),
        ..PushOptions::default()
    };
    for image in &images {
        let report = push_image_to_host(image, &options)?;
        let line = describe_push(&report);
        if dry_run {
            output::running(&format!("docker: (dry run) {line}"));
        } else {
            output::running(&format!("docker: {line}"));
        }
    }
    Ok(images)
}

/// How many items of one dependency level run at once: `env.docker_parallel`, capped by `-z` when given.
pub(crate) fn parallel(env: &crate::env::Env) -> usize {
    match env.pool_size {
        0 => env.docker_parallel.max(1),
        cap => env.docker_parallel.clamp(1, cap),
    }
}
