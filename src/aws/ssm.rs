//! The SSM adapter: reads the public parameters where AWS publishes the newest EKS AMI
//! releases. The only code that speaks to `aws-sdk-ssm`.

use std::time::SystemTime;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::config::Builder as ConfigOverride;

use super::call::send;
use super::classify::{Call, modeled_errors};
use super::deadline::Deadline;
use crate::core::error::{About, Error, ErrorKind, Subject};
use crate::core::live::PublishedRelease;
use crate::core::version::ReleaseVersion;

/// SSM Parameter Store, as this function uses it.
#[derive(Clone, Debug)]
pub struct Ssm {
    client: Client,
}

const CALL: Call<'static> = Call {
    service: "SSM",
    iam_prefix: "ssm",
    op: "GetParameter",
};

impl Ssm {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The release published at `parameter`; `None` when no such parameter exists (no
    /// release of that AMI type for that minor yet).
    pub async fn latest_release(
        &self,
        parameter: &str,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<Option<PublishedRelease>, Error> {
        let not_found = || format!("SSM parameter {parameter} was not found");
        let about = About::from(subject);
        let result = send(CALL, &about, deadline, not_found, |limits| {
            self.client
                .get_parameter()
                .name(parameter)
                .customize()
                .config_override(ConfigOverride::default().timeout_config(limits))
                .send()
        })
        .await;
        let response = match result {
            Ok(response) => response,
            // `ParameterNotFound`: nothing is published there (yet).
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let Some(found) = response.parameter() else {
            return Err(unusable(subject, parameter, "no parameter in the answer"));
        };
        let value = found.value().unwrap_or_default();
        let release = ReleaseVersion::parse(value.trim())
            .ok_or_else(|| unusable(subject, parameter, "its value is not a release version"))?;
        Ok(Some(PublishedRelease {
            release,
            published: found
                .last_modified_date()
                .and_then(|t| SystemTime::try_from(*t).ok()),
        }))
    }
}

fn unusable(subject: &Subject, parameter: &str, what: &str) -> Error {
    Error::new(
        ErrorKind::ServiceError,
        subject,
        format!("SSM parameter {parameter} is unusable ({what}); retry later"),
    )
}

modeled_errors! {
    aws_sdk_ssm::operation::get_parameter::GetParameterError {
        ParameterNotFound => NotFound,
        ParameterVersionNotFound => NotFound,
        InvalidKeyId => Rejected,
        InternalServerError => Server,
    }
}
