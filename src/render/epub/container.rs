//! The OCF zip container: `mimetype` first and stored, then every entry in
//! name order with a fixed date, so the same book gives the same bytes.

use std::collections::BTreeMap;
use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::error::{Error, Result};
use crate::render::time;

pub fn zip(entries: &BTreeMap<String, Vec<u8>>, epoch: i64) -> Result<Vec<u8>> {
    let (y, mo, d, h, mi, s) = time::parts(epoch);
    // ZIP dates start in 1980; earlier build dates are clamped.
    let date = if y < 1980 {
        DateTime::default()
    } else {
        DateTime::from_date_and_time(y as u16, mo as u8, d as u8, h as u8, mi as u8, s as u8)
            .unwrap_or_default()
    };
    let base = SimpleFileOptions::default()
        .last_modified_time(date)
        .unix_permissions(0o644);
    let stored = base.compression_method(CompressionMethod::Stored);
    let deflated = base
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9));
    let err = |e: zip::result::ZipError| Error::Internal(format!("zip: {e}"));
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("mimetype", stored).map_err(err)?;
    w.write_all(b"application/epub+zip")
        .map_err(|e| Error::Internal(format!("zip: {e}")))?;
    for (name, bytes) in entries {
        // Already-compressed images gain nothing from deflate.
        let opts = if name.ends_with(".png") || name.ends_with(".jpg") {
            stored
        } else {
            deflated
        };
        w.start_file(name.as_str(), opts).map_err(err)?;
        w.write_all(bytes)
            .map_err(|e| Error::Internal(format!("zip: {e}")))?;
    }
    Ok(w.finish().map_err(err)?.into_inner())
}
