//! Local images: resolved inside the content folder, validated and measured once.
//! Fetched remote images join the same list (see `remote`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::{Image, ImageFormat};

/// Decoding budget per image: enough for a 50-megapixel photo, not for a decompression bomb.
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Debug)]
pub struct Images {
    root: PathBuf,
    root_canon: Option<PathBuf>,
    pub list: Vec<Image>,
    by_path: BTreeMap<PathBuf, usize>,
}

impl Images {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            root_canon: root.canonicalize().ok(),
            list: Vec::new(),
            by_path: BTreeMap::new(),
        }
    }

    /// Adds the image at `rel` (relative to the content root); returns its index.
    pub fn add(&mut self, rel: &str) -> Result<usize, String> {
        let path = self.root.join(rel);
        let canon = match path.canonicalize() {
            Ok(c) => c,
            Err(_) => return Err("file not found".into()),
        };
        if let Some(root) = &self.root_canon
            && !canon.starts_with(root)
        {
            return Err(
                "resolves outside the content folder (through a symlink?): copy the image into it"
                    .into(),
            );
        }
        if let Some(&i) = self.by_path.get(&canon) {
            return Ok(i);
        }
        let ext = canon
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let format = match ext.as_str() {
            "png" => ImageFormat::Png,
            "jpg" | "jpeg" => ImageFormat::Jpeg,
            "gif" => ImageFormat::Gif,
            "webp" => ImageFormat::Webp,
            "svg" => ImageFormat::Svg,
            _ => return Err("unsupported format: use PNG, JPEG, GIF, WebP or SVG".into()),
        };
        let bytes = std::fs::read(&canon).map_err(|e| format!("cannot read: {e}"))?;
        let (width, height) = measure(&bytes, format)?;
        let i = self.list.len();
        self.list.push(Image {
            path: canon.clone(),
            rel: rel.to_string(),
            format,
            width,
            height,
        });
        self.by_path.insert(canon, i);
        Ok(i)
    }

    /// Adds a fetched remote image (already validated); returns its index.
    /// Two URLs with the same bytes share one cached file and one image.
    pub fn add_fetched(&mut self, image: Image) -> usize {
        if let Some(&i) = self.by_path.get(&image.path) {
            return i;
        }
        let i = self.list.len();
        self.by_path.insert(image.path.clone(), i);
        self.list.push(image);
        i
    }
}

/// The format of image bytes from their signature (never from a file name or
/// a Content-Type header); SVG when they parse as XML with an `<svg>` root.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        let text = std::str::from_utf8(bytes).ok()?;
        let doc = parse_svg(text.trim_start_matches('\u{feff}')).ok()?;
        (doc.root_element().tag_name().name() == "svg").then_some(ImageFormat::Svg)
    }
}

/// Validates image bytes of a known format (decoding rasters whole, refusing
/// active SVG content) and returns the intrinsic size in pixels.
pub fn measure(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32), String> {
    match format {
        ImageFormat::Svg => {
            let text = std::str::from_utf8(bytes).map_err(|_| "SVG is not UTF-8 text")?;
            svg_size(text.trim_start_matches('\u{feff}'))
        }
        _ => raster_size(bytes, format),
    }
}

/// Decodes the whole image (so a corrupt file is caught by `check`, not by a renderer).
fn raster_size(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32), String> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes));
    reader.set_format(decoder_format(format));
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| format!("not a valid {} image ({e}): re-export it", fmt_name(format)))?;
    Ok((img.width(), img.height()))
}

/// The `image` crate's decoder for a raster format.
pub fn decoder_format(format: ImageFormat) -> image::ImageFormat {
    match format {
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::Webp => image::ImageFormat::WebP,
        _ => image::ImageFormat::Jpeg,
    }
}

pub fn fmt_name(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Gif => "GIF",
        ImageFormat::Webp => "WebP",
        ImageFormat::Svg => "SVG",
    }
}

/// Parses SVG XML. A `<!DOCTYPE svg PUBLIC …>` line is common (Graphviz,
/// Inkscape) and harmless; entity declarations are refused (entity expansion
/// is the one thing a DTD could do to us).
fn parse_svg(text: &str) -> Result<roxmltree::Document<'_>, String> {
    if text.contains("<!ENTITY") {
        return Err("SVG declares XML entities: remove the DTD's entity declarations".into());
    }
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| format!("not a valid SVG ({e})"))
}

/// Reads an SVG's size from width/height, else its viewBox; refuses active content.
fn svg_size(text: &str) -> Result<(u32, u32), String> {
    let doc = parse_svg(text)?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" {
        return Err("not an SVG (root element is not <svg>)".into());
    }
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        if name == "script" || name == "foreignObject" {
            return Err(format!(
                "SVG contains <{name}>: remove it (books carry no active content)"
            ));
        }
        if let Some(a) = node.attributes().find(|a| a.name().starts_with("on")) {
            return Err(format!(
                "SVG has an event handler '{}': remove it",
                a.name()
            ));
        }
    }
    let dim = |name: &str| -> Option<f64> {
        let v = root.attribute(name)?.trim();
        let v = v.strip_suffix("px").unwrap_or(v);
        v.parse::<f64>().ok().filter(|x| *x > 0.0)
    };
    let vb: Option<(f64, f64)> = root.attribute("viewBox").and_then(|vb| {
        let n: Vec<f64> = vb
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        (n.len() == 4 && n[2] > 0.0 && n[3] > 0.0).then(|| (n[2], n[3]))
    });
    let (w, h) = match (dim("width"), dim("height"), vb) {
        (Some(w), Some(h), _) => (w, h),
        (Some(w), None, Some((vw, vh))) => (w, w * vh / vw),
        (None, Some(h), Some((vw, vh))) => (h * vw / vh, h),
        (_, _, Some(v)) => v,
        // The CSS default size of a replaced element.
        _ => (300.0, 150.0),
    };
    Ok((w.round().max(1.0) as u32, h.round().max(1.0) as u32))
}

#[cfg(test)]
mod svg_tests {
    use super::*;

    #[test]
    fn doctype_accepted_entities_refused() {
        let dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"20\"/>";
        assert_eq!(svg_size(dtd), Ok((40, 20)));
        assert_eq!(sniff(dtd.as_bytes()), Some(ImageFormat::Svg));
        let bomb = "<!DOCTYPE svg [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]><svg xmlns=\"http://www.w3.org/2000/svg\">&b;</svg>";
        assert!(svg_size(bomb).unwrap_err().contains("entities"));
    }
}
