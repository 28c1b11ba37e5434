//! Strings generated from a model's `pattern`: one that matches with an exact length (for
//! the length bounds of patterned members), and one of the same length that does not.

use regex_syntax::hir::{Class, Hir, HirKind};

/// A model pattern, matched as AWS matches it: against the whole value.
pub struct Pattern {
    hir: Hir,
    whole: regex::Regex,
}

/// Characters a generated string prefers, so values stay readable.
const PREFERRED: [char; 6] = ['a', 'A', '0', 'x', '-', '_'];

/// Characters tried, one position at a time, to break a match.
const BREAKERS: [char; 8] = ['#', ';', ' ', '!', '~', 'Z', '\u{e9}', '\n'];

/// Lengths in characters: at least `.0`, at most `.1` (`None`: unbounded).
type Range = (usize, Option<usize>);

impl Pattern {
    pub fn new(pattern: &str) -> Result<Pattern, String> {
        let hir = regex_syntax::Parser::new().parse(pattern).map_err(|e| format!("pattern {pattern}: {e}"))?;
        let whole = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("pattern {pattern}: {e}"))?;
        Ok(Pattern { hir, whole })
    }

    pub fn matches(&self, s: &str) -> bool {
        self.whole.is_match(s)
    }

    /// A matching string of exactly `len` characters, if the pattern has one.
    pub fn generate(&self, len: usize) -> Option<String> {
        generate(&self.hir, len).filter(|s| self.matches(s))
    }

    /// The shortest matching string of `lo` to `hi` characters.
    pub fn shortest(&self, lo: usize, hi: usize) -> Option<String> {
        (lo..=hi.min(lo + 256)).find_map(|n| self.generate(n))
    }

    /// `valid` with one character changed so the whole no longer matches: same length, so
    /// only the pattern is violated.
    pub fn break_match(&self, valid: &str) -> Option<String> {
        let chars: Vec<char> = valid.chars().collect();
        (0..chars.len()).find_map(|i| {
            BREAKERS.iter().find_map(|b| {
                let mut c = chars.clone();
                c[i] = *b;
                let s: String = c.into_iter().collect();
                (!self.matches(&s)).then_some(s)
            })
        })
    }
}

fn range(h: &Hir) -> Range {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => (0, Some(0)),
        HirKind::Literal(l) => {
            let n = String::from_utf8_lossy(&l.0).chars().count();
            (n, Some(n))
        }
        HirKind::Class(_) => (1, Some(1)),
        HirKind::Capture(c) => range(&c.sub),
        HirKind::Repetition(r) => {
            let (lo, hi) = range(&r.sub);
            let max = r.max.map(|m| m as usize);
            let hi = match (max, hi) {
                (Some(0), _) | (_, Some(0)) => Some(0),
                (Some(m), Some(h)) => Some(m * h),
                _ => None,
            };
            (r.min as usize * lo, hi)
        }
        HirKind::Concat(parts) => seq_range(parts),
        HirKind::Alternation(alts) => {
            let lo = alts.iter().map(|a| range(a).0).min().unwrap_or(0);
            let hi = alts.iter().map(|a| range(a).1).try_fold(0, |acc, h| h.map(|h| acc.max(h)));
            (lo, hi)
        }
    }
}

fn seq_range(parts: &[Hir]) -> Range {
    parts.iter().map(range).fold((0, Some(0)), |(lo, hi), (l, h)| (lo + l, hi.zip(h).map(|(a, b)| a + b)))
}

fn fits((lo, hi): Range, n: usize) -> bool {
    n >= lo && hi.is_none_or(|h| n <= h)
}

fn generate(h: &Hir, n: usize) -> Option<String> {
    if !fits(range(h), n) {
        return None;
    }
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(String::new()),
        HirKind::Literal(l) => Some(String::from_utf8_lossy(&l.0).into_owned()),
        HirKind::Class(c) => pick(c).map(String::from),
        HirKind::Capture(c) => generate(&c.sub, n),
        HirKind::Concat(parts) => sequence(parts, n),
        HirKind::Alternation(alts) => alts.iter().find_map(|a| generate(a, n)),
        HirKind::Repetition(r) => repeat(&r.sub, r.min as usize, r.max.map(|m| m as usize), n),
    }
}

/// `parts` one after the other in `n` characters; later parts stretch first.
fn sequence(parts: &[Hir], n: usize) -> Option<String> {
    let Some((first, rest)) = parts.split_first() else { return (n == 0).then(String::new) };
    let (lo, hi) = range(first);
    let (rest_lo, rest_hi) = seq_range(rest);
    let from = lo.max(rest_hi.map_or(0, |h| n.saturating_sub(h)));
    let to = hi.unwrap_or(n).min(n.checked_sub(rest_lo)?);
    (from..=to).find_map(|len| {
        let head = generate(first, len)?;
        sequence(rest, n - len).map(|tail| head + &tail)
    })
}

/// `min` to `max` copies of `sub` in `n` characters, as few copies as will do.
fn repeat(sub: &Hir, min: usize, max: Option<usize>, n: usize) -> Option<String> {
    let (lo, hi) = range(sub);
    let most = max.unwrap_or(usize::MAX).min(min.max(n) + 1);
    (min..=most).find_map(|k| {
        if k * lo > n || hi.is_some_and(|h| k * h < n) || (k == 0 && n > 0) {
            return None;
        }
        let mut extra = n - k * lo;
        (0..k)
            .map(|_| {
                let add = hi.map_or(extra, |h| extra.min(h - lo));
                extra -= add;
                generate(sub, lo + add)
            })
            .collect::<Option<String>>()
    })
}

/// A readable character of the class: a preferred one if it has one, else the first
/// printable one.
fn pick(class: &Class) -> Option<char> {
    let ranges: Vec<(char, char)> = match class {
        Class::Unicode(u) => u.ranges().iter().map(|r| (r.start(), r.end())).collect(),
        Class::Bytes(b) => b.ranges().iter().map(|r| (char::from(r.start()), char::from(r.end()))).collect(),
    };
    let contains = |c: char| ranges.iter().any(|(s, e)| (*s..=*e).contains(&c));
    PREFERRED
        .into_iter()
        .find(|c| contains(*c))
        .or_else(|| ranges.iter().flat_map(|(s, e)| (*s..=*e).take(64)).find(|c| !c.is_control()))
        .or_else(|| ranges.first().map(|(s, _)| *s))
}
