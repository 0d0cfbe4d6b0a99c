//! `quire init`: a small starter book that builds clean at once — every
//! front-matter field, two parts, three modules, a figure, cross-links.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The starter book's files: path inside the book, text.
const FILES: &[(&str, &str)] = &[
    ("book.toml", include_str!("../starter/book.toml")),
    (
        "01-getting-started/_part.md",
        include_str!("../starter/01-getting-started/_part.md"),
    ),
    (
        "01-getting-started/01-writing-a-module.md",
        include_str!("../starter/01-getting-started/01-writing-a-module.md"),
    ),
    (
        "01-getting-started/02-figures-and-links.md",
        include_str!("../starter/01-getting-started/02-figures-and-links.md"),
    ),
    (
        "02-going-further/_part.md",
        include_str!("../starter/02-going-further/_part.md"),
    ),
    (
        "02-going-further/01-building-the-book.md",
        include_str!("../starter/02-going-further/01-building-the-book.md"),
    ),
    (
        "images/pipeline.svg",
        include_str!("../starter/images/pipeline.svg"),
    ),
];

/// What `init` wrote.
#[derive(Debug)]
pub struct Created {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

/// Writes the starter book into `dir` (created if missing). Refuses a folder
/// that holds anything, so nothing of the user's is ever overwritten.
/// `seed` makes the identifier fresh (the caller passes the time and process).
pub fn init(dir: &Path, today: &str, seed: &[u8]) -> Result<Created> {
    if dir.is_file() {
        return Err(Error::Usage(format!(
            "{} is a file: give a new or empty folder",
            dir.display()
        )));
    }
    if let Ok(mut entries) = std::fs::read_dir(dir)
        && entries.next().is_some()
    {
        return Err(Error::Usage(format!(
            "{} is not empty: give a new or empty folder (quire init never overwrites)",
            dir.display()
        )));
    }
    let identifier = uuid_urn(seed);
    let shown = dir.display().to_string();
    let mut files = Vec::new();
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        let text = text
            .replace("{{IDENTIFIER}}", &identifier)
            .replace("{{DATE}}", today)
            .replace("{{DIR}}", &shown);
        std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))?;
        files.push(path);
    }
    Ok(Created {
        dir: dir.to_path_buf(),
        files,
    })
}

/// `urn:uuid:` with a version-4 layout, its bits from a hash of `seed`.
fn uuid_urn(seed: &[u8]) -> String {
    let h = Sha256::digest(seed);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_uuids_and_differ_by_seed() {
        let a = uuid_urn(b"one");
        assert_eq!(a.len(), "urn:uuid:".len() + 36);
        assert_eq!(&a[9 + 14..9 + 15], "4");
        assert_ne!(a, uuid_urn(b"two"));
    }

    #[test]
    fn refuses_a_folder_with_anything_in_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("notes.txt"), "mine").expect("write");
        let e = init(dir.path(), "2026-01-01", b"x").expect_err("refused");
        assert!(e.to_string().contains("not empty"), "{e}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("notes.txt"))
                .ok()
                .as_deref(),
            Some("mine")
        );
    }
}
