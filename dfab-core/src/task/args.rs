//! `Args` and `Kwargs`: the leftover positional and keyword arguments of a task call.

/// The positional arguments no named parameter took, like Python's `*args`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args(pub Vec<String>);

impl Args {
    /// The arguments in command-line order.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl std::ops::Deref for Args {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

/// The keyword arguments no named parameter took, like Python's `**kwargs`, in command-line order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kwargs(pub Vec<(String, String)>);

impl Kwargs {
    /// The value of `key`, if it was given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The keys, in command-line order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Whether no keyword argument is left.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets `key`, replacing an earlier value (the last of repeated keywords wins, as in Fabric).
    pub fn insert(&mut self, key: String, value: String) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(index).1)
    }
}
