//! The SSM adapter: reads the public parameters where AWS publishes the newest EKS AMI
//! releases. The only code that speaks to `aws-sdk-ssm`.

use std::time::SystemTime;

use aws_sdk_ssm::Client;

use crate::deadline::Deadline;
use crate::error::{Error, Subject};
use crate::sdk_error::{Call, classify, modeled_errors};
use crate::version::ReleaseVersion;

/// A release as its public parameter announces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedRelease {
    pub release: ReleaseVersion,
    /// The parameter's `LastModifiedDate`.
    pub published: Option<SystemTime>,
}

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
        let timeouts = deadline.next_call().ok_or_else(|| Error::ServiceError {
            subject: subject.clone(),
            message: "no time left before the invocation's deadline to call SSM GetParameter; retry, or raise the function's timeout".to_owned(),
            source: None,
        })?;
        let result = self
            .client
            .get_parameter()
            .name(parameter)
            .customize()
            .config_override(aws_sdk_ssm::config::Builder::default().timeout_config(timeouts))
            .send()
            .await;
        let response = match result {
            Ok(response) => response,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_parameter_not_found()) =>
            {
                return Ok(None);
            }
            Err(e) => {
                return Err(classify(e, CALL, subject, || {
                    format!("SSM parameter {parameter} was not found")
                }));
            }
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
    Error::ServiceError {
        subject: subject.clone(),
        message: format!("SSM parameter {parameter} is unusable ({what}); retry later"),
        source: None,
    }
}

modeled_errors! {
    aws_sdk_ssm::operation::get_parameter::GetParameterError {
        ParameterNotFound => NotFound,
        ParameterVersionNotFound => NotFound,
        InvalidKeyId => Rejected,
        InternalServerError => Server,
    }
}
