//! Conversion of the strings of `--set` and the rc file into typed env values.

use std::collections::BTreeMap;

use super::OutputLevels;
use crate::task::FromArg;

/// A type an env key can have, settable from a string.
pub trait EnvValue: Sized {
    /// Converts a string, or says what was expected.
    fn parse_env(value: &str) -> Result<Self, String>;
}

macro_rules! via_from_arg {
    ($($ty:ty),*) => {$(
        impl EnvValue for $ty {
            fn parse_env(value: &str) -> Result<Self, String> {
                <$ty as FromArg>::from_arg(value).ok_or_else(<$ty as FromArg>::expected)
            }
        }
    )*};
}
via_from_arg!(bool, String, i32, u16, u32, u64, usize);

/// An empty string clears an optional key.
impl<T: EnvValue> EnvValue for Option<T> {
    fn parse_env(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            Ok(None)
        } else {
            T::parse_env(value).map(Some)
        }
    }
}

/// Lists accept `,` or `;` between items (the rc file uses `,`; `--set` needs `;`).
impl<T: EnvValue> EnvValue for Vec<T> {
    fn parse_env(value: &str) -> Result<Self, String> {
        value
            .split([',', ';'])
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(T::parse_env)
            .collect()
    }
}

impl<V> EnvValue for BTreeMap<String, V> {
    fn parse_env(_: &str) -> Result<Self, String> {
        Err("a mapping, which is set in the fabfile, not from a string".into())
    }
}

impl EnvValue for OutputLevels {
    fn parse_env(_: &str) -> Result<Self, String> {
        Err("output levels, which are set with --hide and --show".into())
    }
}
