//! `TaskValue`: what a task returned, kept per host by the runner.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// A returned value that can be printed and downcast.
trait Returned: fmt::Display + Send + Sync {
    fn as_any(&self) -> &dyn Any;
}

impl<T: fmt::Display + Send + Sync + 'static> Returned for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The value a task returned on one host; empty for tasks that return `()`.
#[derive(Clone, Default)]
pub struct TaskValue(Option<Arc<dyn Returned>>);

impl TaskValue {
    /// Wraps a returned value.
    pub fn new<T: fmt::Display + Send + Sync + 'static>(value: T) -> TaskValue {
        TaskValue(Some(Arc::new(value)))
    }

    /// The value of a task that returns nothing.
    pub fn none() -> TaskValue {
        TaskValue(None)
    }

    /// Whether the task returned nothing.
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// The value as its original type, if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.as_deref().and_then(|v| v.as_any().downcast_ref())
    }
}

/// Prints the value, or `None` like Python's `print(None)` for tasks that return nothing.
impl fmt::Display for TaskValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for TaskValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskValue({self})")
    }
}
