//! Tasks: their static definitions, typed parameters, argument binding, return values and the registry.

mod args;
mod bound_args;
mod def;
mod from_arg;
mod registry;
mod value;

pub use args::{Args, Kwargs};
pub use bound_args::{ArgError, BoundArgs};
pub use def::{ExecMode, ParamKind, ParamSpec, TaskDef};
pub use from_arg::{check_param, parse_bool, ArgProblem, FromArg};
pub use registry::{Namespace, Registry, RegistryError};
pub use value::TaskValue;
