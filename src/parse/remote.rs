//! Remote images, fetched once and locked. `quire.lock` (next to book.toml)
//! records url → sha256, size and media type; the bytes live in a
//! content-addressed cache, `.quire/images/<sha256>.<ext>`, beside it. A URL
//! whose lock entry and cached file agree is served from the cache, so a
//! build touches the network only for a URL that is new or whose cached copy
//! is gone, and only when fetching is enabled. Every fetch is bounded in
//! time, size and redirects, and its bytes are sniffed and decoded before
//! they are cached: a failure is a warning and the image stays a link.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::images;
use crate::diag::Diagnostics;
use crate::model::{Image, ImageFormat, Pos};

/// The lock file, next to book.toml.
pub const LOCK_FILE: &str = "quire.lock";
/// The cache of fetched bytes, next to book.toml (not part of the book).
pub const CACHE_DIR: &str = ".quire/images";
/// Larger downloads are cut off and refused.
pub const MAX_BYTES: u64 = 25 * 1024 * 1024;
pub const MAX_REDIRECTS: u32 = 5;
/// Whole-request budget per image: connect, redirects and body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Downloads at once: enough that one slow server doesn't stall the rest.
const PARALLEL: usize = 8;
const LOCK_VERSION: u32 = 1;

/// When the network may be used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum Fetch {
    /// Never (`quire check`): only what the lock and the cache hold.
    Never,
    /// As book.toml says (`images.remote`); off unless it says "fetch".
    #[default]
    AsBook,
    /// `--fetch-images`.
    Always,
}

#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub fetch: Fetch,
    /// `--update-images`: download every remote image again and accept
    /// bytes that differ from the lock (implies fetching).
    pub update: bool,
    pub timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            fetch: Fetch::default(),
            update: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// One `[[image]]` of the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    pub url: String,
    pub sha256: String,
    pub size: u64,
    #[serde(rename = "type")]
    pub media_type: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    version: u32,
    #[serde(default, rename = "image")]
    images: Vec<LockEntry>,
}

/// A verified image in the cache.
#[derive(Debug, Clone)]
pub struct Cached {
    pub entry: LockEntry,
    pub image: Image,
}

/// What became of one URL. Computed once per URL, from the URL alone (its
/// lock entry, its cached file, the server), so it never depends on the
/// order images are met in.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Bytes in the cache, matching the lock (or just fetched and locked).
    Ready(Cached),
    /// `--update-images` could not download it: the locked copy is kept.
    Kept(Cached, String),
    /// Not locked and fetching is off: today's captioned link, silently.
    Link,
    /// Locked, but its cached copy is missing or damaged and fetching is off.
    NotCached,
    /// The download or the image was refused: a warning, and a link.
    Failed(String),
    /// The server now sends other bytes than the lock records: an error.
    Changed { locked: String, now: String },
}

/// What the remote images of one load came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// URLs served from the lock and cache without a download.
    pub cached: usize,
    /// URLs downloaded by this load.
    pub fetched: usize,
    /// URLs that stayed links because fetching failed or was off.
    pub links: usize,
    /// Distinct images (by sha256) the cached and fetched URLs came to.
    pub images: usize,
    /// Whether fetching was enabled.
    pub fetching: bool,
    /// Whether this load rewrote `quire.lock`.
    pub lock_written: bool,
}

pub struct RemoteImages {
    root: PathBuf,
    fetching: bool,
    update: bool,
    agent: Option<ureq::Agent>,
    lock_path: PathBuf,
    /// The lock as read (empty if absent or unreadable).
    lock: BTreeMap<String, LockEntry>,
    outcomes: BTreeMap<String, Outcome>,
    /// URLs whose diagnostic has been given (at their first use).
    reported: BTreeSet<String>,
    fetched: BTreeSet<String>,
}

impl RemoteImages {
    /// Reads `quire.lock` in `root`; a lock that can't be read is an error
    /// (nothing is fetched over it, so it is never overwritten by accident).
    pub fn open(
        root: &Path,
        opts: &FetchOptions,
        book_fetches: bool,
        diags: &mut Diagnostics,
    ) -> Self {
        let fetching = opts.update
            || match opts.fetch {
                Fetch::Never => false,
                Fetch::AsBook => book_fetches,
                Fetch::Always => true,
            };
        let lock_path = root.join(LOCK_FILE);
        let mut lock = BTreeMap::new();
        let mut usable = true;
        if let Ok(text) = std::fs::read_to_string(&lock_path) {
            match parse_lock(&text) {
                Ok(entries) => {
                    lock = entries.into_iter().map(|e| (e.url.clone(), e)).collect();
                }
                Err((pos, msg)) => {
                    usable = false;
                    diags.error(
                        &lock_path,
                        pos,
                        format!("{LOCK_FILE} is not a valid lock file ({msg}): fix it or delete it and build with --fetch-images"),
                    );
                }
            }
        }
        let fetching = fetching && usable;
        Self {
            root: root.to_path_buf(),
            fetching,
            update: opts.update,
            agent: fetching.then(|| agent(opts.timeout)),
            lock_path,
            lock,
            outcomes: BTreeMap::new(),
            reported: BTreeSet::new(),
            fetched: BTreeSet::new(),
        }
    }

    /// Whether any URL can be more than a link (fetching is on, or the lock
    /// has entries): otherwise there is nothing to work out ahead.
    pub fn active(&self) -> bool {
        self.fetching || !self.lock.is_empty()
    }

    /// Works out every URL in `urls` at once (downloads run side by side).
    pub fn prefetch(&mut self, urls: &[String]) {
        let todo: Vec<&String> = urls
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|u| !self.outcomes.contains_key(*u))
            .collect();
        if let [url] = todo[..] {
            let (outcome, downloaded) = self.resolve_one(url);
            if downloaded {
                self.fetched.insert(url.clone());
            }
            self.outcomes.insert(url.clone(), outcome);
            return;
        }
        if todo.is_empty() {
            return;
        }
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<(String, Outcome, bool)>> = Mutex::new(Vec::new());
        let this = &*self;
        std::thread::scope(|s| {
            for _ in 0..todo.len().min(PARALLEL) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(url) = todo.get(i) else { break };
                        let (outcome, downloaded) = this.resolve_one(url);
                        if let Ok(mut d) = done.lock() {
                            d.push(((*url).clone(), outcome, downloaded));
                        }
                    }
                });
            }
        });
        for (url, outcome, downloaded) in done.into_inner().unwrap_or_default() {
            if downloaded {
                self.fetched.insert(url.clone());
            }
            self.outcomes.insert(url, outcome);
        }
    }

    /// The image for an `http(s)` URL used at `file:pos`, if it can be a
    /// local image; a diagnostic at the URL's first use otherwise.
    pub fn use_image(
        &mut self,
        url: &str,
        file: &Path,
        pos: Pos,
        diags: &mut Diagnostics,
    ) -> Option<Image> {
        if !self.active() {
            // No lock, no fetching: a link, as always.
            return None;
        }
        if !self.outcomes.contains_key(url) {
            // Met only while parsing (e.g. in raw HTML): worked out now.
            self.prefetch(&[url.to_string()]);
        }
        let outcome = self.outcomes.get(url)?;
        let first = self.reported.insert(url.to_string());
        match outcome {
            Outcome::Ready(c) => Some(c.image.clone()),
            Outcome::Kept(c, why) => {
                if first {
                    diags.warning(
                        file,
                        pos,
                        format!(
                            "image '{url}' could not be updated ({why}): the locked copy is used"
                        ),
                    );
                }
                Some(c.image.clone())
            }
            Outcome::Link => None,
            Outcome::NotCached => {
                if first {
                    diags.warning(
                        file,
                        pos,
                        format!(
                            "image '{url}' is in {LOCK_FILE} but not in the cache ({CACHE_DIR}): shown as a link; build with --fetch-images to download it again"
                        ),
                    );
                }
                None
            }
            Outcome::Failed(why) => {
                if first {
                    diags.warning(
                        file,
                        pos,
                        format!("image '{url}' not fetched ({why}): shown as a link"),
                    );
                }
                None
            }
            Outcome::Changed { locked, now } => {
                if first {
                    diags.error(
                        file,
                        pos,
                        format!(
                            "image '{url}' changed on the server since it was locked ({LOCK_FILE} has sha256 {locked}, the server now sends {now}): check the new image and build with --update-images to accept it"
                        ),
                    );
                }
                None
            }
        }
    }

    /// Records the outcome in `quire.lock` when fetching was on: every URL
    /// the book uses, sorted; entries no longer used are dropped. The file is
    /// written only when its text changes.
    pub fn finish(self, diags: &mut Diagnostics) -> Report {
        let mut report = Report {
            fetching: self.fetching,
            ..Report::default()
        };
        let mut entries: BTreeMap<&str, &LockEntry> = BTreeMap::new();
        let mut shas = BTreeSet::new();
        for (url, outcome) in &self.outcomes {
            let entry = match outcome {
                Outcome::Ready(c) | Outcome::Kept(c, _) => {
                    shas.insert(c.entry.sha256.as_str());
                    if self.fetched.contains(url) {
                        report.fetched += 1;
                    } else {
                        report.cached += 1;
                    }
                    Some(&c.entry)
                }
                // A pin stays pinned until --update-images succeeds.
                _ => {
                    report.links += 1;
                    self.lock.get(url)
                }
            };
            if let Some(e) = entry {
                entries.insert(url, e);
            }
        }
        report.images = shas.len();
        if !self.fetching {
            return report;
        }
        let keep: BTreeSet<String> = entries.values().map(|e| e.sha256.clone()).collect();
        let text = lock_text(entries.into_values());
        let old = std::fs::read_to_string(&self.lock_path).ok();
        if old.as_deref() == Some(text.as_str()) || (old.is_none() && self.outcomes.is_empty()) {
            return report;
        }
        match write_new(&self.lock_path, text.as_bytes()) {
            Ok(()) => {
                report.lock_written = true;
                prune_cache(&self.root.join(CACHE_DIR), &keep);
            }
            Err(e) => diags.warning(
                &self.lock_path,
                Pos { line: 1, col: 1 },
                format!("cannot write {LOCK_FILE} ({e}): the next build fetches again"),
            ),
        }
        report
    }

    /// The outcome for one URL, and whether it was downloaded.
    fn resolve_one(&self, url: &str) -> (Outcome, bool) {
        let locked = self.lock.get(url);
        let cached = locked.and_then(|e| self.cached(e));
        if !self.update {
            if let Some(c) = cached {
                return (Outcome::Ready(c), false);
            }
            if !self.fetching {
                let o = if locked.is_some() {
                    Outcome::NotCached
                } else {
                    Outcome::Link
                };
                return (o, false);
            }
        }
        let fail = |why: String| match &cached {
            Some(c) => (Outcome::Kept(c.clone(), why), false),
            None => (Outcome::Failed(why), false),
        };
        let Some(agent) = &self.agent else {
            return fail("fetching is off".into());
        };
        let bytes = match download(agent, url) {
            Ok(b) => b,
            Err(why) => return fail(why),
        };
        let sha = hex(&Sha256::digest(&bytes));
        if let Some(e) = locked
            && e.sha256 != sha
            && !self.update
        {
            return (
                Outcome::Changed {
                    locked: e.sha256.clone(),
                    now: sha,
                },
                true,
            );
        }
        let (format, measured) = match validate(&bytes) {
            Ok(v) => v,
            Err(why) => return fail(why),
        };
        let entry = LockEntry {
            url: url.to_string(),
            sha256: sha,
            size: bytes.len() as u64,
            media_type: format.media_type().to_string(),
        };
        let path = self.cache_path(&entry, format);
        if std::fs::read(&path).ok().as_deref() != Some(&bytes[..])
            && let Err(e) = write_new(&path, &bytes)
        {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
        let image = image(path, &entry, format, measured);
        (Outcome::Ready(Cached { entry, image }), true)
    }

    /// The cached copy of a lock entry, if it is there byte for byte and is
    /// still an image Quire accepts.
    fn cached(&self, e: &LockEntry) -> Option<Cached> {
        let format = format_of_media_type(&e.media_type)?;
        let path = self.cache_path(e, format);
        let bytes = std::fs::read(&path).ok()?;
        if bytes.len() as u64 != e.size || hex(&Sha256::digest(&bytes)) != e.sha256 {
            return None;
        }
        let (sniffed, measured) = validate(&bytes).ok()?;
        (sniffed == format).then(|| Cached {
            entry: e.clone(),
            image: image(path, e, format, measured),
        })
    }

    fn cache_path(&self, e: &LockEntry, format: ImageFormat) -> PathBuf {
        self.root
            .join(CACHE_DIR)
            .join(format!("{}.{}", e.sha256, format.ext()))
    }
}

fn image(path: PathBuf, e: &LockEntry, format: ImageFormat, m: images::Measured) -> Image {
    Image {
        path,
        rel: format!("remote/{}.{}", e.sha256, format.ext()),
        format,
        width: m.width,
        height: m.height,
        text_px: m.text_px,
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .max_redirects(MAX_REDIRECTS)
        // A 404 is an outcome to report, not a transport error.
        .http_status_as_error(false)
        .user_agent(concat!("quire/", env!("CARGO_PKG_VERSION")))
        .accept("image/png, image/jpeg, image/gif, image/webp, image/svg+xml;q=0.9, */*;q=0.1")
        .build()
        .into()
}

/// The body of a 2xx response, at most `MAX_BYTES`.
fn download(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, String> {
    let mut resp = agent.get(url).call().map_err(|e| match e {
        ureq::Error::TooManyRedirects => format!("more than {MAX_REDIRECTS} redirects"),
        ureq::Error::Timeout(_) => format!("no answer within {}", secs(agent)),
        e => e.to_string(),
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("the server answered HTTP {}", status.as_u16()));
    }
    if resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BYTES)
    {
        return Err(too_big());
    }
    // Read one byte past the limit to tell "exactly at" from "beyond".
    let mut bytes = Vec::new();
    resp.body_mut()
        .as_reader()
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            let timed_out = e.kind() == std::io::ErrorKind::TimedOut
                || e.to_string().to_ascii_lowercase().contains("timeout");
            if timed_out {
                format!("no answer within {}", secs(agent))
            } else {
                format!("download broke off: {e}")
            }
        })?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}

fn too_big() -> String {
    format!("larger than the {} MB limit", MAX_BYTES / (1024 * 1024))
}

fn secs(agent: &ureq::Agent) -> String {
    match agent.config().timeouts().global {
        Some(d) => format!("{:.1} s", d.as_secs_f64()),
        None => "the time limit".into(),
    }
}

/// Sniffs and decodes downloaded bytes: PNG, JPEG, GIF, WebP or a safe SVG.
fn validate(bytes: &[u8]) -> Result<(ImageFormat, images::Measured), String> {
    let format = images::sniff(bytes).ok_or_else(|| {
        let html = bytes
            .iter()
            .take(512)
            .map(|b| b.to_ascii_lowercase())
            .collect::<Vec<u8>>();
        let html =
            html.windows(5).any(|w| w == b"<html") || html.windows(9).any(|w| w == b"<!doctype");
        if html {
            "the server sent an HTML page, not an image".to_string()
        } else {
            "not a PNG, JPEG, GIF, WebP or SVG image".to_string()
        }
    })?;
    Ok((format, images::measure(bytes, format)?))
}

fn format_of_media_type(t: &str) -> Option<ImageFormat> {
    [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Gif,
        ImageFormat::Webp,
        ImageFormat::Svg,
    ]
    .into_iter()
    .find(|f| f.media_type() == t)
}

/// Parses a lock file; an error comes with where it is.
fn parse_lock(text: &str) -> Result<Vec<LockEntry>, (Pos, String)> {
    let at_start = Pos { line: 1, col: 1 };
    let lock: LockFile = toml::from_str(text).map_err(|e| {
        let pos = e
            .span()
            .map(|s| crate::source::text::LineMap::new(text).pos(s.start, text))
            .unwrap_or(at_start);
        (pos, e.message().to_string())
    })?;
    if lock.version != LOCK_VERSION {
        return Err((
            at_start,
            format!(
                "version {} (this Quire reads version {LOCK_VERSION})",
                lock.version
            ),
        ));
    }
    for e in &lock.images {
        let hex64 = e.sha256.len() == 64 && e.sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex64 {
            return Err((at_start, format!("'{}' has no valid sha256", e.url)));
        }
        if format_of_media_type(&e.media_type).is_none() {
            return Err((
                at_start,
                format!("'{}' has an unknown type '{}'", e.url, e.media_type),
            ));
        }
    }
    // Hex digits compare in one case (a hand-edited lock may use capitals).
    let mut images = lock.images;
    for e in &mut images {
        e.sha256.make_ascii_lowercase();
    }
    Ok(images)
}

/// The lock's text: a header, then one `[[image]]` per URL in URL order.
fn lock_text<'a>(entries: impl Iterator<Item = &'a LockEntry>) -> String {
    let lock = LockFile {
        version: LOCK_VERSION,
        images: entries.cloned().collect(),
    };
    let body = toml::to_string(&lock).unwrap_or_default();
    format!(
        "# Remote images of this book, written by `quire build --fetch-images`.\n\
         # Commit this file: builds use exactly these bytes (cached in {CACHE_DIR}/).\n\
         # `quire build --update-images` downloads them again and accepts changes.\n\n{body}"
    )
}

/// Removes cached images no lock entry names any more (replaced by
/// `--update-images`, or no longer used). Only `<sha256>.<ext>` files are
/// touched; a file that can't be removed is left for next time.
fn prune_cache(dir: &Path, keep: &BTreeSet<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((stem, _)) = name.split_once('.') else {
            continue;
        };
        let ours = stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit());
        if ours && !keep.contains(stem) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Writes a file through a temporary name in the same folder, so a reader
/// (or a second writer of the same bytes) never sees half of it.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Bytes as lowercase hex (a sha256 in quire.lock).
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(url: &str, c: char) -> LockEntry {
        LockEntry {
            url: url.into(),
            sha256: c.to_string().repeat(64),
            size: 3,
            media_type: "image/png".into(),
        }
    }

    #[test]
    fn lock_text_is_sorted_and_reads_back() {
        let a = entry("https://a.example/x.png", 'a');
        let b = entry("https://b.example/y.png", 'b');
        let mut map = BTreeMap::new();
        map.insert(b.url.as_str(), &b);
        map.insert(a.url.as_str(), &a);
        let text = lock_text(map.into_values());
        assert!(text.find("a.example").unwrap() < text.find("b.example").unwrap());
        assert_eq!(parse_lock(&text).unwrap(), vec![a, b]);
    }

    #[test]
    fn bad_locks_are_refused_with_a_reason() {
        let (_, msg) = parse_lock("version = 2\n").unwrap_err();
        assert!(msg.contains("version 2"), "{msg}");
        let bad = "version = 1\n[[image]]\nurl = \"u\"\nsha256 = \"zz\"\nsize = 1\ntype = \"image/png\"\n";
        assert!(parse_lock(bad).unwrap_err().1.contains("sha256"));
        let (pos, _) = parse_lock("version = 1\n[[image]]\nurl = 3\n").unwrap_err();
        assert_eq!(pos.line, 3);
    }

    #[test]
    fn formats_come_from_the_bytes() {
        assert_eq!(
            images::sniff(b"\x89PNG\r\n\x1a\nrest"),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            images::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(images::sniff(b"GIF89a...."), Some(ImageFormat::Gif));
        assert_eq!(
            images::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageFormat::Webp)
        );
        assert_eq!(images::sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        // A truncated PNG is sniffed as PNG but refused when decoded.
        assert!(validate(b"\x89PNG\r\n\x1a\n\0\0").is_err());
    }

    #[test]
    fn html_is_not_an_image() {
        let err = validate(b"<!DOCTYPE html><html><body>hi</body></html>").unwrap_err();
        assert!(err.contains("HTML page"), "{err}");
        assert!(validate(b"plain text").is_err());
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"/>"#;
        let (format, m) = validate(svg).unwrap();
        assert_eq!((format, m.width, m.height), (ImageFormat::Svg, 20, 10));
        let evil = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>"#;
        assert!(validate(evil).unwrap_err().contains("script"));
    }
}
