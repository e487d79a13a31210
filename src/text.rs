//! The character rules for text that crosses the server's edges (the bottom layer: it imports
//! nothing from the crate). [`is_disguising`] is the one list of characters that hide or reorder
//! text; each edge applies it once:
//!
//! - **input** (`model::validate`): free text holding one is refused, naming the field
//!   ([`refused_in_input`]);
//! - **tool results** (`tools::output`): every string loses them ([`scrub`], [`scrub_json`]);
//! - **upstream messages** (`api`): SolvaPay's error texts become one clean line of bounded length
//!   ([`sanitize`]).

use std::borrow::Cow;

use serde_json::Value;

/// Characters that hide or reorder text, so a person may approve something other than what runs:
/// bidi embeddings, overrides, isolates and marks; zero-width spaces, joiners and no-break spaces
/// (U+200B–U+200D, U+2060, U+FEFF, U+180E); the line and paragraph separators (U+2028, U+2029),
/// which break a line where no newline shows; and Unicode tag characters (invisible, and a known
/// way to smuggle instructions to a model).
pub fn is_disguising(c: char) -> bool {
    matches!(c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}'
        | '\u{2028}' | '\u{2029}'
        | '\u{E0000}'..='\u{E007F}')
}

/// What multi-line text shown to a person or a model may not hold: anything [`is_disguising`],
/// and control characters other than newline and tab.
pub fn is_hidden(c: char) -> bool {
    is_disguising(c) || (c.is_control() && !matches!(c, '\n' | '\t'))
}

/// What free text given as an argument may not hold: [`is_hidden`] characters, except the
/// carriage return of a Windows line ending (stored as given; results drop it).
pub fn refused_in_input(c: char) -> bool {
    is_hidden(c) && c != '\r'
}

/// `text` without its [`is_hidden`] characters (borrowed when it has none).
pub fn scrub(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_hidden) {
        Cow::Owned(text.chars().filter(|c| !is_hidden(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// Every string in `value`, at any depth, [`scrub`]bed (object keys are left as they are: they
/// are the server's own field names).
pub fn scrub_json(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = scrub(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_json),
        Value::Object(map) => map.values_mut().for_each(scrub_json),
        _ => {}
    }
}

/// Upstream text made one safe line: control characters replaced by spaces, [`is_disguising`]
/// characters removed, at most `max_chars` characters (then `…`), trimmed.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| !is_disguising(*c))
        .take(max_chars)
        .collect();
    if text.chars().count() > max_chars {
        out.push('…');
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_lose_disguising_characters_everywhere() {
        let mut v = json!({"name": "Jane\u{202E}evil", "metadata": {"note": ["ok\u{E0041}\u{E0042}", "a\u{0007}b\nc", "z\u{200B}w\u{FEFF}x\u{2028}y"]}, "n": 3});
        scrub_json(&mut v);
        assert_eq!(
            v,
            json!({"name": "Janeevil", "metadata": {"note": ["ok", "ab\nc", "zwxy"]}, "n": 3})
        );
    }

    #[test]
    fn input_keeps_a_windows_line_ending_that_results_drop() {
        assert!(!refused_in_input('\r') && is_hidden('\r'));
        assert!(refused_in_input('\u{7}') && refused_in_input('\u{202E}'));
        assert!(!refused_in_input('\n') && !refused_in_input('\t'));
        assert_eq!(scrub("a\r\nb"), "a\nb");
    }

    /// Code points that must never reach the model from upstream text: controls (a space stands in
    /// for them), bidi embeddings, overrides, isolates and marks, zero-width characters, line and
    /// paragraph separators, and Unicode tag characters (written out here, independently of
    /// [`is_disguising`], so the test checks the list too).
    fn banned(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{E0000}'..='\u{E007F}')
            || matches!(
                c,
                '\u{200B}'
                    ..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}' | '\u{2028}' | '\u{2029}'
            )
    }

    /// Text mixing ASCII, emoji, CJK, controls, bidi and tag characters.
    fn hostile_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        proptest::collection::vec(
            prop_oneof![
                any::<char>(),
                proptest::char::range('a', 'z'),
                Just(' '),
                Just('\n'),
                Just('\r'),
                Just('\t'),
                Just('\u{7}'),
                Just('\u{202E}'),
                Just('\u{2067}'),
                Just('\u{200F}'),
                Just('\u{061C}'),
                Just('\u{200B}'),
                Just('\u{FEFF}'),
                Just('\u{2028}'),
                Just('\u{E0041}'),
                Just('😀'),
                Just('漢'),
            ],
            0..80,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest::proptest! {
        #[test]
        fn sanitize_is_idempotent_bounded_and_clean(text in hostile_text(), max in 0usize..60) {
            let once = sanitize(&text, max);
            proptest::prop_assert_eq!(&sanitize(&once, max), &once);
            proptest::prop_assert!(once.chars().count() <= max + 1);
            proptest::prop_assert!(!once.chars().any(banned), "{:?}", once);
            proptest::prop_assert_eq!(once.trim(), once.as_str());
        }

        #[test]
        fn sanitize_keeps_plain_text(text in "[a-zA-Z0-9 .,😀漢]{0,50}") {
            proptest::prop_assert_eq!(sanitize(&text, 100), text.trim());
        }

        #[test]
        fn scrub_is_idempotent_keeps_lines_and_drops_only_what_is_banned(text in hostile_text()) {
            let once = scrub(&text).into_owned();
            proptest::prop_assert_eq!(scrub(&once), once.as_str());
            proptest::prop_assert!(!once.chars().any(|c| banned(c) && !matches!(c, '\n' | '\t')), "{:?}", once);
            let kept: String = text.chars().filter(|c| !banned(*c) || matches!(c, '\n' | '\t')).collect();
            proptest::prop_assert_eq!(once, kept);
        }
    }
}
