//! A failure as the Lambda runtime reports it: the error's kind is the `errorType` a state
//! machine retries or catches by, its text the `errorMessage`.

use lambda_runtime::Diagnostic;

use crate::core::error::Error;

impl From<Error> for Diagnostic {
    fn from(error: Error) -> Self {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::{ErrorKind, Subject};
    use crate::core::request::{ClusterName, NodegroupName};

    #[test]
    fn diagnostic_carries_the_stable_name_and_the_subject() {
        let subject = Subject {
            cluster: ClusterName::parse("prod").unwrap(),
            nodegroup: NodegroupName::parse("workers").unwrap(),
        };
        for kind in ErrorKind::ALL {
            let diagnostic = Diagnostic::from(Error::new(kind, &subject, "m"));
            assert_eq!(diagnostic.error_type, kind.as_str());
            assert_eq!(
                diagnostic.error_message,
                "cluster 'prod', node group 'workers': m"
            );
        }
        let invalid = Diagnostic::from(Error::invalid_input("bad"));
        assert_eq!(invalid.error_type, "InvalidInput");
        assert_eq!(invalid.error_message, "bad");
    }
}
