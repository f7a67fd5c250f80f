//! The idempotency token sent with `UpdateNodegroupVersion` when the caller gives none.
//!
//! EventBridge and Lambda deliver at least once. Every redelivery of one event must send
//! the same token, so EKS answers the update it already started instead of a second one;
//! another event, or the same event aimed at another target, must not reuse it.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::core::plan::Target;
use crate::core::request::{AccountId, TemplateSelector, UpdateRequest};
use crate::core::version::ReleaseVersion;

/// The token sent with the update: the caller's verbatim, else derived from the event's
/// identity and the resolved target (see [`derive_token`]).
pub fn client_request_token(request: &UpdateRequest, event_id: &str, target: &Target) -> String {
    if let Some(token) = request.client_request_token() {
        return token.as_str().to_owned();
    }
    let launch_template = target.launch_template.as_ref();
    derive_token(
        event_id,
        request.account().map(AccountId::as_str),
        request.cluster().as_str(),
        request.nodegroup().as_str(),
        TokenTarget {
            version: target.version.map(|v| v.to_string()),
            release_version: target.release_version.as_ref().map(ReleaseVersion::as_str),
            launch_template: launch_template.map(|lt| match lt.selector() {
                TemplateSelector::Id(id) => format!("id:{id}"),
                TemplateSelector::Name(name) => format!("name:{name}"),
            }),
            launch_template_version: launch_template
                .and_then(|lt| lt.version())
                .map(ToString::to_string),
            force: target.force,
        },
    )
}

/// What the token is derived from. Serialised as JSON so that no choice of field values
/// can make two different inputs produce the same bytes.
#[derive(Serialize)]
struct TokenSeed<'a> {
    scheme: &'static str,
    event: &'a str,
    /// Only for another account than the function's own: left out otherwise, so a request
    /// in its own account keeps the token it had before accounts existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    cluster: &'a str,
    nodegroup: &'a str,
    version: Option<String>,
    release_version: Option<&'a str>,
    launch_template: Option<String>,
    launch_template_version: Option<String>,
    force: bool,
}

/// The resolved target a token is bound to.
struct TokenTarget<'a> {
    pub version: Option<String>,
    pub release_version: Option<&'a str>,
    /// `id:lt-...` or `name:...`.
    pub launch_template: Option<String>,
    pub launch_template_version: Option<String>,
    pub force: bool,
}

/// Lowercase hex SHA-256 (64 characters) of the event identity, the account (another than
/// the function's own), cluster, node group and resolved target.
fn derive_token(
    event_id: &str,
    account: Option<&str>,
    cluster: &str,
    nodegroup: &str,
    target: TokenTarget<'_>,
) -> String {
    let seed = TokenSeed {
        scheme: "eks-nodegroup-updater/1",
        event: event_id,
        account,
        cluster,
        nodegroup,
        version: target.version,
        release_version: target.release_version,
        launch_template: target.launch_template,
        launch_template_version: target.launch_template_version,
        force: target.force,
    };
    // Serialising plain strings and booleans cannot fail; the fallback keeps this total
    // without a panic path.
    let bytes = serde_json::to_vec(&seed).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(version: &str) -> TokenTarget<'static> {
        TokenTarget {
            version: Some(version.to_owned()),
            release_version: None,
            launch_template: None,
            launch_template_version: None,
            force: false,
        }
    }

    #[test]
    fn token_is_64_lowercase_hex() {
        let token = derive_token("evt", None, "prod", "workers", target("1.31"));
        assert_eq!(token.len(), 64);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn same_event_same_target_same_token() {
        assert_eq!(
            derive_token("evt", None, "prod", "workers", target("1.31")),
            derive_token("evt", None, "prod", "workers", target("1.31"))
        );
    }

    #[test]
    fn anything_else_changes_the_token() {
        let base = derive_token("evt", None, "prod", "workers", target("1.31"));
        let others = [
            derive_token("evt2", None, "prod", "workers", target("1.31")),
            derive_token("evt", None, "prod2", "workers", target("1.31")),
            derive_token("evt", None, "prod", "workers2", target("1.31")),
            derive_token("evt", None, "prod", "workers", target("1.32")),
            derive_token(
                "evt",
                None,
                "prod",
                "workers",
                TokenTarget {
                    release_version: Some("1.31.2-20241115"),
                    ..target("1.31")
                },
            ),
            derive_token(
                "evt",
                None,
                "prod",
                "workers",
                TokenTarget {
                    launch_template_version: Some("3".into()),
                    ..target("1.31")
                },
            ),
            derive_token(
                "evt",
                None,
                "prod",
                "workers",
                TokenTarget {
                    force: true,
                    ..target("1.31")
                },
            ),
        ];
        for other in others {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn each_account_its_own_token() {
        assert_ne!(
            derive_token(
                "evt",
                Some("222233334444"),
                "prod",
                "workers",
                target("1.31")
            ),
            derive_token(
                "evt",
                Some("555566667777"),
                "prod",
                "workers",
                target("1.31")
            )
        );
    }

    /// A request in the function's own account keeps the token it had before requests
    /// could name an account: redeliveries across an upgrade still find their update.
    #[test]
    fn own_account_token_unchanged() {
        let seed = serde_json::to_string(&TokenSeed {
            scheme: "eks-nodegroup-updater/1",
            event: "evt",
            account: None,
            cluster: "prod",
            nodegroup: "workers",
            version: Some("1.31".into()),
            release_version: None,
            launch_template: None,
            launch_template_version: None,
            force: false,
        })
        .unwrap();
        assert_eq!(
            seed,
            r#"{"scheme":"eks-nodegroup-updater/1","event":"evt","cluster":"prod","nodegroup":"workers","version":"1.31","release_version":null,"launch_template":null,"launch_template_version":null,"force":false}"#
        );
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        assert_ne!(
            derive_token("a", None, "bc", "d", target("1.31")),
            derive_token("ab", None, "c", "d", target("1.31"))
        );
    }
}
