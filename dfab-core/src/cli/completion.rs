//! Shell completion scripts for task names and options: `--completions bash|zsh|fish`.
//!
//! Task names are asked of the program itself (`PROGRAM --shortlist`) each time the shell completes, so the script
//! follows the fabfile as it changes; options are written into the script.

use std::fmt::Write as _;

/// A shell dfab writes completion scripts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    /// GNU bash, with `complete -F`.
    Bash,
    /// zsh, with `compdef`.
    Zsh,
    /// fish, with `complete -c`.
    Fish,
}

impl Shell {
    /// The shell of a name (`bash`, `zsh`, `fish`), or `None`.
    pub fn from_name(name: &str) -> Option<Shell> {
        match name {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            _ => None,
        }
    }
}

/// One option as completion shows it: its names, whether it takes a value, and its help line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompletedOption {
    /// The short name.
    pub short: Option<char>,
    /// The long name, without dashes.
    pub long: Option<&'static str>,
    /// Whether a value follows.
    pub takes_value: bool,
    /// The help text.
    pub help: &'static str,
}

/// The completion script for `program` in `shell`.
pub fn script(shell: Shell, program: &str, options: &[CompletedOption]) -> String {
    let function = format!(
        "_{}",
        program.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    let names: Vec<String> = options
        .iter()
        .flat_map(|o| {
            o.short
                .map(|s| format!("-{s}"))
                .into_iter()
                .chain(o.long.map(|l| format!("--{l}")))
        })
        .collect();
    let mut out = String::new();
    match shell {
        Shell::Bash => {
            let _ = write!(
                out,
                "# bash completion for {program}: eval \"$({program} --completions bash)\"\n\
                 {function}() {{\n\
                 \x20   local cur=${{COMP_WORDS[COMP_CWORD]}}\n\
                 \x20   if [[ $cur == -* ]]; then\n\
                 \x20       COMPREPLY=($(compgen -W \"{}\" -- \"$cur\"))\n\
                 \x20   else\n\
                 \x20       COMPREPLY=($(compgen -W \"$({program} --shortlist 2>/dev/null)\" -- \"$cur\"))\n\
                 \x20   fi\n\
                 }}\n\
                 complete -F {function} {program}\n",
                names.join(" ")
            );
        }
        Shell::Zsh => {
            let _ = writeln!(
                out,
                "#compdef {program}\n# zsh completion for {program}: {program} --completions zsh > \"${{fpath[1]}}/_{program}\""
            );
            let _ = writeln!(out, "{function}() {{\n    local -a specs");
            for option in options {
                let help = option.help.replace(['\'', '[', ']', ':'], " ");
                let value = if option.takes_value { ":value:" } else { "" };
                for name in option
                    .short
                    .map(|s| format!("-{s}"))
                    .into_iter()
                    .chain(option.long.map(|l| format!("--{l}")))
                {
                    let _ = writeln!(out, "    specs+=('{name}[{help}]{value}')");
                }
            }
            let _ = write!(
                out,
                "    _arguments -s $specs '*:task:->tasks'\n\
                 \x20   if [[ $state == tasks ]]; then\n\
                 \x20       local -a tasks\n\
                 \x20       tasks=(${{(f)\"$({program} --shortlist 2>/dev/null)\"}})\n\
                 \x20       compadd -a tasks\n\
                 \x20   fi\n\
                 }}\n\
                 compdef {function} {program}\n"
            );
        }
        Shell::Fish => {
            let _ = writeln!(
                out,
                "# fish completion for {program}: {program} --completions fish > ~/.config/fish/completions/{program}.fish\n\
                 complete -c {program} -f -a '({program} --shortlist 2>/dev/null)'"
            );
            for option in options {
                let mut line = format!("complete -c {program}");
                if let Some(short) = option.short {
                    let _ = write!(line, " -s {short}");
                }
                if let Some(long) = option.long {
                    let _ = write!(line, " -l {long}");
                }
                if option.takes_value {
                    line.push_str(" -r");
                }
                let _ = write!(line, " -d '{}'", option.help.replace('\'', "\\'"));
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: [CompletedOption; 2] = [
        CompletedOption {
            short: Some('H'),
            long: Some("hosts"),
            takes_value: true,
            help: "comma-separated list of hosts to operate on",
        },
        CompletedOption {
            short: None,
            long: Some("shortlist"),
            takes_value: false,
            help: "alias for -F short --list",
        },
    ];

    #[test]
    fn scripts_ask_the_program_for_tasks_and_list_the_options() {
        let bash = script(Shell::Bash, "dfab", &OPTIONS);
        assert!(
            bash.contains("compgen -W \"-H --hosts --shortlist\""),
            "{bash}"
        );
        assert!(bash.contains("$(dfab --shortlist 2>/dev/null)"), "{bash}");
        assert!(bash.ends_with("complete -F _dfab dfab\n"), "{bash}");
        let zsh = script(Shell::Zsh, "my-fab", &OPTIONS);
        assert!(zsh.starts_with("#compdef my-fab\n"), "{zsh}");
        assert!(
            zsh.contains("specs+=('--hosts[comma-separated list of hosts to operate on]:value:')"),
            "{zsh}"
        );
        assert!(zsh.contains("compdef _my_fab my-fab"), "{zsh}");
        let fish = script(Shell::Fish, "dfab", &OPTIONS);
        assert!(fish.contains("complete -c dfab -s H -l hosts -r -d 'comma-separated list of hosts to operate on'"), "{fish}");
        assert!(
            fish.contains("complete -c dfab -f -a '(dfab --shortlist 2>/dev/null)'"),
            "{fish}"
        );
        assert_eq!(Shell::from_name("tcsh"), None);
    }
}
