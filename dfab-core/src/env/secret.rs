//! Which env keys hold secrets, whose values no message, warning or listing may show.

/// Whether an env key holds a secret: passwords, passphrases, tokens, registry logins.
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "passphrase", "secret", "token", "auth_configs"]
        .iter()
        .any(|word| key.contains(word))
}
