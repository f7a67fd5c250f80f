//! An AWS account id: the account a request's cluster is in.

use std::fmt;

use super::quoted;

/// Twelve ASCII digits, as AWS writes account ids (leading zeros kept: `"012345678901"`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "must be an AWS account id, 12 digits as a string (like \"123456789012\"); got {}",
                quoted(text)
            ))
        }
    }

    /// The account of an ARN (`arn:partition:service:region:account:...`), such as the
    /// invoked function's ARN a Lambda context carries.
    pub fn of_arn(arn: &str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        match (parts.next(), parts.nth(3)) {
            (Some("arn"), Some(account)) => Self::parse(account).ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_digits_and_nothing_else() {
        for good in ["123456789012", "000000000001"] {
            assert_eq!(AccountId::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            " 123456789012",
            "١٢٣٤٥٦٧٨٩٠١٢",
        ] {
            let problem = AccountId::parse(bad).unwrap_err();
            assert!(problem.contains("12 digits"), "{bad:?}: {problem}");
        }
    }

    #[test]
    fn the_account_of_an_arn() {
        let cases = [
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:ngu-updater",
                Some("123456789012"),
            ),
            (
                "arn:aws-cn:lambda:cn-north-1:210987654321:function:f:live",
                Some("210987654321"),
            ),
            ("arn:aws:lambda:eu-west-1::function:f", None),
            ("arn:aws:lambda:eu-west-1:12345:function:f", None),
            (
                "not-an-arn:aws:lambda:eu-west-1:123456789012:function:f",
                None,
            ),
            ("arn:aws", None),
            ("", None),
        ];
        for (arn, want) in cases {
            assert_eq!(
                AccountId::of_arn(arn).as_ref().map(AccountId::as_str),
                want,
                "{arn}"
            );
        }
    }
}
