//! The S3 adapter on the real `aws-sdk-s3` client: what is sent, what is read, and the
//! errors named like every other call.

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use eks_nodegroup_updater::{CallLimits, Deadline, ErrorKind, Objects};

use aws_sdk_s3::config::http::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use crate::common::fast_retries;

/// An HTTP answer as S3 sends errors: status and an XML `Error` with `Code` and `Message`.
fn s3_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut response =
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
    response
        .headers_mut()
        .insert("content-type", "application/xml");
    response
}

fn objects(rules: &[&Rule]) -> Objects {
    let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules, |c| c
        .retry_config(fast_retries()));
    Objects::new(client)
}

fn deadline() -> Deadline {
    Deadline::unbounded(CallLimits::default())
}

#[tokio::test]
async fn an_object_is_written_whole_where_it_is_asked() {
    let put = mock!(Client::put_object)
        .match_requests(|r| {
            r.bucket() == Some("stack-bucket")
                && r.key() == Some("fleet/roll-1/report.csv")
                && r.content_type() == Some("text/csv")
        })
        .then_output(|| PutObjectOutput::builder().build());
    objects(&[&put])
        .put(
            "stack-bucket",
            "fleet/roll-1/report.csv",
            b"a,b\n".to_vec(),
            "text/csv",
            &deadline(),
        )
        .await
        .unwrap();
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn an_object_is_read_whole() {
    let get = mock!(Client::get_object)
        .match_requests(|r| r.bucket() == Some("b") && r.key() == Some("k"))
        .then_output(|| {
            GetObjectOutput::builder()
                .body(ByteStream::from_static(b"[1,2,3]"))
                .build()
        });
    let body = objects(&[&get]).get("b", "k", &deadline()).await.unwrap();
    assert_eq!(body, b"[1,2,3]");
}

#[tokio::test]
async fn object_errors_have_the_contracts_names() {
    let cases = [
        (
            mock!(Client::get_object)
                .then_error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build())),
            ErrorKind::NotFound,
            "object s3://b/k: no object s3://b/k",
        ),
        (
            mock!(Client::get_object)
                .then_http_response(|| s3_error(403, "AccessDenied", "denied")),
            ErrorKind::AccessDenied,
            "access denied to s3:GetObject",
        ),
        (
            mock!(Client::get_object).then_http_response(|| s3_error(503, "SlowDown", "slow")),
            ErrorKind::Throttled,
            "S3 throttled GetObject",
        ),
        (
            mock!(Client::get_object)
                .then_output(|| GetObjectOutput::builder().content_length(1 << 40).build()),
            ErrorKind::Rejected,
            "larger than",
        ),
    ];
    for (rule, kind, needle) in cases {
        let error = objects(&[&rule])
            .get("b", "k", &deadline())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), kind, "{error}");
        assert!(
            error.to_string().contains(needle),
            "{error} lacks {needle:?}"
        );
    }
}
