//! Container-map actions: what `actions.startup`, `shutdown`, … do to an engine, planned from the map's
//! dependency graph and the engine's state.

mod action;
mod create_args;
mod engine;
mod errors;
mod execute;
mod observe;
mod plan;
mod pull;
mod schedule;
mod script;
mod state;
mod step;
mod tasks;
mod update_check;

pub use action::{Action, Walk, ACTIONS};
pub use create_args::create_body;
pub use errors::{ActionError, RequestError, RequestProblems, StepError};
pub use execute::{execute, Summary};
pub use observe::{Observed, UpdateOptions};
pub use plan::{item_name, plan, visit, walk, PlanOptions};
pub use schedule::{schedule, Job, Schedule};
pub use state::{ItemState, Presence};
pub use step::{Step, StepKind};
pub use tasks::{container_fabric, ContainerFabric};
pub use update_check::{differences, ExecCheck};
