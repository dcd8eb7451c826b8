//! Text analysis for full-text search: words are lower-cased, stop words
//! dropped, and each word stemmed with the Snowball stemmer of its script
//! (Russian for Cyrillic words, English otherwise), so «запросы» finds
//! «запрос» and "requests" finds "request".

use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));
static RUSSIAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Russian));

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on",
    "or", "the", "to", "with", "и", "в", "во", "на", "с", "со", "о", "об", "по", "к", "ко", "из",
    "за", "для", "не", "что", "как", "а", "но", "или", "от", "до", "у",
];

fn is_cyrillic(word: &str) -> bool {
    word.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
}

/// The stems of the words of `text`, in order.
pub fn stems(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('ё', "е"))
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| {
            let stemmer = if is_cyrillic(&w) {
                &*RUSSIAN
            } else {
                &*ENGLISH
            };
            stemmer.stem(&w).into_owned()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// `text` as a space-separated string of stems: what the index stores.
pub fn analyze(text: &str) -> String {
    stems(text).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_and_english_words_meet_their_stems() {
        assert_eq!(stems("запросы"), stems("запрос"));
        assert_eq!(stems("Запросов"), stems("запрос"));
        assert_eq!(stems("requests"), stems("request"));
        assert_eq!(stems("Requesting"), stems("request"));
        assert_eq!(stems("фишинговых атаках"), stems("фишинговая атака"));
        assert_eq!(
            analyze("Запросы о фишинговых атаках"),
            "запрос фишингов атак"
        );
    }

    #[test]
    fn stop_words_and_punctuation_are_dropped() {
        assert_eq!(
            analyze("the preservation of data, и данные!"),
            "preserv data дан"
        );
        assert!(stems("").is_empty());
    }
}
