//! Kubernetes minor versions and AMI release versions, compared by their numbers.
//!
//! Strings would order `1.10` before `1.9`; every comparison here is numeric.

use std::cmp::Ordering;
use std::fmt;

/// A Kubernetes `MAJOR.MINOR` version, such as `1.31`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MinorVersion {
    major: u32,
    minor: u32,
}

impl MinorVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }

    /// Parses exactly `MAJOR.MINOR` (what a user may ask for).
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('.')?;
        Some(Self::new(number(major)?, number(minor)?))
    }

    /// Parses a version EKS reports. EKS answers `MAJOR.MINOR`, but a patch part would
    /// still name the same minor, so it is tolerated rather than failing the invocation.
    pub fn parse_reported(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '.');
        let major = number(parts.next()?)?;
        let minor = number(parts.next()?)?;
        match parts.next() {
            None => Some(Self::new(major, minor)),
            Some(patch) => number(patch).map(|_| Self::new(major, minor)),
        }
    }
}

impl fmt::Display for MinorVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// An unsigned decimal number of at most 9 digits (no sign, no spaces), so parsing can
/// never overflow whatever the input.
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// How a release version's suffix (after the `-`) orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuffixOrder {
    /// A build date (`20241115`, `2024.11.12`): later is newer.
    Date,
    /// A commit hash (Bottlerocket): only equality means anything.
    Commit,
}

/// An AMI release version: `1.31.2-20241115` (Amazon Linux), `1.31-2024.11.12` (Windows),
/// `1.26.1-943d9a41` (Bottlerocket).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseVersion {
    text: String,
    numbers: Vec<u32>,
    suffix: String,
}

/// Longest release version accepted (the request contract's limit).
pub const RELEASE_VERSION_MAX_LEN: usize = 64;

impl ReleaseVersion {
    /// Parses `^\d+\.\d+(\.\d+)?-[0-9A-Za-z.]+$`, at most 64 characters.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > RELEASE_VERSION_MAX_LEN {
            return None;
        }
        let (head, suffix) = text.split_once('-')?;
        let numbers = head.split('.').map(number).collect::<Option<Vec<u32>>>()?;
        let suffix_ok = !suffix.is_empty()
            && suffix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.');
        if !(2..=3).contains(&numbers.len()) || !suffix_ok {
            return None;
        }
        Some(Self {
            text: text.to_owned(),
            numbers,
            suffix: suffix.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The Kubernetes minor the release is built for, for the formats that carry one
    /// (Amazon Linux and Windows; for Bottlerocket the numbers are the OS version).
    pub fn minor(&self) -> MinorVersion {
        MinorVersion::new(self.numbers[0], self.numbers[1])
    }

    /// Orders two releases of the same format: numeric parts first, then the suffix.
    /// `None` when they cannot be ordered: different formats, or the same numbers
    /// with different commits or with suffixes that are not dates.
    pub fn compare(&self, other: &Self, order: SuffixOrder) -> Option<Ordering> {
        if self.numbers.len() != other.numbers.len() {
            return None;
        }
        match self.numbers.cmp(&other.numbers) {
            Ordering::Equal => {}
            unequal => return Some(unequal),
        }
        if self.suffix == other.suffix {
            return Some(Ordering::Equal);
        }
        match order {
            SuffixOrder::Commit => None,
            SuffixOrder::Date => {
                let a = date_parts(&self.suffix)?;
                let b = date_parts(&other.suffix)?;
                // `20241115` against `2024.11.12` is another format, not an order.
                (a.len() == b.len()).then(|| a.cmp(&b))
            }
        }
    }
}

impl fmt::Display for ReleaseVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn date_parts(suffix: &str) -> Option<Vec<u32>> {
    suffix.split('.').map(number).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_versions_parse_strictly() {
        let cases = [
            ("1.31", Some(MinorVersion::new(1, 31))),
            ("1.9", Some(MinorVersion::new(1, 9))),
            ("2.0", Some(MinorVersion::new(2, 0))),
            ("1.31.2", None),
            ("1", None),
            ("1.", None),
            (".31", None),
            ("v1.31", None),
            ("1.31 ", None),
            ("+1.31", None),
            ("1.-3", None),
            ("1.9999999999", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(MinorVersion::parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn reported_versions_tolerate_a_patch_part() {
        assert_eq!(
            MinorVersion::parse_reported("1.31.2"),
            Some(MinorVersion::new(1, 31))
        );
        assert_eq!(
            MinorVersion::parse_reported("1.31"),
            Some(MinorVersion::new(1, 31))
        );
        assert_eq!(MinorVersion::parse_reported("1.31.x"), None);
        assert_eq!(MinorVersion::parse_reported("latest"), None);
    }

    #[test]
    fn minor_versions_compare_numerically() {
        let v = |s| MinorVersion::parse(s).unwrap();
        assert!(v("1.9") < v("1.10"));
        assert!(v("1.31") > v("1.30"));
        assert!(v("2.0") > v("1.99"));
        assert_eq!(v("1.31").to_string(), "1.31");
        assert_eq!(v("01.031").to_string(), "1.31");
    }

    #[test]
    fn release_versions_parse_the_three_formats() {
        let ok = [
            "1.31.2-20241115",
            "1.31-2024.11.12",
            "1.26.1-943d9a41",
            "1.30.0-20240101.1",
        ];
        for text in ok {
            assert!(ReleaseVersion::parse(text).is_some(), "{text}");
        }
        let bad = [
            "",
            "1.31",
            "1.31.2",
            "1.31.2-",
            "-20241115",
            "1-20241115",
            "1.2.3.4-20241115",
            "1.31.2-2024_11_15",
            "1.31.2-2024 1115",
            "v1.31.2-20241115",
            &format!("1.31.2-{}", "1".repeat(60)),
        ];
        for text in bad {
            assert!(ReleaseVersion::parse(text).is_none(), "{text}");
        }
    }

    #[test]
    fn release_versions_compare_numbers_then_date() {
        let r = |s| ReleaseVersion::parse(s).unwrap();
        let cases = [
            ("1.31.2-20241115", "1.31.2-20241115", Some(Ordering::Equal)),
            ("1.31.2-20241115", "1.31.2-20241201", Some(Ordering::Less)),
            (
                "1.31.10-20240101",
                "1.31.9-20241201",
                Some(Ordering::Greater),
            ),
            ("1.9.0-20250101", "1.10.0-20240101", Some(Ordering::Less)),
            ("1.31-2024.11.12", "1.31-2024.12.1", Some(Ordering::Less)),
            ("1.31-2024.11.12", "1.31.0-20241112", None),
            ("1.31.2-2024.11.12", "1.31.2-20241112", None),
            ("1.31.2-abc", "1.31.2-abd", None),
        ];
        for (a, b, expected) in cases {
            assert_eq!(
                r(a).compare(&r(b), SuffixOrder::Date),
                expected,
                "{a} vs {b}"
            );
        }
    }

    #[test]
    fn bottlerocket_commits_compare_only_by_equality() {
        let r = |s| ReleaseVersion::parse(s).unwrap();
        let cases = [
            ("1.26.1-943d9a41", "1.26.1-943d9a41", Some(Ordering::Equal)),
            ("1.26.1-943d9a41", "1.26.1-12345678", None),
            ("1.26.1-20241115", "1.26.1-20241201", None),
            ("1.26.1-943d9a41", "1.27.0-00000000", Some(Ordering::Less)),
        ];
        for (a, b, expected) in cases {
            assert_eq!(
                r(a).compare(&r(b), SuffixOrder::Commit),
                expected,
                "{a} vs {b}"
            );
        }
    }

    #[test]
    fn release_minor_is_its_first_two_numbers() {
        let r = ReleaseVersion::parse("1.31.2-20241115").unwrap();
        assert_eq!(r.minor(), MinorVersion::new(1, 31));
        let w = ReleaseVersion::parse("1.30-2024.11.12").unwrap();
        assert_eq!(w.minor(), MinorVersion::new(1, 30));
    }
}
