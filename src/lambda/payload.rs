//! The payload's two shapes (an EventBridge envelope, a bare request) and the identity of
//! the event that seeds the idempotency token.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;

use crate::core::request::{InvalidRequest, UpdateRequest, kind};

/// Why a payload could not become a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventError {
    /// The payload's shape is wrong before any field is read.
    Shape(String),
    /// The request's fields are wrong.
    Request(InvalidRequest),
}

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Shape(message) => f.write_str(message),
            Self::Request(invalid) => invalid.fmt(f),
        }
    }
}

/// The invocation payload as the runtime hands it over: JSON, or why it is not.
///
/// The runtime deserialises the payload before the handler runs and reports its own failure
/// with a Rust type name as `errorType`. Taking the payload through this type keeps even
/// malformed JSON inside our contract (`InvalidInput`): Lambda's Invoke API refuses invalid
/// JSON, but emulators and hand-made calls do not.
#[derive(Clone, Debug, PartialEq)]
pub struct RawPayload(pub Result<Value, String>);

/// The largest payload read. A request is a few hundred bytes and an EventBridge envelope
/// around it a few more; anything this large is not a request, and is refused before a
/// tree of it is built.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

impl<'de> serde::Deserialize<'de> for RawPayload {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The raw text first: it checks the syntax and measures the size without
        // allocating a value per element.
        let raw = match Box::<serde_json::value::RawValue>::deserialize(deserializer) {
            Ok(raw) => raw,
            Err(e) => return Ok(Self(Err(e.to_string()))),
        };
        let text = raw.get();
        if text.len() > MAX_PAYLOAD_BYTES {
            return Ok(Self(Err(format!(
                "it is {} bytes, and a request is at most {} KiB",
                text.len(),
                MAX_PAYLOAD_BYTES / 1024
            ))));
        }
        Ok(Self(serde_json::from_str(text).map_err(|e| e.to_string())))
    }
}

/// A parsed invocation: the request and the identity of the event that carried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub request: UpdateRequest,
    /// The EventBridge envelope's `id` (the same on every redelivery of one event), else
    /// the Lambda request id.
    pub event_id: String,
    /// Which shape the payload had, for the log.
    pub source: EventSource,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSource {
    EventBridge,
    Direct,
}

/// Reads a payload. `request_id` is the Lambda request id, the identity of a payload
/// that is not an EventBridge envelope.
pub fn parse(payload: &Value, request_id: &str) -> Result<Invocation, EventError> {
    let Value::Object(object) = payload else {
        return Err(EventError::Shape(format!(
            "the payload must be a JSON object (an EventBridge event or a request with clusterName and nodegroupName), not {}",
            kind(payload)
        )));
    };
    if !(object.contains_key("detail-type") && object.contains_key("detail")) {
        let request = UpdateRequest::from_json(object).map_err(EventError::Request)?;
        return Ok(Invocation {
            request,
            event_id: request_id.to_owned(),
            source: EventSource::Direct,
        });
    }

    let envelope: EventBridgeEvent<Value> = serde_json::from_value(payload.clone())
        .map_err(|e| EventError::Shape(format!("not a valid EventBridge event: {e}")))?;
    let empty_detail = match &envelope.detail {
        Value::Null => true,
        Value::Object(detail) => detail.is_empty(),
        _ => false,
    };
    if empty_detail {
        let scheduled =
            envelope.source == "aws.events" && envelope.detail_type == "Scheduled Event";
        return Err(EventError::Shape(if scheduled {
            "this scheduled EventBridge event carries no target: a scheduled rule sends an empty `detail`. \
             Set the rule target's `Input` to the request (e.g. {\"clusterName\": \"prod\", \"nodegroupName\": \"workers\"}), \
             or use EventBridge Scheduler with that request as the schedule's input"
                .to_owned()
        } else {
            format!(
                "the EventBridge event (detail-type {:?}) has an empty `detail`: put the request (clusterName, nodegroupName, ...) in `detail`",
                envelope.detail_type
            )
        }));
    }
    let Value::Object(detail) = &envelope.detail else {
        return Err(EventError::Shape(format!(
            "the EventBridge event's `detail` must be an object holding the request, not {}",
            kind(&envelope.detail)
        )));
    };
    let request = UpdateRequest::from_json(detail).map_err(EventError::Request)?;
    // An envelope without an id (hand-made) has nothing stable across redeliveries;
    // the request id is the best identity left.
    let event_id = envelope
        .id
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| request_id.to_owned());
    Ok(Invocation {
        request,
        event_id,
        source: EventSource::EventBridge,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    fn envelope(detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "Nodegroup Update Requested",
            "source": "platform.nodegroups",
            "account": "123456789012",
            "time": "2026-11-24T01:02:03Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail
        })
    }

    #[test]
    fn bare_request_uses_the_lambda_request_id() {
        let inv = parse(
            &json!({"clusterName": "prod", "nodegroupName": "w"}),
            "req-1",
        )
        .unwrap();
        assert_eq!(inv.event_id, "req-1");
        assert_eq!(inv.source, EventSource::Direct);
        assert_eq!(inv.request.cluster().as_str(), "prod");
    }

    #[test]
    fn envelope_request_is_its_detail_and_its_id_is_the_identity() {
        let inv = parse(
            &envelope(json!({"clusterName": "prod", "nodegroupName": "w"})),
            "req-1",
        )
        .unwrap();
        assert_eq!(inv.event_id, "6a7e8feb-b491-4cf7-a9f1-bf3703467718");
        assert_eq!(inv.source, EventSource::EventBridge);
        assert_eq!(inv.request.nodegroup().as_str(), "w");
    }

    #[test]
    fn envelope_without_id_falls_back_to_the_request_id() {
        let mut event = envelope(json!({"clusterName": "prod", "nodegroupName": "w"}));
        event.as_object_mut().unwrap().remove("id");
        assert_eq!(parse(&event, "req-9").unwrap().event_id, "req-9");
    }

    #[test]
    fn scheduled_event_without_input_says_to_set_the_target_input() {
        let event = json!({
            "version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-24T00:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/weekly"], "detail": {}
        });
        let EventError::Shape(message) = parse(&event, "r").unwrap_err() else {
            panic!("expected a shape error")
        };
        assert!(message.contains("`Input`"), "{message}");
        assert!(message.contains("EventBridge Scheduler"), "{message}");
    }

    #[test]
    fn other_empty_envelopes_say_to_fill_detail() {
        let message = parse(&envelope(json!({})), "r").unwrap_err().to_string();
        assert!(message.contains("empty `detail`"), "{message}");
    }

    #[test]
    fn envelope_detail_must_be_an_object() {
        let message = parse(&envelope(json!("prod/workers")), "r")
            .unwrap_err()
            .to_string();
        assert!(message.contains("`detail` must be an object"), "{message}");
    }

    #[test]
    fn malformed_envelope_is_rejected() {
        let message = parse(&json!({"detail-type": 5, "detail": {}}), "r")
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("not a valid EventBridge event"),
            "{message}"
        );
    }

    #[test]
    fn raw_payload_keeps_malformed_json_as_an_error() {
        let good: RawPayload = serde_json::from_str(r#"{"a": 1}"#).unwrap();
        assert_eq!(good.0, Ok(json!({"a": 1})));
        for bad in ["[1,2", "{bad json}", "", "\"unterminated"] {
            let mut de = serde_json::Deserializer::from_str(bad);
            let raw = RawPayload::deserialize(&mut de).unwrap();
            assert!(raw.0.is_err(), "{bad:?}");
        }
        // Deep nesting is refused by serde_json's recursion limit, not by the stack.
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let raw = RawPayload::deserialize(&mut serde_json::Deserializer::from_str(&deep)).unwrap();
        assert!(raw.0.unwrap_err().contains("recursion limit"));
    }

    #[test]
    fn raw_payload_refuses_an_oversized_payload() {
        let big = json!({"clusterName": "prod", "nodegroupName": "w", "pad": "x".repeat(MAX_PAYLOAD_BYTES)}).to_string();
        let raw = RawPayload::deserialize(&mut serde_json::Deserializer::from_str(&big)).unwrap();
        assert!(raw.0.unwrap_err().contains("at most 64 KiB"));
        let fits = json!({"clusterName": "prod", "nodegroupName": "w", "pad": "x".repeat(60_000)})
            .to_string();
        let raw = RawPayload::deserialize(&mut serde_json::Deserializer::from_str(&fits)).unwrap();
        assert!(raw.0.is_ok());
    }

    #[test]
    fn payloads_that_are_not_objects_are_rejected() {
        for payload in [json!(null), json!([]), json!("prod"), json!(3), json!(true)] {
            let message = parse(&payload, "r").unwrap_err().to_string();
            assert!(message.contains("must be a JSON object"), "{message}");
        }
    }

    #[test]
    fn detail_field_problems_are_request_errors() {
        let err = parse(
            &envelope(json!({"clusterName": "prod", "nodeGroupName": "w"})),
            "r",
        )
        .unwrap_err();
        assert!(matches!(err, EventError::Request(_)));
        assert!(err.to_string().contains("did you mean `nodegroupName`"));
    }
}
