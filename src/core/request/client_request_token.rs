//! A caller's own idempotency token.

/// A caller's idempotency token: 1–128 printable ASCII characters, used verbatim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequestToken(String);

impl ClientRequestToken {
    pub fn parse(text: &str) -> Option<Self> {
        let printable = text.bytes().all(|b| (0x20..=0x7e).contains(&b));
        (!text.is_empty() && text.len() <= 128 && printable).then(|| Self(text.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
