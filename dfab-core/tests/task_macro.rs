//! `#[task]` parameters may take any name, including the ones the macro's own code uses. The tasks here are in the
//! namespace `task_macro`: a module of the test binary is a namespace, as a fabfile's module is.

use dfab_core::prelude::*;

/// `fn deploy(args: Args, kwargs: Kwargs)`, as the migration guide recommends for `*args, **kwargs`.
#[task]
fn leftovers(args: Args, kwargs: Kwargs) -> anyhow::Result<String> {
    Ok(format!("{:?} {:?}", args.0, kwargs.0))
}

/// Parameters named after every name the macro generates or used to generate.
#[task]
#[allow(non_snake_case)]
fn internal_names(
    bound: String,
    param0: String,
    __dfab_args: String,
    __dfab_invoke: String,
    __dfab_bound: Option<String>,
) -> anyhow::Result<String> {
    Ok(format!(
        "{bound} {param0} {__dfab_args} {__dfab_invoke} {}",
        __dfab_bound.unwrap_or_default()
    ))
}

#[test]
fn parameters_never_collide_with_the_macros_names() {
    let results = execute("task_macro.leftovers:a,b,k=v", &[]).expect("leftovers");
    assert_eq!(
        results["<local-only>"].to_string(),
        "[\"a\", \"b\"] [(\"k\", \"v\")]"
    );
    let results = execute("task_macro.internal_names:1,2,3,4,5", &[]).expect("internal_names");
    assert_eq!(results["<local-only>"].to_string(), "1 2 3 4 5");
}

/// `fab vagrant setup`: the first task sets `env.user` for the tasks after it.
#[task]
fn become_deploy() {
    env_mut(|e| {
        e.user = "deploy".into();
        e.hosts = vec!["web1".into()];
    });
}

/// Does nothing; the host loop sets and reverts the per-host keys around it.
#[task]
fn noop() {}

#[test]
fn what_a_task_sets_in_env_lasts_and_the_host_loop_reverts_its_own() {
    let before = env().user.clone();
    // The loop's own user (from `root@…`) reverts after the host's run.
    execute("task_macro.noop", &["root@web9"]).expect("noop");
    assert_eq!(env().user, before);
    assert_eq!(env().host_string, None);
    // A user the task set itself stays for the rest of the run, with a host or without.
    execute("task_macro.become_deploy", &["web1"]).expect("become_deploy");
    assert_eq!(env().user, "deploy");
    assert_eq!(env().hosts, ["web1"]);
    env_mut(|e| e.user = before.clone());
    execute("task_macro.become_deploy", &[]).expect("become_deploy");
    assert_eq!(env().user, "deploy");
}
