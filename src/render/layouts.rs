//! Templates: the defaults shipped in `layouts/` are compiled into the binary;
//! a book overrides any of them by putting a file with the same relative path
//! in its own `layouts/` folder (`<content>/layouts/epub/module.xhtml.j2`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Layouts {
    overrides: PathBuf,
    defaults: &'static [(&'static str, &'static str)],
}

impl Layouts {
    /// `defaults` are (relative path, contents) pairs, usually from `include_str!`.
    pub fn new(content_root: &Path, defaults: &'static [(&'static str, &'static str)]) -> Self {
        Self {
            overrides: content_root.join("layouts"),
            defaults,
        }
    }

    /// The template at `name` (e.g. `epub/module.xhtml.j2`), overridden or default.
    pub fn get(&self, name: &str) -> Result<Cow<'static, str>> {
        let custom = self.overrides.join(name);
        if custom.is_file() {
            return std::fs::read_to_string(&custom)
                .map(Cow::Owned)
                .map_err(|e| Error::io("read layout", custom, e));
        }
        self.defaults
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| Cow::Borrowed(*t))
            .ok_or_else(|| Error::Internal(format!("no layout named {name}")))
    }

    /// Names of every default template (overrides can only replace these).
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        self.defaults.iter().map(|(n, _)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_wins() {
        static D: &[(&str, &str)] = &[("a/x.j2", "default"), ("a/y.j2", "y")];
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("layouts/a")).unwrap();
        std::fs::write(dir.path().join("layouts/a/x.j2"), "custom").unwrap();
        let l = Layouts::new(dir.path(), D);
        assert_eq!(l.get("a/x.j2").unwrap(), "custom");
        assert_eq!(l.get("a/y.j2").unwrap(), "y");
        assert!(l.get("a/z.j2").is_err());
    }
}
