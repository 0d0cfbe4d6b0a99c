//! Writing outputs safely: to a temporary file in the same folder, then an
//! atomic rename, so a failed or killed build never leaves half a book and
//! the previous good file stays until the new one is complete.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Temporary files are `.<name>.<pid>.quire-tmp`; leftovers of a killed build
/// are removed by the next one.
const TMP_SUFFIX: &str = ".quire-tmp";

/// Where a build's files go. The build writes through one; tests put in one
/// that fails (`FailAfter`), so no fault hook sits in the real write path.
pub trait Sink: Send + Sync + std::fmt::Debug {
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<()>;
}

/// Files on disk, each written atomically (`write_atomic`).
#[derive(Debug, Default)]
pub struct Atomic;

impl Sink for Atomic {
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        write_atomic(path, bytes)
    }
}

/// Writes the first `n` files, then fails each one half-way, as a full disk
/// would (the CLI installs it for `QUIRE_FAIL_WRITE_AFTER=n`, for the fault
/// tests).
#[derive(Debug)]
pub struct FailAfter {
    n: usize,
    done: AtomicUsize,
}

impl FailAfter {
    pub fn sink(n: usize) -> Arc<dyn Sink> {
        Arc::new(FailAfter {
            n,
            done: AtomicUsize::new(0),
        })
    }
}

impl Sink for FailAfter {
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        if self.done.fetch_add(1, Ordering::SeqCst) < self.n {
            return write_atomic(path, bytes);
        }
        write_tmp_then(path, bytes, true)
    }
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_tmp_then(path, bytes, false)
}

/// The temporary file, then the rename; `fail` stops half-way through the
/// bytes (and leaves no temporary file, as a real failure must not).
fn write_tmp_then(path: &Path, bytes: &[u8], fail: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.{}{TMP_SUFFIX}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        if fail {
            f.write_all(&bytes[..bytes.len() / 2])?;
            return Err(std::io::Error::other(
                "injected write failure (QUIRE_FAIL_WRITE_AFTER)",
            ));
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("write", path, e));
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io("replace", path, e)
    })
}

/// Removes temporary files a killed build left in `dir` (not recursive).
pub fn remove_stale_temps(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(TMP_SUFFIX) {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/book.epub");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn stale_temps_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".book.epub.123.quire-tmp"), b"half").unwrap();
        fs::write(dir.path().join("book.epub"), b"good").unwrap();
        remove_stale_temps(dir.path());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("book.epub")]);
    }
}
