//! The index's term dictionary: every spelling of every tag and one finder
//! over all of them, built once per book by the index stage and read by every
//! renderer, so the EPUB's and the PDF's indexes find the same mentions.

use aho_corasick::AhoCorasick;

/// Spellings by term, and the finder over them.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    /// (term key, its spellings), keys in index order.
    terms: Vec<(String, Vec<String>)>,
    /// Pattern i of `finder` is a spelling of `terms[term_of[i]]`.
    term_of: Vec<usize>,
    /// `None` for a book without tags (or an absurdly large pattern set).
    finder: Option<AhoCorasick>,
}

impl Terms {
    /// `terms`: each term's key (the lowercased tag) with the spellings to
    /// find (case-sensitive).
    pub fn new(terms: Vec<(String, Vec<String>)>) -> Self {
        let mut patterns: Vec<&str> = Vec::new();
        let mut term_of = Vec::new();
        for (i, (_, forms)) in terms.iter().enumerate() {
            for f in forms.iter().filter(|f| !f.is_empty()) {
                patterns.push(f);
                term_of.push(i);
            }
        }
        let finder = (!patterns.is_empty())
            .then(|| AhoCorasick::new(&patterns).ok())
            .flatten();
        Self {
            terms,
            term_of,
            finder,
        }
    }

    /// Every whole-word mention in `text` (not touching a letter or digit on
    /// either side): (start, end, term key), in text order.
    pub fn find<'s>(&'s self, text: &str) -> Vec<(usize, usize, &'s str)> {
        let Some(finder) = &self.finder else {
            return Vec::new();
        };
        let mut hits: Vec<(usize, usize, &str)> = finder
            .find_overlapping_iter(text)
            .filter(|m| {
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            })
            .map(|m| {
                let key = self.terms[self.term_of[m.pattern().as_usize()]].0.as_str();
                (m.start(), m.end(), key)
            })
            .collect();
        hits.sort();
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_whole_words_only() {
        let t = Terms::new(vec![
            ("redis".into(), vec!["Redis".into(), "redis".into()]),
            ("go".into(), vec!["Go".into()]),
        ]);
        let hits = t.find("Redis, then redis; Rediscover Go and Gopher.");
        let keys: Vec<&str> = hits.iter().map(|h| h.2).collect();
        assert_eq!(keys, ["redis", "redis", "go"]);
        assert_eq!(&"Redis, then redis"[hits[1].0..hits[1].1], "redis");
        assert!(Terms::default().find("Redis").is_empty());
    }
}
