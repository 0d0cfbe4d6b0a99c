//! Local images: resolved inside the content folder, validated and measured once.

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
            "svg" => ImageFormat::Svg,
            _ => return Err("unsupported format: use PNG, JPEG or SVG".into()),
        };
        let (width, height) = match format {
            ImageFormat::Svg => svg_size(&canon)?,
            _ => raster_size(&canon, format)?,
        };
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
}

/// Decodes the whole image (so a corrupt file is caught by `check`, not by a renderer).
fn raster_size(path: &Path, format: ImageFormat) -> Result<(u32, u32), String> {
    let fmt = match format {
        ImageFormat::Png => image::ImageFormat::Png,
        _ => image::ImageFormat::Jpeg,
    };
    let mut reader = image::ImageReader::open(path).map_err(|e| format!("cannot read: {e}"))?;
    reader.set_format(fmt);
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

fn fmt_name(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Svg => "SVG",
    }
}

/// Reads an SVG's size from width/height, else its viewBox; refuses active content.
fn svg_size(path: &Path) -> Result<(u32, u32), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read SVG: {e}"))?;
    let doc = roxmltree::Document::parse(&text).map_err(|e| format!("not a valid SVG ({e})"))?;
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
