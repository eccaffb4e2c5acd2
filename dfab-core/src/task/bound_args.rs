//! Binding a call's positional and keyword arguments to a task's parameters, as Python binds a call.

use super::{ArgProblem, Args, FromArg, Kwargs, ParamKind, ParamSpec};

/// A call whose arguments do not fit the task's signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// More positional arguments than parameters, and no `Args` parameter.
    #[error("task '{task}' takes at most {max} argument{} ({given} given)", plural(*.max))]
    TooMany {
        /// The task's name.
        task: String,
        /// How many positional arguments it takes.
        max: usize,
        /// How many were given.
        given: usize,
    },
    /// A keyword that names no parameter, and no `Kwargs` parameter.
    #[error("task '{task}' got an unexpected keyword argument '{keyword}' (it takes: {accepted})")]
    UnexpectedKeyword {
        /// The task's name.
        task: String,
        /// The keyword given.
        keyword: String,
        /// The parameter names, comma-separated.
        accepted: String,
    },
    /// A parameter given both by position and by keyword.
    #[error("task '{task}' got multiple values for argument '{param}'")]
    MultipleValues {
        /// The task's name.
        task: String,
        /// The parameter.
        param: String,
    },
    /// A required parameter without a value.
    #[error("task '{task}' is missing its required argument '{param}'")]
    Missing {
        /// The task's name.
        task: String,
        /// The parameter.
        param: String,
    },
    /// A value that does not convert to the parameter's type.
    #[error("task '{task}': invalid value '{value}' for argument '{param}': expected {expected}")]
    Invalid {
        /// The task's name.
        task: String,
        /// The parameter.
        param: String,
        /// The value given.
        value: String,
        /// What was expected.
        expected: String,
    },
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The arguments of one call, bound to the task's parameters; the generated task wrapper takes its values out.
#[derive(Clone, Debug)]
pub struct BoundArgs {
    task: String,
    named: Vec<(&'static str, Option<String>)>,
    rest: Args,
    keywords: Kwargs,
}

impl BoundArgs {
    /// Binds `positional` and `keywords` to `params`, then checks every value converts.
    pub fn bind(
        task: &str,
        params: &[ParamSpec],
        positional: &[String],
        keywords: &Kwargs,
    ) -> Result<BoundArgs, ArgError> {
        let named_specs: Vec<&ParamSpec> = params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Named { .. }))
            .collect();
        let takes_rest = params.iter().any(|p| matches!(p.kind, ParamKind::Rest));
        let takes_keywords = params.iter().any(|p| matches!(p.kind, ParamKind::Keywords));
        // As in Python, parameters declared after `Args` (`*args`) are keyword-only.
        let positional_slots = params
            .iter()
            .take_while(|p| !matches!(p.kind, ParamKind::Rest))
            .filter(|p| matches!(p.kind, ParamKind::Named { .. }))
            .count();

        let mut named: Vec<(&'static str, Option<String>)> =
            named_specs.iter().map(|p| (p.name, None)).collect();
        let mut rest = Vec::new();
        for (index, value) in positional.iter().enumerate() {
            match named.get_mut(index).filter(|_| index < positional_slots) {
                Some(slot) => slot.1 = Some(value.clone()),
                None if takes_rest => rest.push(value.clone()),
                None => {
                    return Err(ArgError::TooMany {
                        task: task.into(),
                        max: named.len(),
                        given: positional.len(),
                    })
                }
            }
        }
        let mut extra = Kwargs::default();
        for (key, value) in &keywords.0 {
            match named.iter().position(|(name, _)| name == key) {
                Some(index) if index < positional.len().min(positional_slots) => {
                    return Err(ArgError::MultipleValues {
                        task: task.into(),
                        param: key.clone(),
                    })
                }
                Some(index) => named[index].1 = Some(value.clone()),
                None if takes_keywords => extra.insert(key.clone(), value.clone()),
                None => {
                    return Err(ArgError::UnexpectedKeyword {
                        task: task.into(),
                        keyword: key.clone(),
                        accepted: accepted_names(&named_specs),
                    })
                }
            }
        }

        for (slot, spec) in named.iter_mut().zip(&named_specs) {
            let ParamKind::Named { default, check, .. } = spec.kind else {
                continue;
            };
            if slot.1.is_none() {
                slot.1 = default.map(str::to_owned);
            }
            check(slot.1.as_deref()).map_err(|problem| match problem {
                ArgProblem::Missing => ArgError::Missing {
                    task: task.into(),
                    param: spec.name.into(),
                },
                ArgProblem::Invalid(expected) => ArgError::Invalid {
                    task: task.into(),
                    param: spec.name.into(),
                    value: slot.1.clone().unwrap_or_default(),
                    expected,
                },
            })?;
        }
        Ok(BoundArgs {
            task: task.into(),
            named,
            rest: Args(rest),
            keywords: extra,
        })
    }

    /// Converts the value of the `index`-th named parameter.
    pub fn named<T: FromArg>(&mut self, index: usize) -> anyhow::Result<T> {
        let (param, value) = self
            .named
            .get_mut(index)
            .map(|(name, value)| (*name, value.take()))
            .ok_or_else(|| anyhow::anyhow!("task '{}' has no parameter #{index}", self.task))?;
        let converted = match &value {
            Some(v) => T::from_arg(v),
            None => T::when_absent(),
        };
        converted.ok_or_else(|| {
            anyhow::Error::new(match value {
                Some(v) => ArgError::Invalid {
                    task: self.task.clone(),
                    param: param.into(),
                    value: v,
                    expected: T::expected(),
                },
                None => ArgError::Missing {
                    task: self.task.clone(),
                    param: param.into(),
                },
            })
        })
    }

    /// Takes the leftover positional arguments.
    pub fn rest(&mut self) -> Args {
        std::mem::take(&mut self.rest)
    }

    /// Takes the leftover keyword arguments.
    pub fn keywords(&mut self) -> Kwargs {
        std::mem::take(&mut self.keywords)
    }
}

fn accepted_names(specs: &[&ParamSpec]) -> String {
    if specs.is_empty() {
        return "no keyword arguments".into();
    }
    specs.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{check_param, FromArg};

    fn named(name: &'static str, default: Option<&'static str>) -> ParamSpec {
        ParamSpec {
            name,
            kind: ParamKind::Named {
                default,
                check: check_param::<u32>,
                show_default: u32::show_default,
            },
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn kw(items: &[(&str, &str)]) -> Kwargs {
        Kwargs(
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn binds_like_python() {
        let params = [named("a", None), named("b", Some("2"))];
        let mut bound = BoundArgs::bind("t", &params, &strings(&["1"]), &kw(&[])).unwrap();
        assert_eq!(bound.named::<u32>(0).unwrap(), 1);
        assert_eq!(bound.named::<u32>(1).unwrap(), 2);
        let mut bound = BoundArgs::bind("t", &params, &[], &kw(&[("b", "5"), ("a", "4")])).unwrap();
        assert_eq!(
            (
                bound.named::<u32>(0).unwrap(),
                bound.named::<u32>(1).unwrap()
            ),
            (4, 5)
        );
    }

    #[test]
    fn reports_each_kind_of_misfit() {
        let params = [named("a", None)];
        let err = |pos: &[&str], kws: &[(&str, &str)]| {
            BoundArgs::bind("deploy", &params, &strings(pos), &kw(kws))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&["1", "2"], &[]),
            "task 'deploy' takes at most 1 argument (2 given)"
        );
        assert_eq!(
            err(&[], &[("x", "1")]),
            "task 'deploy' got an unexpected keyword argument 'x' (it takes: a)"
        );
        assert_eq!(
            err(&["1"], &[("a", "1")]),
            "task 'deploy' got multiple values for argument 'a'"
        );
        assert_eq!(
            err(&[], &[]),
            "task 'deploy' is missing its required argument 'a'"
        );
        assert_eq!(
            err(&["x"], &[]),
            "task 'deploy': invalid value 'x' for argument 'a': expected a whole number (0 to 4294967295)"
        );
    }

    #[test]
    fn leftovers_go_to_args_and_kwargs() {
        let params = [
            named("a", None),
            ParamSpec {
                name: "rest",
                kind: ParamKind::Rest,
            },
            ParamSpec {
                name: "kw",
                kind: ParamKind::Keywords,
            },
        ];
        let mut bound =
            BoundArgs::bind("t", &params, &strings(&["1", "x", "y"]), &kw(&[("k", "v")])).unwrap();
        assert_eq!(bound.rest(), Args(strings(&["x", "y"])));
        assert_eq!(bound.keywords().get("k"), Some("v"));
    }

    #[test]
    fn parameters_after_args_are_keyword_only() {
        let params = [
            named("a", None),
            ParamSpec {
                name: "rest",
                kind: ParamKind::Rest,
            },
            named("flag", Some("1")),
        ];
        let mut bound = BoundArgs::bind(
            "t",
            &params,
            &strings(&["1", "x", "y"]),
            &kw(&[("flag", "7")]),
        )
        .unwrap();
        assert_eq!(bound.rest(), Args(strings(&["x", "y"])));
        assert_eq!(bound.named::<u32>(1).unwrap(), 7);
    }
}
