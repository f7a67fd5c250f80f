//! Time bounds for AWS calls, so a stalled endpoint ends as `ServiceError` inside the
//! invocation instead of as a Lambda timeout with no name.

use std::time::{Duration, Instant, SystemTime};

use aws_smithy_types::timeout::TimeoutConfig;

/// The per-call bounds, before the invocation's deadline shortens them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallLimits {
    /// Establishing a connection.
    pub connect: Duration,
    /// One HTTP attempt, from send to the whole response.
    pub attempt: Duration,
    /// One operation, all its retries and back-off included.
    pub operation: Duration,
    /// Kept free before the deadline to report the result.
    pub margin: Duration,
}

impl Default for CallLimits {
    /// EKS answers these calls in well under a second; 5 s per attempt and 3 attempts with
    /// back-off fit in 20 s. The 1 s margin covers writing the response to the Runtime API.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            attempt: Duration::from_secs(5),
            operation: Duration::from_secs(20),
            margin: Duration::from_secs(1),
        }
    }
}

impl CallLimits {
    /// The configuration the SDK clients are built with.
    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

/// When the current invocation must have answered.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    at: Option<Instant>,
    limits: CallLimits,
}

/// A deadline further in the past than this cannot come from Lambda.
const IMPLAUSIBLY_PAST: Duration = Duration::from_secs(3600);

/// Less than this left for a call is not worth sending it.
const MIN_CALL_TIME: Duration = Duration::from_millis(200);

impl Deadline {
    /// From the Lambda context's deadline (wall clock), measured on the monotonic clock
    /// from now on so a clock step cannot stretch it.
    ///
    /// Lambda's deadline is always ahead of the invocation's arrival, by at most the
    /// 15-minute function timeout. One more than an hour in the past is not a deadline
    /// but a malformed header (`cargo lambda watch` sends a duration, `600000`, where
    /// Lambda sends epoch milliseconds): then only the per-call limits apply.
    pub fn new(deadline: SystemTime, limits: CallLimits) -> Self {
        let now = SystemTime::now();
        let at = match deadline.duration_since(now) {
            Ok(left) => Some(Instant::now() + left),
            Err(past) if past.duration() <= IMPLAUSIBLY_PAST => Some(Instant::now()),
            Err(_) => {
                tracing::warn!(
                    deadline_ms = deadline
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map(|d| d.as_millis())
                        .unwrap_or_default(),
                    "the invocation deadline is implausible (long past); bounding calls by their own limits only"
                );
                None
            }
        };
        Self { at, limits }
    }

    /// No invocation deadline (tests and tools): only the per-call limits apply.
    pub fn unbounded(limits: CallLimits) -> Self {
        Self { at: None, limits }
    }

    /// The timeouts for the next call, shortened to what is left before the deadline,
    /// or `None` when too little is left to make a call at all.
    pub fn next_call(&self) -> Option<TimeoutConfig> {
        let mut operation = self.limits.operation;
        if let Some(at) = self.at {
            let left = at
                .saturating_duration_since(Instant::now())
                .saturating_sub(self.limits.margin);
            if left < MIN_CALL_TIME {
                return None;
            }
            operation = operation.min(left);
        }
        Some(
            TimeoutConfig::builder()
                .connect_timeout(self.limits.connect.min(operation))
                .operation_attempt_timeout(self.limits.attempt.min(operation))
                .operation_timeout(operation)
                .build(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_deadline_keeps_the_configured_limits() {
        let limits = CallLimits::default();
        let d = Deadline::new(SystemTime::now() + Duration::from_secs(300), limits);
        let t = d.next_call().unwrap();
        assert_eq!(t.operation_timeout(), Some(limits.operation));
        assert_eq!(t.operation_attempt_timeout(), Some(limits.attempt));
        assert_eq!(t.connect_timeout(), Some(limits.connect));
    }

    #[test]
    fn near_deadline_shortens_every_bound() {
        let d = Deadline::new(
            SystemTime::now() + Duration::from_secs(4),
            CallLimits::default(),
        );
        let t = d.next_call().unwrap();
        let op = t.operation_timeout().unwrap();
        assert!(op <= Duration::from_secs(3), "{op:?}");
        assert!(t.operation_attempt_timeout().unwrap() <= op);
        assert!(t.connect_timeout().unwrap() <= op);
    }

    #[test]
    fn passed_deadline_allows_no_call() {
        let past = SystemTime::now() - Duration::from_secs(1);
        assert!(
            Deadline::new(past, CallLimits::default())
                .next_call()
                .is_none()
        );
        let within_margin = SystemTime::now() + Duration::from_millis(900);
        assert!(
            Deadline::new(within_margin, CallLimits::default())
                .next_call()
                .is_none()
        );
    }

    #[test]
    fn implausible_deadline_falls_back_to_the_call_limits() {
        // What `cargo lambda watch` sends: 600000 ms after the epoch.
        let emulator = SystemTime::UNIX_EPOCH + Duration::from_millis(600_000);
        let t = Deadline::new(emulator, CallLimits::default())
            .next_call()
            .unwrap();
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(20)));
    }

    #[test]
    fn unbounded_uses_the_limits() {
        let t = Deadline::unbounded(CallLimits::default())
            .next_call()
            .unwrap();
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(20)));
    }
}
