//! A key in the forms an upstream may echo it in, and a detector that looks through every decoding
//! of a text for whatever is left of it. The detector decodes on its own (crates and a few lines
//! here), so that it does not share a blind spot with the redactor it checks.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// `key` as an upstream might echo it: (what the form is, the text).
pub(crate) fn forms(key: &str) -> Vec<(String, String)> {
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    let mut forms: Vec<(String, String)> = [
        ("raw", key.to_owned()),
        ("Bearer", format!("Bearer {key}")),
        ("bearer", format!("bearer {key}")),
        ("BEARER", format!("BEARER {key}")),
        ("upper case", key.to_uppercase()),
        (
            "JSON escapes, every character",
            key.chars()
                .map(|c| format!("\\u{:04x}", u32::from(c)))
                .collect(),
        ),
        ("JSON escapes, underscores", key.replace('_', "\\u005f")),
        ("JSON escapes, upper-case hex", key.replace('_', "\\u005F")),
        (
            "percent-encoded, every byte",
            key.bytes().map(|b| format!("%{b:02X}")).collect(),
        ),
        ("percent-encoded, lower-case hex", key.replace('_', "%5f")),
        ("HTML entities", key.replace('_', "&#95;")),
        (
            "percent-encoded, then JSON-escaped",
            key.replace('_', "\\u00255F"),
        ),
        ("JSON-escaped twice", key.replace('_', "\\\\u005f")),
        ("hex", hex.clone()),
        ("HEX", hex.to_uppercase()),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_owned(), text))
    .collect();
    for (offset, before) in ["", "a", "ab"].into_iter().enumerate() {
        let plain = format!("{before}{key}:x");
        forms.push((format!("base64, offset {offset}"), STANDARD.encode(&plain)));
        forms.push((
            format!("base64 URL-safe unpadded, offset {offset}"),
            URL_SAFE_NO_PAD.encode(&plain),
        ));
    }
    forms
}

/// One level of one kind of escaping, undone.
type Decoder = fn(&str) -> String;

/// The decoding of `text` that shows `key`, if one does: as is in any case, percent-, JSON- or
/// HTML-decoded (up to twice, in any order), as hex, or as base64 (either alphabet, any alignment).
pub(crate) fn reveals(text: &str, key: &str) -> Option<String> {
    let decoders: [(&str, Decoder); 3] = [
        ("percent", |t| {
            percent_encoding::percent_decode_str(t)
                .decode_utf8_lossy()
                .into_owned()
        }),
        ("JSON", json_unescape),
        ("HTML", html_unescape),
    ];
    let mut readings = vec![("as is".to_owned(), text.to_owned())];
    for (first, decode) in decoders {
        let once = decode(text);
        for (second, again) in decoders {
            readings.push((format!("{first} then {second}"), again(&once)));
        }
        readings.push((first.to_owned(), once));
    }
    let lower_key = key.to_lowercase();
    for (how, reading) in &readings {
        if reading.to_lowercase().contains(&lower_key) {
            return Some(how.clone());
        }
        if in_hex(reading, key) {
            return Some(format!("hex, {how}"));
        }
        if in_base64(reading, key) {
            return Some(format!("base64, {how}"));
        }
    }
    None
}

/// `\uXXXX`, `\/`, `\\` and `\"` decoded (one level).
fn json_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let unit = tail
            .strip_prefix("\\u")
            .and_then(|h| h.get(..4))
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        if let Some(unit) = unit {
            out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
            rest = &tail[6..];
        } else if let Some(c @ ('/' | '\\' | '"')) = tail[1..].chars().next() {
            out.push(c);
            rest = &tail[2..];
        } else {
            out.push('\\');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// `&#NN;` and `&#xHH;` decoded.
fn html_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("&#") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let (digits, radix) = match tail.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16),
            None => (tail, 10),
        };
        let decoded = digits.find(';').and_then(|end| {
            let c = char::from_u32(u32::from_str_radix(&digits[..end], radix).ok()?)?;
            Some((c, &digits[end + 1..]))
        });
        match decoded {
            Some((c, after)) => {
                out.push(c);
                rest = after;
            }
            None => {
                out.push_str("&#");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether a run of hex digits in `text`, read from either parity, holds `key`.
fn in_hex(text: &str, key: &str) -> bool {
    runs(text, |c| c.is_ascii_hexdigit(), 2 * key.len()).any(|run| {
        (0..2).any(|shift| {
            let bytes: Vec<u8> = run.as_bytes()[shift..]
                .chunks_exact(2)
                .filter_map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
                .collect();
            contains(&bytes, key.as_bytes())
        })
    })
}

/// Whether a run of base64 characters in `text`, read from any of its four alignments, holds `key`.
fn in_base64(text: &str, key: &str) -> bool {
    let lenient = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let base64_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_');
    runs(text, base64_char, key.len() * 4 / 3).any(|run| {
        let standard: String = run
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        (0..4).any(|shift| {
            let usable = (standard.len() - shift) / 4 * 4;
            lenient
                .decode(&standard[shift..shift + usable])
                .is_ok_and(|bytes| contains(&bytes, key.as_bytes()))
        })
    })
}

/// The maximal runs of characters satisfying `keep` that are at least `min` long.
fn runs(text: &str, keep: impl Fn(char) -> bool, min: usize) -> impl Iterator<Item = &str> {
    text.split(move |c: char| !keep(c))
        .filter(move |run| run.len() >= min)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_detector_sees_every_planted_form() {
    let key = super::KEY;
    for (name, form) in forms(key) {
        let text = format!("message: Invalid API key {form}, try again");
        assert!(reveals(&text, key).is_some(), "{name} not seen: {text}");
    }
    assert_eq!(reveals("nothing to see [redacted] here", key), None);
}
