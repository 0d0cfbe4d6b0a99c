//! Anchor ids: GitHub-style slugs, made unique within a module.

use std::collections::BTreeSet;

/// `"Capacity Estimation (2024)"` → `"capacity-estimation-2024"`.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '_' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else if c == '-' || c.is_whitespace() {
            dash = true;
        }
    }
    if out.is_empty() {
        out.push_str("section");
    }
    out
}

/// GitHub's heading ids: lowercase, punctuation dropped, each space a `-`
/// (`"Foo & Bar"` → `"foo--bar"`), as links in real books spell them.
pub fn github_slug(text: &str) -> String {
    text.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Hands out ids unique within one module (`x`, `x-1`, `x-2`, ...).
#[derive(Debug, Default)]
pub struct IdSet {
    used: BTreeSet<String>,
}

impl IdSet {
    /// Reserves an explicit id; false if it was already taken.
    pub fn claim(&mut self, id: &str) -> bool {
        self.used.insert(id.to_string())
    }

    /// A fresh id derived from `base`.
    pub fn unique(&mut self, base: &str) -> String {
        if self.used.insert(base.to_string()) {
            return base.to_string();
        }
        (1..)
            .map(|n| format!("{base}-{n}"))
            .find(|c| !self.used.contains(c))
            .inspect(|c| {
                self.used.insert(c.clone());
            })
            .unwrap_or_else(|| base.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_style() {
        assert_eq!(slugify("Capacity Estimation"), "capacity-estimation");
        assert_eq!(slugify("TLS 1.3: the handshake"), "tls-13-the-handshake");
        assert_eq!(slugify("  A -- B  "), "a-b");
        assert_eq!(slugify("!!!"), "section");
    }

    #[test]
    fn unique_ids() {
        let mut s = IdSet::default();
        assert!(s.claim("intro"));
        assert_eq!(s.unique("intro"), "intro-1");
        assert_eq!(s.unique("intro"), "intro-2");
        assert!(!s.claim("intro-1"));
    }
}
