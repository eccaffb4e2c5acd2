//! `Schedule`: a plan's steps grouped into one job per item, with the jobs each must wait for.

use super::{Step, StepKind};
use crate::map::{Graph, Item};

/// The steps of one item, done in order by one worker.
pub type Job = (Item, Vec<Step>);

/// The jobs of a plan in planned order, and for each the earlier jobs it waits for: building an item (create,
/// start, …) waits for what it needs; tearing one down (stop, remove, kill) waits for what needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// One job per item, in the order the plan first names the item.
    pub jobs: Vec<Job>,
    /// For each job, the indexes of the earlier jobs it waits for.
    pub waits: Vec<Vec<usize>>,
}

impl Schedule {
    /// Every step in planned order: what a dry run prints and a one-worker run does.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.jobs.iter().flat_map(|(_, steps)| steps)
    }

    /// The jobs by depth: each level holds the jobs whose predecessors are all in earlier levels.
    pub fn levels(&self) -> Vec<Vec<Job>> {
        let mut depth: Vec<usize> = Vec::with_capacity(self.jobs.len());
        for waits in &self.waits {
            let level = waits.iter().map(|&w| depth[w] + 1).max().unwrap_or(0);
            depth.push(level);
        }
        let mut levels: Vec<Vec<Job>> = Vec::new();
        for (job, level) in self.jobs.iter().zip(depth) {
            if levels.len() <= level {
                levels.resize(level + 1, Vec::new());
            }
            levels[level].push(job.clone());
        }
        levels
    }
}

/// Groups `steps` by item and finds what each item's job waits for.
pub fn schedule(graph: &Graph, steps: &[Step]) -> Schedule {
    let mut jobs: Vec<Job> = Vec::new();
    for step in steps {
        match jobs.iter_mut().find(|(item, _)| *item == step.item) {
            Some((_, list)) => list.push(step.clone()),
            None => jobs.push((step.item.clone(), vec![step.clone()])),
        }
    }
    let teardown = |job: &Job| {
        job.1.iter().all(|s| {
            matches!(
                s.kind,
                StepKind::Stop
                    | StepKind::Remove
                    | StepKind::Kill { .. }
                    | StepKind::RemoveVolume
                    | StepKind::RemoveNetwork
            )
        })
    };
    let waits = jobs
        .iter()
        .enumerate()
        .map(|(index, job)| {
            jobs[..index]
                .iter()
                .enumerate()
                .filter(|(_, other)| {
                    if teardown(job) {
                        teardown(other) && graph.direct(&other.0).contains(&job.0)
                    } else {
                        !teardown(other) && graph.direct(&job.0).contains(&other.0)
                    }
                })
                .map(|(earlier, _)| earlier)
                .collect()
        })
        .collect();
    Schedule { jobs, waits }
}
