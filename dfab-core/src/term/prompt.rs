//! Questions to the person at the terminal: `prompt()`, `confirm()` and password prompts, with Fabric's refusals.

use std::io::{BufRead, Write};

use anyhow::{bail, Context};

use super::output::Stream;
use crate::env::env;

/// The abort text when a prompt for `what` is not allowed (`--abort-on-prompts`, or a parallel run).
pub fn refusal(what: &str) -> Option<String> {
    let env = env();
    let host = env.host_string.as_deref().unwrap_or("None");
    if env.abort_on_prompts {
        Some(format!(
            "Needed to prompt for {what} (host: {host}), but abort-on-prompts was set to True"
        ))
    } else if env.parallel {
        Some(format!(
            "Needed to prompt for {what} (host: {host}), but input would be ambiguous in parallel mode"
        ))
    } else {
        None
    }
}

/// Asks for a secret without echo; `what` names it for the refusal message.
pub fn secret(what: &str, text: &str) -> anyhow::Result<String> {
    if let Some(message) = refusal(what) {
        bail!(message);
    }
    rpassword::prompt_password(text)
        .with_context(|| format!("cannot read {what} from the terminal"))
}

fn read_line(text: &str) -> anyhow::Result<String> {
    if let Some(message) = refusal("a user-specified prompt() call") {
        bail!(message);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write the prompt")?;
    drop(out);
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the answer")?;
    if read == 0 {
        bail!(
            "no answer to the prompt '{}': standard input is closed",
            text.trim()
        );
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Asks a question; an empty answer gives `default`.
pub fn prompt(text: &str, default: &str) -> anyhow::Result<String> {
    prompt_with(text, default, |answer| Ok(answer.to_owned()))
}

/// Asks until `validate` accepts the answer (its error is shown before asking again), like Fabric's `validate=`.
pub fn prompt_with<T>(
    text: &str,
    default: &str,
    validate: impl Fn(&str) -> Result<T, String>,
) -> anyhow::Result<T> {
    let shown = if default.is_empty() {
        format!("{} ", text.trim())
    } else {
        format!("{} [{default}] ", text.trim())
    };
    loop {
        let answer = read_line(&shown)?;
        let answer = if answer.is_empty() { default } else { &answer };
        match validate(answer) {
            Ok(value) => return Ok(value),
            Err(reason) => super::output::write(
                Stream::Stdout,
                &format!("Validation failed for the following reason:\n    {reason}\n\n"),
            ),
        }
    }
}

/// Asks a yes/no question (`[Y/n]` or `[y/N]`), like Fabric's `confirm`.
pub fn confirm(question: &str, default: bool) -> anyhow::Result<bool> {
    let suffix = if default { "[Y/n] " } else { "[y/N] " };
    loop {
        let answer = read_line(&format!("{question} {suffix}"))?.to_lowercase();
        match answer.as_str() {
            "" => return Ok(default),
            "y" | "yes" => return Ok(true),
            "n" | "no" => return Ok(false),
            _ => super::output::write(
                Stream::Stdout,
                "I didn't understand you. Please specify '(y)es' or '(n)o'.\n",
            ),
        }
    }
}
