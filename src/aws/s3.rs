//! The S3 adapter: the fleet's objects in the stack's bucket (the targets handed to the
//! distributed Map, each wave's items, the Map's results, the report). The only code that
//! speaks to `aws-sdk-s3`.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::Builder as ConfigOverride;
use aws_sdk_s3::primitives::ByteStream;

use super::call::{send, unusable};
use super::classify::{Call, modeled_errors};
use super::deadline::Deadline;
use crate::core::error::{About, Error, ErrorKind};

/// The largest object read: a report of 10,000 targets is a few MiB; anything far larger is
/// not one of ours.
pub const MAX_OBJECT_BYTES: usize = 64 * 1024 * 1024;

/// S3, as the fleet uses it.
#[derive(Clone, Debug)]
pub struct Objects {
    client: Client,
}

fn s3(op: &str) -> Call<'_> {
    Call {
        service: "S3",
        iam_prefix: "s3",
        op,
    }
}

fn about(bucket: &str, key: &str) -> About {
    About::Object(format!("s3://{bucket}/{key}"))
}

impl Objects {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Writes an object whole.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let call = s3("PutObject");
        let about = about(bucket, key);
        let not_found = || format!("bucket {bucket} does not exist; check the stack's bucket");
        send(call, &about, deadline, not_found, |limits| {
            self.client
                .put_object()
                .bucket(bucket)
                .key(key)
                .content_type(content_type)
                .body(ByteStream::from(body))
                .customize()
                .config_override(ConfigOverride::default().timeout_config(limits))
                .send()
        })
        .await?;
        Ok(())
    }

    /// Reads an object whole, bounded in size and in time.
    pub async fn get(
        &self,
        bucket: &str,
        key: &str,
        deadline: &Deadline,
    ) -> Result<Vec<u8>, Error> {
        let call = s3("GetObject");
        let about = about(bucket, key);
        let not_found = || format!("no object s3://{bucket}/{key}");
        let mut limit = None;
        let response = send(call, &about, deadline, not_found, |limits| {
            limit = limits.operation_timeout();
            self.client
                .get_object()
                .bucket(bucket)
                .key(key)
                .customize()
                .config_override(ConfigOverride::default().timeout_config(limits))
                .send()
        })
        .await?;
        if response
            .content_length()
            .is_some_and(|length| usize::try_from(length).map_or(true, |l| l > MAX_OBJECT_BYTES))
        {
            return Err(Error::about(
                ErrorKind::Rejected,
                about,
                format!(
                    "the object is larger than {MAX_OBJECT_BYTES} bytes, which no fleet object is"
                ),
            ));
        }
        // The body arrives after the answer's head: bound its reading like the call.
        let body = response.body.collect();
        let collected = match limit {
            Some(limit) => tokio::time::timeout(limit, body)
                .await
                .map_err(|_| unusable(call, &about, "the body did not arrive in time"))?,
            None => body.await,
        };
        let bytes = collected
            .map_err(|e| unusable(call, &about, &format!("the body could not be read: {e}")))?;
        Ok(bytes.into_bytes().to_vec())
    }
}

modeled_errors! {
    aws_sdk_s3::operation::get_object::GetObjectError {
        NoSuchKey => NotFound,
        InvalidObjectState => Rejected,
    }
    aws_sdk_s3::operation::put_object::PutObjectError {
        EncryptionTypeMismatch => Rejected,
        InvalidRequest => Rejected,
        InvalidWriteOffset => Rejected,
        TooManyParts => Rejected,
    }
}
