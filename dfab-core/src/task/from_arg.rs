//! Conversion of command-line strings into typed task parameters.

use std::path::PathBuf;

/// Why a parameter value was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgProblem {
    /// No value was given and the parameter has neither a default nor an optional type.
    Missing,
    /// The value does not convert; the text says what was expected.
    Invalid(String),
}

/// A type a task parameter can have: converted from the string the user typed.
///
/// Implement it for your own types to use them as parameters:
///
/// ```
/// use dfab_core::task::FromArg;
///
/// enum Stage { Staging, Production }
///
/// impl FromArg for Stage {
///     fn expected() -> String { "staging or production".into() }
///     fn from_arg(value: &str) -> Option<Self> {
///         match value {
///             "staging" => Some(Stage::Staging),
///             "production" => Some(Stage::Production),
///             _ => None,
///         }
///     }
/// }
/// assert!(Stage::from_arg("staging").is_some());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a task parameter",
    label = "this type does not implement `dfab_core::task::FromArg`",
    note = "use String, bool, an integer or float type, PathBuf, Option<T>, Vec<T>, Args, Kwargs, or implement FromArg for it"
)]
pub trait FromArg: Sized {
    /// What a valid value looks like, for error messages ("an integer").
    fn expected() -> String;

    /// Converts the typed string, or `None` when it does not fit.
    fn from_arg(value: &str) -> Option<Self>;

    /// The value of an omitted parameter that has no default; `None` makes the parameter required.
    fn when_absent() -> Option<Self> {
        None
    }

    /// How `-d` shows a default, in Fabric's Python notation.
    fn show_default(raw: &str) -> String {
        python_str(raw)
    }
}

/// Checks a value against `T` without keeping the result; the registry stores this per parameter.
pub fn check_param<T: FromArg>(value: Option<&str>) -> Result<(), ArgProblem> {
    match value {
        Some(v) => T::from_arg(v)
            .map(drop)
            .ok_or_else(|| ArgProblem::Invalid(T::expected())),
        None => T::when_absent().map(drop).ok_or(ArgProblem::Missing),
    }
}

/// A string in Python's repr form: `'main'`.
fn python_str(raw: &str) -> String {
    format!("'{}'", raw.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Parses Fabric's spellings of a boolean: true/false, yes/no, on/off, 1/0 in any case, and the empty string as false.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        // An empty argument is false, as Python's truthiness made it in Fabric (`list_containers:`).
        "false" | "no" | "off" | "0" | "" => Some(false),
        _ => None,
    }
}

impl FromArg for String {
    fn expected() -> String {
        "a string".into()
    }
    fn from_arg(value: &str) -> Option<Self> {
        Some(value.to_owned())
    }
}

impl FromArg for PathBuf {
    fn expected() -> String {
        "a path".into()
    }
    fn from_arg(value: &str) -> Option<Self> {
        Some(PathBuf::from(value))
    }
}

impl FromArg for bool {
    fn expected() -> String {
        "a boolean (true/false, yes/no, on/off, 1/0)".into()
    }
    fn from_arg(value: &str) -> Option<Self> {
        parse_bool(value)
    }
    fn show_default(raw: &str) -> String {
        match parse_bool(raw) {
            Some(true) => "True".into(),
            Some(false) => "False".into(),
            None => python_str(raw),
        }
    }
}

macro_rules! number_from_arg {
    ($expected:literal: $($ty:ty),*) => {$(
        impl FromArg for $ty {
            fn expected() -> String {
                format!(concat!($expected, " ({} to {})"), <$ty>::MIN, <$ty>::MAX)
            }
            fn from_arg(value: &str) -> Option<Self> {
                value.parse().ok()
            }
            fn show_default(raw: &str) -> String {
                raw.to_owned()
            }
        }
    )*};
}
number_from_arg!("an integer": i8, i16, i32, i64, i128, isize);
number_from_arg!("a whole number": u8, u16, u32, u64, u128, usize);

macro_rules! float_from_arg {
    ($($ty:ty),*) => {$(
        impl FromArg for $ty {
            fn expected() -> String {
                "a number".into()
            }
            fn from_arg(value: &str) -> Option<Self> {
                value.parse().ok()
            }
            fn show_default(raw: &str) -> String {
                raw.to_owned()
            }
        }
    )*};
}
float_from_arg!(f32, f64);

impl<T: FromArg> FromArg for Option<T> {
    fn expected() -> String {
        T::expected()
    }
    fn from_arg(value: &str) -> Option<Self> {
        T::from_arg(value).map(Some)
    }
    fn when_absent() -> Option<Self> {
        Some(None)
    }
    fn show_default(raw: &str) -> String {
        T::show_default(raw)
    }
}

/// A list, written with `;` between items as in `hosts=a;b` (`,` already separates task arguments).
impl<T: FromArg> FromArg for Vec<T> {
    fn expected() -> String {
        format!("a list separated by ';' of {}", T::expected())
    }
    fn from_arg(value: &str) -> Option<Self> {
        if value.is_empty() {
            return Some(Vec::new());
        }
        value.split(';').map(T::from_arg).collect()
    }
    fn show_default(raw: &str) -> String {
        let items: Vec<String> = if raw.is_empty() {
            Vec::new()
        } else {
            raw.split(';').map(T::show_default).collect()
        };
        format!("[{}]", items.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_fabric_spellings() {
        for yes in ["True", "true", "TRUE", "yes", "Yes", "on", "ON", "1"] {
            assert_eq!(bool::from_arg(yes), Some(true), "{yes}");
        }
        for no in ["False", "false", "no", "NO", "off", "Off", "0", ""] {
            assert_eq!(bool::from_arg(no), Some(false), "{no}");
        }
        for bad in ["maybe", "2", "tru"] {
            assert_eq!(bool::from_arg(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_and_options() {
        assert_eq!(u16::from_arg("8080"), Some(8080));
        assert_eq!(u8::from_arg("256"), None);
        assert_eq!(i32::from_arg("-3"), Some(-3));
        assert_eq!(f64::from_arg("2.5"), Some(2.5));
        assert_eq!(<Option<u32>>::from_arg("7"), Some(Some(7)));
        assert_eq!(<Option<u32>>::when_absent(), Some(None));
        assert_eq!(u32::when_absent(), None);
        assert_eq!(<Vec<u8>>::from_arg("1;2;3"), Some(vec![1, 2, 3]));
        assert_eq!(<Vec<u8>>::from_arg("1;x"), None);
    }

    #[test]
    fn checks_report_missing_and_invalid() {
        assert_eq!(check_param::<u8>(None), Err(ArgProblem::Missing));
        assert_eq!(check_param::<Option<u8>>(None), Ok(()));
        assert_eq!(
            check_param::<u8>(Some("x")),
            Err(ArgProblem::Invalid("a whole number (0 to 255)".into()))
        );
    }

    #[test]
    fn defaults_show_in_python_notation() {
        assert_eq!(String::show_default("main"), "'main'");
        assert_eq!(String::show_default("it's"), "'it\\'s'");
        assert_eq!(bool::show_default("no"), "False");
        assert_eq!(u32::show_default("3"), "3");
        assert_eq!(<Vec<String>>::show_default("a;b"), "['a', 'b']");
    }
}
