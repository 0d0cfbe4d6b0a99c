//! Turning a file's bytes into text we can parse, and byte offsets into line:col.

use crate::model::Pos;

/// Decodes UTF-8 (a BOM is dropped) and normalises CRLF to LF, which keeps line numbers.
/// On invalid UTF-8 returns the position of the first bad byte and the byte itself.
pub fn decode(bytes: &[u8]) -> Result<String, (Pos, u8)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(if s.contains('\r') {
            s.replace("\r\n", "\n")
        } else {
            s.to_owned()
        }),
        Err(e) => {
            let good = e.valid_up_to();
            // Safe: everything before `good` is valid UTF-8 by definition.
            let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
            let map = LineMap::new(prefix);
            Err((map.pos(good, prefix), bytes[good]))
        }
    }
}

/// Byte offset → 1-based line and column (columns count characters).
#[derive(Debug, Clone)]
pub struct LineMap {
    starts: Vec<usize>,
}

impl LineMap {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    pub fn pos(&self, offset: usize, text: &str) -> Pos {
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.starts[line];
        let end = offset.min(text.len()).max(start);
        let col = text
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(end - start);
        Pos {
            line: line as u32 + 1,
            col: col as u32 + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let t = "ab\ncdé\nx";
        let m = LineMap::new(t);
        assert_eq!(m.pos(0, t), Pos { line: 1, col: 1 });
        assert_eq!(m.pos(3, t), Pos { line: 2, col: 1 });
        assert_eq!(m.pos(t.find('x').unwrap(), t), Pos { line: 3, col: 1 });
        assert_eq!(m.pos(7, t), Pos { line: 2, col: 4 });
    }

    #[test]
    fn bom_and_crlf() {
        assert_eq!(decode(b"\xEF\xBB\xBFa\r\nb").unwrap(), "a\nb");
    }

    #[test]
    fn invalid_utf8_position() {
        let (pos, byte) = decode(b"ok\nab\xFFc").unwrap_err();
        assert_eq!(pos, Pos { line: 2, col: 3 });
        assert_eq!(byte, 0xFF);
    }
}
