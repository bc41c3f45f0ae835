//! An entry's slug, its name in `/entry/<slug>`, made from its title as Tornado's demo makes it:
//!
//! ```python
//! slug = unicodedata.normalize("NFKD", title)
//! slug = re.sub(r"[^\w]+", " ", slug)
//! slug = "-".join(slug.lower().strip().split())
//! slug = slug.encode("ascii", "ignore").decode("ascii")
//! if not slug:
//!     slug = "entry"
//! ```
//!
//! Python's `\w` on text is a letter, a number or `_` (`str.isalnum()` or `_`), not a combining
//! mark: after NFKD an accented letter is split and the accent becomes a space ("Résumé" →
//! "re-sume"), as in Tornado. The slug is made unique by the caller (`-2` appended until free).

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// Runs of characters Python's `\w` does not match.
static NOT_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[^\p{L}\p{N}_]+").expect("a valid pattern"));

/// The slug of `title` (never empty; see the module doc).
pub fn slugify(title: &str) -> String {
    let decomposed: String = title.nfkd().collect();
    let spaced = NOT_WORD.replace_all(&decomposed, " ").to_lowercase();
    let joined = spaced.split_whitespace().collect::<Vec<_>>().join("-");
    let ascii: String = joined.chars().filter(char::is_ascii).collect();
    if ascii.is_empty() {
        "entry".to_owned()
    } else {
        ascii
    }
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_as_tornado_makes_them() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  Rust   & Tornado_2 "), "rust-tornado_2");
        assert_eq!(slugify("Résumé"), "re-sume");
        assert_eq!(slugify("ﬁve ①"), "five-1");
        assert_eq!(slugify("日本語"), "entry");
        assert_eq!(slugify("日本 test"), "-test");
        assert_eq!(slugify("?!"), "entry");
    }
}
