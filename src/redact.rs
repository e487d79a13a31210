//! Keeps secrets out of every text the server lets go of (a bottom layer: it imports nothing from the
//! crate; `api`, `server`, `audit` and `telemetry` use it): a [`Redactor`], built once from the
//! secrets, replaces each occurrence of one with `[redacted]`, in any of the forms a secret takes
//! when it is echoed, logged or encoded.
//!
//! The forms: the secret itself in any ASCII case (so also after `Bearer `, `bearer `, `BEARER `),
//! its hex, and its base64, standard and URL-safe, padded or not, at each of the three byte offsets
//! it can have inside a longer base64 string (`Basic` credentials, a token that embeds it). Each of
//! these is also found with any of its characters escaped: JSON `\uXXXX` (either hex case,
//! surrogate pairs too) and `\/`, percent-encoding `%XX`, HTML `&#NN;` and `&#xHH;`, and an escape
//! escaped again (`\\u005f`, a JSON string quoted in a log line; `%255F`; `\u00255F`).
//!
//! Cost: the forms are kept as a sorted list, lower-cased, and read as a trie (the forms sharing
//! a prefix are a run of the list), so the search is a few hundred bytes and no library code. One
//! pass over the text, a table lookup a byte, finds the forms written out; a text with neither a
//! form nor an escape costs no allocation and comes back borrowed. An escaped form can only start
//! within a form's length before an escape: from those bytes alone, the text is walked through
//! every reading of its escapes (each as written or decoded). Only when a form is found is the
//! whole text walked, to find exactly where each lies.
//!
//! (An Aho-Corasick DFA and NFA did this before: 30–90 KB of heap per redactor for one key's
//! eight forms, built twice (client and audit log), and ~0.25 MiB more resident code.)

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;

/// What stands in for a secret.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not searched for: they would match ordinary text.
pub const MIN_SECRET_LEN: usize = 8;

/// Replaces secrets, in all their forms, by [`REDACTED`]. Cheap to clone (the search is shared).
#[derive(Clone, Default)]
pub struct Redactor {
    /// `None` when there is no secret to look for.
    search: Option<Arc<Search>>,
}

/// The forms, lower-cased and sorted: a trie in which a state is the run of forms sharing the
/// bytes read so far.
struct Search {
    /// Sorted, deduplicated, lower-cased (every form is matched in any ASCII case).
    forms: Vec<Box<[u8]>>,
    /// Bytes a form can start with (either case).
    form_starts: [bool; 256],
    /// Those, and the bytes escapes start with.
    starts: [bool; 256],
    /// The longest form, in bytes.
    longest: usize,
}

/// Where a walk through the trie is: `forms[lo..hi]` are the forms that begin with the `read`
/// bytes read so far (never empty).
#[derive(Clone, Copy)]
struct State {
    lo: usize,
    hi: usize,
    read: usize,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let forms = self.search.as_ref().map_or(0, |s| s.forms.len());
        f.debug_struct("Redactor").field("forms", &forms).finish()
    }
}

impl Redactor {
    /// A redactor for `secrets` (those shorter than [`MIN_SECRET_LEN`] bytes are ignored).
    pub fn new<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut forms: Vec<Box<[u8]>> = secrets
            .into_iter()
            .filter(|s| s.as_ref().len() >= MIN_SECRET_LEN)
            .flat_map(|s| encoded_forms(s.as_ref()))
            .map(|mut f| {
                f.make_ascii_lowercase();
                f.into_boxed_slice()
            })
            .collect();
        forms.sort_unstable();
        forms.dedup();
        if forms.is_empty() {
            return Self::default();
        }
        // Either case of each form's first byte; then the escapes' too.
        let mut form_starts = [false; 256];
        for b in forms.iter().filter_map(|f| f.first()) {
            for b in [b.to_ascii_lowercase(), b.to_ascii_uppercase()] {
                if let Some(start) = form_starts.get_mut(usize::from(b)) {
                    *start = true;
                }
            }
        }
        let mut starts = form_starts;
        for &b in ESCAPE_STARTS {
            if let Some(start) = starts.get_mut(usize::from(b)) {
                *start = true;
            }
        }
        let longest = forms.iter().map(|f| f.len()).max().unwrap_or(0);
        Self {
            search: Some(Arc::new(Search {
                forms,
                form_starts,
                starts,
                longest,
            })),
        }
    }

    /// Whether there is any secret to look for.
    pub fn is_active(&self) -> bool {
        self.search.is_some()
    }

    /// `text` with every secret form replaced; borrowed when there was none.
    pub fn scrub_bytes<'a>(&self, text: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(search) = &self.search else {
            return Cow::Borrowed(text);
        };
        let spans = if search.written_out(text) {
            search.walk(text, 0..text.len())
        } else {
            // Any form left has an escape in it, so starts at most `longest - 1` bytes before
            // its first escape: walk only there.
            let mut from = 0;
            let near_escapes = escapes(text).flat_map(|at| {
                let window = from.max((at + 1).saturating_sub(search.longest))..at + 1;
                from = at + 1;
                window
            });
            search.walk(text, near_escapes)
        };
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = Vec::with_capacity(text.len());
        let mut done = 0;
        for (start, end) in spans {
            out.extend_from_slice(text.get(done..start).unwrap_or_default());
            out.extend_from_slice(REDACTED.as_bytes());
            done = end;
        }
        out.extend_from_slice(text.get(done..).unwrap_or_default());
        Cow::Owned(out)
    }

    /// `text` with every secret form replaced; borrowed when there was none.
    pub fn scrub_str<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.scrub_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // A span starts and ends on a character or an escape, so this is UTF-8; lossy is a
            // fallback for secrets that are not.
            Cow::Owned(bytes) => Cow::Owned(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// Scrubs `text` in place.
    pub fn scrub_string(&self, text: &mut String) {
        if let Cow::Owned(clean) = self.scrub_str(text) {
            *text = clean;
        }
    }

    /// Scrubs every string of `value` in place, object keys included.
    pub fn scrub_json(&self, value: &mut Value) {
        if !self.is_active() {
            return;
        }
        match value {
            Value::String(s) => self.scrub_string(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            Value::Object(map) => {
                map.values_mut().for_each(|v| self.scrub_json(v));
                if map
                    .keys()
                    .any(|k| matches!(self.scrub_str(k), Cow::Owned(_)))
                {
                    *map = std::mem::take(map)
                        .into_iter()
                        .map(|(k, v)| (self.scrub_str(&k).into_owned(), v))
                        .collect();
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// The secret, its hex, and the parts of its base64 (both alphabets) that are fixed whatever bytes
/// surround it, at each of the three offsets modulo 3 it can start at.
fn encoded_forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![secret.to_vec()];
    forms.push(
        secret
            .iter()
            .flat_map(|b| format!("{b:02x}").into_bytes())
            .collect(),
    );
    for offset in 0..3 {
        let mut shifted = vec![0u8; offset];
        shifted.extend_from_slice(secret);
        let standard = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&shifted);
        // Character i holds bits 6i..6i+6; keep those lying wholly inside the secret's bits.
        let first = (8 * offset).div_ceil(6);
        let last = 8 * (offset + secret.len()) / 6;
        let Some(fixed) = standard.as_bytes().get(first..last) else {
            continue;
        };
        let url_safe = fixed
            .iter()
            .map(|&c| match c {
                b'+' => b'-',
                b'/' => b'_',
                c => c,
            })
            .collect();
        forms.push(fixed.to_vec());
        forms.push(url_safe);
    }
    forms
}

/// The bytes an escape begins with.
const ESCAPE_STARTS: &[u8] = b"%\\&";

/// Where the escapes of `text` begin.
fn escapes(text: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr3_iter(b'%', b'\\', b'&', text).filter(|&at| escape_at(text, at).is_some())
}

impl Search {
    /// Whether a form appears in `text` as written, in any case.
    fn written_out(&self, text: &[u8]) -> bool {
        (0..text.len()).any(|at| {
            text.get(at)
                .is_some_and(|&b| self.form_starts.get(usize::from(b)) == Some(&true))
                && self.form_written_at(text, at)
        })
    }

    /// Whether a form begins at `text[at]`, as written.
    fn form_written_at(&self, text: &[u8], at: usize) -> bool {
        let mut state = self.start();
        for &b in text.get(at..).unwrap_or_default() {
            match self.step(state, b) {
                Some(next) if self.is_match(next) => return true,
                Some(next) => state = next,
                None => return false,
            }
        }
        false
    }

    /// Nothing read yet: every form.
    fn start(&self) -> State {
        State {
            lo: 0,
            hi: self.forms.len(),
            read: 0,
        }
    }

    /// The forms of `state` whose next byte is `b` (in any case); `None` when there is none.
    fn step(&self, state: State, b: u8) -> Option<State> {
        let b = b.to_ascii_lowercase();
        let run = self.forms.get(state.lo..state.hi)?;
        // The run shares its first `read` bytes, so it is sorted by the next one; a form that
        // ends there (it has no next byte) sorts first.
        let next = |f: &[u8]| f.get(state.read).copied();
        let first = run.partition_point(|f| next(f).is_none_or(|c| c < b));
        let last = run.partition_point(|f| next(f).is_none_or(|c| c <= b));
        (first < last).then_some(State {
            lo: state.lo + first,
            hi: state.lo + last,
            read: state.read + 1,
        })
    }

    /// Whether the bytes read so far are a whole form (it would sort first in the run).
    fn is_match(&self, state: State) -> bool {
        self.forms
            .get(state.lo)
            .is_some_and(|f| f.len() == state.read)
    }

    /// The spans of `text` that, read with any of their escapes decoded, are a form starting at
    /// one of `starts` (in increasing order).
    fn walk(&self, text: &[u8], starts: impl Iterator<Item = usize>) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        let mut paths = Vec::new();
        for at in starts {
            if text
                .get(at)
                .is_some_and(|&b| self.starts.get(usize::from(b)) == Some(&true))
                && let Some(end) = self.longest_from(text, at, &mut paths)
            {
                spans.push((at, end));
            }
        }
        merged(spans)
    }

    /// The end of the longest form starting at `at`, over every reading of the escapes after it.
    fn longest_from(
        &self,
        text: &[u8],
        at: usize,
        paths: &mut Vec<(State, usize)>,
    ) -> Option<usize> {
        let step = |mut state: State, bytes: &[u8]| {
            for &b in bytes {
                state = self.step(state, b)?;
            }
            Some(state)
        };
        let mut longest = None;
        paths.clear();
        // (state, position in text): a state knows exactly how many bytes of a form it has read.
        paths.push((self.start(), at));
        while let Some((state, pos)) = paths.pop() {
            if self.is_match(state) {
                longest = longest.max(Some(pos));
            }
            let Some(&b) = text.get(pos) else { continue };
            if let Some(next) = step(state, &[b]) {
                paths.push((next, pos + 1));
            }
            if let Some((width, decoded)) = escape_at(text, pos) {
                let mut utf8 = [0u8; 4];
                let bytes = match decoded {
                    Unescaped::Byte(b) => {
                        utf8[0] = b;
                        &utf8[..1]
                    }
                    Unescaped::Char(c) => c.encode_utf8(&mut utf8).as_bytes(),
                };
                if let Some(next) = step(state, bytes) {
                    paths.push((next, pos + width));
                }
            }
        }
        longest
    }
}

enum Unescaped {
    Byte(u8),
    Char(char),
}

/// The escape starting at `text[i]`, if one does: its width and what it stands for. An escape
/// escaped again is read through: `\\u005f` (a JSON string quoted in a log line), `%255F`,
/// `\u00255F` (a percent escape in a JSON string).
fn escape_at(text: &[u8], i: usize) -> Option<(usize, Unescaped)> {
    let rest = text.get(i..)?;
    match rest.first()? {
        b'%' => {
            let mut at = 1;
            while rest.get(at..at + 2) == Some(b"25")
                && rest
                    .get(at + 2..at + 4)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
            {
                at += 2;
            }
            let byte = hex_number(rest.get(at..at + 2)?)?;
            Some((at + 2, Unescaped::Byte(u8::try_from(byte).ok()?)))
        }
        b'\\' => {
            let slashes = rest.iter().take_while(|&&b| b == b'\\').count();
            let escape = rest.get(slashes..)?;
            if escape.first() == Some(&b'/') {
                return Some((slashes + 1, Unescaped::Byte(b'/')));
            }
            let unit = |e: &[u8]| match e {
                [b'u', digits @ ..] => hex_number(digits.get(..4)?),
                _ => None,
            };
            let high = unit(escape)?;
            let width = slashes + 5;
            // A percent escape whose `%` is JSON-escaped (`\u00255F`: percent-encoded, then put
            // in a JSON string as text) stands for the byte it encodes.
            if high == 0x25
                && let Some(byte) = rest.get(width..width + 2).and_then(hex_number)
            {
                return Some((width + 2, Unescaped::Byte(u8::try_from(byte).ok()?)));
            }
            if (0xD800..0xDC00).contains(&high)
                && let Some(next) = rest.get(width..)
                && next.iter().take(slashes).all(|&b| b == b'\\')
                && let Some(low) = next.get(slashes..).and_then(unit)
                && (0xDC00..0xE000).contains(&low)
            {
                let c = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?;
                return Some((2 * width, Unescaped::Char(c)));
            }
            Some((width, Unescaped::Char(char::from_u32(high)?)))
        }
        b'&' => {
            let (digits, radix, skip) = match rest.get(1..3)? {
                [b'#', b'x' | b'X'] => (rest.get(3..)?, 16, 3),
                [b'#', _] => (rest.get(2..)?, 10, 2),
                _ => return None,
            };
            let len = digits.iter().take(8).position(|&b| b == b';')?;
            let number = std::str::from_utf8(digits.get(..len)?).ok()?;
            if number.is_empty() || !number.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            let c = char::from_u32(u32::from_str_radix(number, radix).ok()?)?;
            Some((skip + len + 1, Unescaped::Char(c)))
        }
        _ => None,
    }
}

/// A non-empty run of at most 6 hex digits as a number.
fn hex_number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    digits
        .iter()
        .try_fold(0u32, |n, &b| Some(n << 4 | char::from(b).to_digit(16)?))
}

/// The spans sorted, overlapping ones joined.
fn merged(mut spans: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    spans.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests;
