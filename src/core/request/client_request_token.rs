//! A caller's own idempotency token.

/// A caller's idempotency token: 1–128 printable ASCII characters, used verbatim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequestToken(String);

impl ClientRequestToken {
    pub fn parse(text: &str) -> Result<Self, String> {
        let printable = text.bytes().all(|b| (0x20..=0x7e).contains(&b));
        if !text.is_empty() && text.len() <= 128 && printable {
            Ok(Self(text.to_owned()))
        } else {
            Err("must be 1-128 printable ASCII characters".to_owned())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
