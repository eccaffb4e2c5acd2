//! `#[task]` parameters may take any name, including the ones the macro's own code uses.

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
    let results = execute("leftovers:a,b,k=v", &[]).expect("leftovers");
    assert_eq!(
        results["<local-only>"].to_string(),
        "[\"a\", \"b\"] [(\"k\", \"v\")]"
    );
    let results = execute("internal_names:1,2,3,4,5", &[]).expect("internal_names");
    assert_eq!(results["<local-only>"].to_string(), "1 2 3 4 5");
}
