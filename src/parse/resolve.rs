//! Resolving hrefs and image sources against the book while parsing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::images::Images;
use super::remote::RemoteImages;
use crate::diag::Diagnostics;
use crate::model::{ImageSource, LinkTarget, ModuleRef, Pos};
use crate::source::MissingFiles;

/// What a relative path inside the content folder can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileTarget {
    Module(ModuleRef),
    Part(usize),
}

/// What a link's `#fragment` points into: a module, or a part's page (its overview).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Module(ModuleRef),
    Part(usize),
}

/// A `#anchor` that can only be checked once every module's headings are known.
#[derive(Debug, Clone)]
pub struct PendingAnchor {
    pub target: Target,
    pub anchor: String,
    pub file: PathBuf,
    pub pos: Pos,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct LinkStats {
    pub internal: usize,
    pub external: usize,
    pub remote_images: usize,
}

pub struct Resolver<'a> {
    /// Content-root-relative path (with `/`) → target.
    pub files: &'a BTreeMap<String, FileTarget>,
    pub images: &'a mut Images,
    /// Remote images: the lock, the cache and (when enabled) the fetcher.
    pub remote: &'a mut RemoteImages,
    pub pending: &'a mut Vec<PendingAnchor>,
    pub stats: &'a mut LinkStats,
    /// The file being parsed, as given (for diagnostics).
    pub file: PathBuf,
    /// Its folder relative to the content root, as components.
    pub dir: Vec<String>,
    /// The page being parsed: a module, or a part's overview.
    pub current: Target,
    /// `[links] base-url`: where a link to a file outside the book points.
    pub base_url: Option<&'a str>,
    /// `[links] missing-files`: whether a link to a Markdown file that does
    /// not exist is an error or a warning (its text without a link).
    pub missing_files: MissingFiles,
    /// The content folder: a linked file that exists there but is no module
    /// (`LICENSE.md`) is outside the book, one that doesn't is a broken link.
    pub root: &'a Path,
}

/// URI schemes registered with IANA that a reading system may open (epubcheck
/// warns on any other).
const REGISTERED_SCHEMES: &[&str] = &[
    "http", "https", "mailto", "ftp", "tel", "sms", "news", "nntp", "irc", "ircs", "urn", "ws",
    "wss", "xmpp", "sip", "sips", "geo", "ldap", "telnet", "gopher",
];

/// `https:`, `mailto:` and friends: anything with a URI scheme.
fn scheme(href: &str) -> Option<&str> {
    let (s, _) = href.split_once(':')?;
    let mut chars = s.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && s.len() > 1)
        .then_some(s)
}

/// Decodes `%20`-style escapes; invalid escapes are kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `example.com`, `www.example.org:8080`: a host a protocol-relative link may name.
fn is_host(h: &str) -> bool {
    let h = h.rsplit_once(':').map_or(h, |(host, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            host
        } else {
            h
        }
    });
    let labels: Vec<&str> = h.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

fn is_markdown(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

/// `base` (an absolute URL of the content folder) joined with a path relative to
/// that folder, `..` climbing above it as on the web; `None` if `base` is no URL.
pub fn join_url(base: &str, rel: &str) -> Option<String> {
    let scheme_end = base.find("://")? + 3;
    let (origin, path) = match base[scheme_end..].find('/') {
        Some(i) => base.split_at(scheme_end + i),
        None => (base, ""),
    };
    let mut segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            c => segs.push(c),
        }
    }
    let mut url = origin.to_string();
    for s in &segs {
        url.push('/');
        url.push_str(s);
    }
    if rel.ends_with('/') {
        url.push('/');
    }
    Some(url)
}

/// Joins `rel` onto `dir` lexically; `None` if it climbs above the content root.
pub fn normalize(dir: &[String], rel: &str) -> Option<Vec<String>> {
    let mut parts: Vec<String> = dir.to_vec();
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c.to_string()),
        }
    }
    Some(parts)
}

impl Resolver<'_> {
    pub fn link(&mut self, href: &str, pos: Pos, diags: &mut Diagnostics) -> Option<LinkTarget> {
        let href = href.trim();
        if href.is_empty() {
            diags.warning(
                &self.file,
                pos,
                "link has an empty target: its text is shown without a link",
            );
            return None;
        }
        if let Some(s) = scheme(href) {
            let s = s.to_ascii_lowercase();
            if matches!(s.as_str(), "javascript" | "vbscript" | "data" | "file") {
                diags.warning(
                    &self.file,
                    pos,
                    format!("'{s}:' link removed (not allowed in a book); the text is kept"),
                );
                return None;
            }
            if matches!(s.as_str(), "http" | "https")
                && !href
                    .split_once("://")
                    .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
                    .map(|authority| authority.rsplit('@').next().unwrap_or(""))
                    .is_some_and(|h| is_host(h) || h == "localhost" || h.starts_with("localhost:"))
            {
                diags.warning(
                    &self.file,
                    pos,
                    format!(
                        "link '{href}' has no valid host name: its text is shown without a link"
                    ),
                );
                return None;
            }
            if !REGISTERED_SCHEMES.contains(&s.as_str()) {
                // `[x](ip:port)`, `[x](C:\\dir)`: not an address any reader can open.
                diags.warning(
                    &self.file,
                    pos,
                    format!(
                        "link '{href}' has no web scheme a reader can open ('{s}:'): its text is shown without a link"
                    ),
                );
                return None;
            }
            self.stats.external += 1;
            return Some(LinkTarget::External(href.to_string()));
        }
        if let Some(rest) = href.strip_prefix("//")
            && is_host(rest.split(['/', '?', '#']).next().unwrap_or(""))
        {
            // Protocol-relative: the web page's scheme; a book has none, so https.
            self.stats.external += 1;
            return Some(LinkTarget::External(format!("https:{href}")));
        }
        let (path, anchor) = match href.split_once('#') {
            Some((p, a)) => (p, Some(percent_decode(a))),
            None => (href, None),
        };
        let path = path.split('?').next().unwrap_or("");
        if path.is_empty() {
            // In-page link.
            let anchor = anchor.filter(|a| !a.is_empty());
            if let Some(a) = &anchor {
                self.defer(self.current, a, pos);
            }
            self.stats.internal += 1;
            return Some(match self.current {
                Target::Module(module) => LinkTarget::Module { module, anchor },
                Target::Part(part) => LinkTarget::Part { part, anchor },
            });
        }
        let decoded = percent_decode(path);
        let inside = if decoded.starts_with('/') {
            None
        } else {
            normalize(&self.dir, &decoded)
        };
        if let Some(parts) = &inside {
            let key = parts.join("/");
            // A folder stands for its README.md or index.md, as on GitHub and in mdBook.
            let candidates = [
                key.clone(),
                format!("{key}/README.md"),
                format!("{key}/index.md"),
                key.strip_suffix(".html")
                    .map(|k| format!("{k}.md"))
                    .unwrap_or_default(),
                // mdBook's index preprocessor publishes a README.md chapter as
                // index.html, and books link to it so (`../cli/index.html`).
                ["index.html", "index.md"]
                    .iter()
                    .find_map(|i| key.strip_suffix(i))
                    .filter(|dir| dir.is_empty() || dir.ends_with('/'))
                    .map(|dir| format!("{dir}README.md"))
                    .unwrap_or_default(),
            ];
            let found = candidates
                .iter()
                .filter(|k| !k.is_empty())
                .find_map(|k| self.files.get(k.trim_start_matches('/')));
            match found {
                Some(FileTarget::Module(m)) => {
                    let anchor = anchor.filter(|a| !a.is_empty());
                    if let Some(a) = &anchor {
                        self.defer(Target::Module(*m), a, pos);
                    }
                    self.stats.internal += 1;
                    return Some(LinkTarget::Module { module: *m, anchor });
                }
                Some(FileTarget::Part(p)) => {
                    let anchor = anchor.filter(|a| !a.is_empty());
                    if let Some(a) = &anchor {
                        self.defer(Target::Part(*p), a, pos);
                    }
                    self.stats.internal += 1;
                    return Some(LinkTarget::Part { part: *p, anchor });
                }
                None if is_markdown(&key) && !self.root.join(&key).is_file() => {
                    let message = format!(
                        "link to '{href}', which is not a module of this book: check the path (relative to this file)"
                    );
                    match self.missing_files {
                        MissingFiles::Error => diags.error(&self.file, pos, message),
                        // No file to point at online either: the text alone.
                        MissingFiles::Warn => diags.warning(
                            &self.file,
                            pos,
                            format!("{message}; its text is shown without a link"),
                        ),
                    }
                    return None;
                }
                None => {}
            }
        }
        // A file that is not part of the book (source code, a licence, a page
        // above the content folder): online when the book says where it lives.
        if let Some(base) = self.base_url {
            let rel = if decoded.starts_with('/') {
                decoded.trim_start_matches('/').to_string()
            } else {
                let mut r = self.dir.join("/");
                if !r.is_empty() {
                    r.push('/');
                }
                r.push_str(path);
                r
            };
            if let Some(url) = join_url(base, &rel) {
                self.stats.external += 1;
                let url = match href.split_once('#') {
                    Some((_, a)) => format!("{url}#{a}"),
                    None => url,
                };
                return Some(LinkTarget::External(url));
            }
        }
        diags.warning(
            &self.file,
            pos,
            format!(
                "link to '{href}' leaves the book (not a module of it): its text is shown without a link; set `[links] base-url` in book.toml to link it online"
            ),
        );
        None
    }

    fn defer(&mut self, target: Target, anchor: &str, pos: Pos) {
        self.pending.push(PendingAnchor {
            target,
            anchor: anchor.to_string(),
            file: self.file.clone(),
            pos,
        });
    }

    pub fn image(&mut self, src: &str, pos: Pos, diags: &mut Diagnostics) -> Option<ImageSource> {
        let src = src.trim();
        if let Some(s) = scheme(src) {
            if matches!(s.to_ascii_lowercase().as_str(), "http" | "https") {
                if let Some(img) = self.remote.use_image(src, &self.file, pos, diags) {
                    return Some(ImageSource::Local(self.images.add_fetched(img)));
                }
                self.stats.remote_images += 1;
                return Some(ImageSource::Remote(src.to_string()));
            }
            diags.error(
                &self.file,
                pos,
                format!("image '{src}': only local files and http(s) URLs are supported"),
            );
            return None;
        }
        if src.starts_with('/') || Path::new(src).is_absolute() {
            diags.error(
                &self.file,
                pos,
                format!("image path '{src}' is absolute: use a path relative to this file inside the content folder"),
            );
            return None;
        }
        let decoded = percent_decode(src.split(['?', '#']).next().unwrap_or(""));
        let Some(parts) = normalize(&self.dir, &decoded) else {
            diags.error(
                &self.file,
                pos,
                format!("image path '{src}' escapes the content folder: keep images inside it (e.g. content/images/)"),
            );
            return None;
        };
        match self.images.add(&parts.join("/")) {
            Ok(i) => Some(ImageSource::Local(i)),
            Err(msg) => {
                diags.error(&self.file, pos, format!("image '{src}': {msg}"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(scheme("https://x"), Some("https"));
        assert_eq!(scheme("mailto:a@b"), Some("mailto"));
        assert_eq!(scheme("../a.md"), None);
        assert_eq!(scheme("c:/x"), None);
        assert_eq!(scheme("a.md#x:y"), None);
    }

    #[test]
    fn normalizing() {
        let dir = vec!["08-case-studies".to_string()];
        assert_eq!(
            normalize(&dir, "../02-x/03-y.md").unwrap().join("/"),
            "02-x/03-y.md"
        );
        assert_eq!(
            normalize(&dir, "./a.md").unwrap().join("/"),
            "08-case-studies/a.md"
        );
        assert!(normalize(&dir, "../../etc/passwd").is_none());
        assert_eq!(percent_decode("a%20b%zz"), "a b%zz");
    }

    #[test]
    fn joining_urls() {
        let base = "https://github.com/o/r/blob/main/src/";
        assert_eq!(
            join_url(base, "ch01/../../LICENSE").unwrap(),
            "https://github.com/o/r/blob/main/LICENSE"
        );
        assert_eq!(
            join_url(base, "listings/a.rs").unwrap(),
            "https://github.com/o/r/blob/main/src/listings/a.rs"
        );
        assert_eq!(join_url("https://x.org", "a/").unwrap(), "https://x.org/a/");
        assert!(join_url("not a url", "a").is_none());
    }
}
