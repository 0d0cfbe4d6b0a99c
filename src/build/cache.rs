//! No-op rebuilds. A build records a fingerprint of everything it read (every
//! file under the content folder, publisher fonts, the build options, the
//! build date setting and the Quire binary) in `<out>/.cache/build.json`,
//! with the hash of every file it wrote. The next build with the same
//! fingerprint, whose outputs are all still there byte for byte, has nothing
//! to do. Anything else (no manifest, a corrupt one, another Quire, an output
//! edited or deleted) is a full build: the cache can skip work, never serve
//! stale or wrong files.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::report::BuildReport;

const MANIFEST: &str = ".cache/build.json";

/// Bumped when the manifest layout changes.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    fingerprint: String,
    report: BuildReport,
}

/// Fingerprint of a build's inputs: `options` describes everything about the
/// invocation that changes the output (formats, paper, date setting);
/// `binary` is the running Quire.
pub fn fingerprint(
    content: &Path,
    font_dirs: &[PathBuf],
    binary: &Path,
    options: &str,
) -> io::Result<String> {
    let mut h = Sha256::new();
    h.update(format!("quire {}\n", env!("CARGO_PKG_VERSION")));
    h.update(binary_identity(binary));
    h.update(format!("options {options}\n"));
    hash_tree(&mut h, content, content)?;
    for dir in font_dirs {
        if dir.is_dir() && !dir.starts_with(content) {
            hash_tree(&mut h, dir, dir)?;
        }
    }
    Ok(hex(&h.finalize()))
}

/// The binary's size and modification time: a rebuilt Quire with the same
/// version number must not reuse outputs of the old one.
fn binary_identity(binary: &Path) -> String {
    let meta = fs::metadata(binary);
    match meta {
        Ok(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            format!("binary {} {mtime}\n", m.len())
        }
        // Unknown binary: a fingerprint that never matches a stored one.
        Err(_) => format!("binary unknown {:?}\n", std::time::SystemTime::now()),
    }
}

/// Paths (relative, sorted) and contents of every file under `dir`.
fn hash_tree(h: &mut Sha256, root: &Path, dir: &Path) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        // Editor swap/backup files are not part of the book (the loader never
        // reads them); hashing them would turn every keystroke into a rebuild.
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let path = e.path();
        let meta = fs::metadata(&path)?;
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if meta.is_dir() {
            hash_tree(h, root, &path)?;
        } else {
            let bytes = fs::read(&path)?;
            h.update(format!("file {} {}\n", rel.display(), bytes.len()));
            h.update(&bytes);
        }
    }
    Ok(())
}

/// The report of the last build, if it had this fingerprint and every file it
/// wrote is still exactly as written.
pub fn lookup(out: &Path, fingerprint: &str) -> Option<BuildReport> {
    let bytes = fs::read(out.join(MANIFEST)).ok()?;
    let m: Manifest = serde_json::from_slice(&bytes).ok()?;
    if m.format != FORMAT || m.fingerprint != fingerprint {
        return None;
    }
    let intact = m.report.outputs.iter().all(|o| {
        fs::read(&o.path)
            .is_ok_and(|b| b.len() as u64 == o.bytes && hex(&Sha256::digest(&b)) == o.sha256)
    });
    intact.then_some(m.report)
}

/// Records a finished build. The manifest is written last, after every
/// output, so a build that died half-way never looks up to date.
pub fn store(out: &Path, fingerprint: &str, report: &BuildReport) -> crate::Result<()> {
    let m = Manifest {
        format: FORMAT,
        fingerprint: fingerprint.to_string(),
        report: report.clone(),
    };
    let json = serde_json::to_vec_pretty(&m)
        .map_err(|e| crate::Error::Internal(format!("cache manifest: {e}")))?;
    crate::render::output::write_atomic(&out.join(MANIFEST), &json)
}

/// Forgets the last build (before writing new outputs).
pub fn invalidate(out: &Path) {
    let _ = fs::remove_file(out.join(MANIFEST));
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(d.path().join("01-a")).expect("mkdir");
        fs::write(d.path().join("book.toml"), "title = 'x'").expect("write");
        fs::write(d.path().join("01-a/01-m.md"), "hello").expect("write");
        d
    }

    #[test]
    fn fingerprint_follows_content_and_options() {
        let d = tree();
        let a = fingerprint(d.path(), &[], d.path(), "epub").expect("fp");
        assert_eq!(a, fingerprint(d.path(), &[], d.path(), "epub").expect("fp"));
        assert_ne!(a, fingerprint(d.path(), &[], d.path(), "pdf").expect("fp"));
        fs::write(d.path().join("01-a/01-m.md"), "hellO").expect("write");
        assert_ne!(a, fingerprint(d.path(), &[], d.path(), "epub").expect("fp"));
    }

    #[test]
    fn renaming_a_file_changes_the_fingerprint() {
        let d = tree();
        let a = fingerprint(d.path(), &[], d.path(), "").expect("fp");
        fs::rename(d.path().join("01-a/01-m.md"), d.path().join("01-a/02-m.md")).expect("mv");
        assert_ne!(a, fingerprint(d.path(), &[], d.path(), "").expect("fp"));
    }
}
