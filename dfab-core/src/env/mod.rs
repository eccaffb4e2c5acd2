//! The env: Fabric's settings as typed keys, the current thread's copy, and the guards that change it.

mod current;
mod env_value;
mod guards;
mod keys;
mod local_user;
mod output_levels;
mod secret;

pub(crate) use current::replace_env;
pub use current::{env, env_mut};
pub use env_value::EnvValue;
pub use guards::{
    cd, hide, lcd, path, prefix, quiet, settings, shell_env, show, warn_only, EnvChange, Guard,
};
pub use keys::{parse_value, Env, EnvError};
pub use local_user::local_user;
pub use output_levels::{Level, OutputLevels};
pub use secret::is_secret;
/// Values of env keys without a typed field.
pub use serde_yaml::Value;
