//! Reading the fields of one JSON object strictly: every problem collected (unknown
//! fields named with the closest known one, wrong JSON types refused, never guessed), so a
//! user fixes a request in one go. Shared by every input the function validates.

use std::fmt;

use serde_json::{Map, Value};

/// A request field problem: the field's path and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.field, self.problem)
    }
}

/// How many problems one message lists: enough for any honest request, and a bound on
/// the message for a hostile one with thousands of unknown fields.
const MAX_PROBLEMS_SHOWN: usize = 10;

/// Every field problem of one request, so a user fixes them in one go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidRequest {
    /// `clusterName` and `nodegroupName` as given, when they were readable strings,
    /// so the message can say which node group the bad request was for.
    pub cluster: Option<String>,
    pub nodegroup: Option<String>,
    pub problems: Vec<FieldError>,
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid request")?;
        match (&self.cluster, &self.nodegroup) {
            (Some(c), Some(n)) => write!(f, " for cluster '{c}', node group '{n}'")?,
            (Some(c), None) => write!(f, " for cluster '{c}'")?,
            (None, Some(n)) => write!(f, " for node group '{n}'")?,
            (None, None) => {}
        }
        f.write_str(": ")?;
        for (i, problem) in self.problems.iter().take(MAX_PROBLEMS_SHOWN).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        if self.problems.len() > MAX_PROBLEMS_SHOWN {
            write!(
                f,
                "; and {} more problems",
                self.problems.len() - MAX_PROBLEMS_SHOWN
            )?;
        }
        Ok(())
    }
}

/// Reads fields of one JSON object and collects what is wrong with them.
pub(crate) struct Fields<'a> {
    object: &'a Map<String, Value>,
    /// The path of this object in the input (`launchTemplate.`, `targets[2].`), for messages.
    prefix: String,
    pub(crate) problems: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(object: &'a Map<String, Value>) -> Self {
        Self {
            object,
            prefix: String::new(),
            problems: Vec::new(),
        }
    }

    /// The fields of an object inside this one, at `path` (`launchTemplate`,
    /// `targets[2]`); its problems come back with [`Fields::absorb`].
    pub(crate) fn nested<'b>(&self, object: &'b Map<String, Value>, path: &str) -> Fields<'b> {
        Fields {
            object,
            prefix: format!("{}{path}.", self.prefix),
            problems: Vec::new(),
        }
    }

    /// Takes over the problems of a nested object.
    pub(crate) fn absorb(&mut self, mut nested: Fields<'_>) {
        self.problems.append(&mut nested.problems);
    }

    pub(crate) fn problem(&mut self, field: &str, problem: impl Into<String>) {
        let problem = problem.into();
        let path = if field.is_empty() {
            self.prefix.trim_end_matches('.').to_owned()
        } else {
            format!("{}{field}", self.prefix)
        };
        self.problems.push(FieldError {
            field: path,
            problem,
        });
    }

    pub(crate) fn reject_unknown(&mut self, known: &[&str]) {
        let prefix = self.prefix.clone();
        for key in self.object.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            let hint = match closest(key, known) {
                Some(suggestion) => {
                    format!("is not a known field (did you mean `{prefix}{suggestion}`?)")
                }
                None => format!("is not a known field (known: {})", known.join(", ")),
            };
            self.problems.push(FieldError {
                field: format!("{prefix}{}", printable(key)),
                problem: hint,
            });
        }
    }

    /// The value of a field, with JSON `null` read as absent: Step Functions and
    /// templating tools often write `null` for "not set".
    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.object.get(field).filter(|value| !value.is_null())
    }

    pub(crate) fn required_str(&mut self, field: &str) -> Option<&'a str> {
        if self.get(field).is_none() {
            self.problem(field, "is required".to_owned());
            return None;
        }
        self.optional_str(field)
    }

    pub(crate) fn optional_str(&mut self, field: &str) -> Option<&'a str> {
        match self.get(field)? {
            Value::String(text) => Some(text),
            // A number where a string is expected is the most common slip; show the fix.
            Value::Number(n) => {
                self.problem(field, format!("must be a string: write \"{n}\", not {n}"));
                None
            }
            other => {
                self.problem(field, format!("must be a string, not {}", kind(other)));
                None
            }
        }
    }

    /// A required string field, parsed: `parse` says what is wrong when it does not parse.
    pub(crate) fn required_parsed<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let text = self.required_str(field)?;
        parse(text)
            .map_err(|problem| self.problem(field, problem))
            .ok()
    }

    /// An optional string field, parsed: `parse` says what is wrong when it does not parse.
    pub(crate) fn optional_parsed<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let text = self.optional_str(field)?;
        parse(text)
            .map_err(|problem| self.problem(field, problem))
            .ok()
    }

    pub(crate) fn optional_bool(&mut self, field: &str) -> Option<bool> {
        match self.get(field)? {
            Value::Bool(flag) => Some(*flag),
            other => {
                self.problem(
                    field,
                    format!(
                        "must be true or false (a JSON boolean), not {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    pub(crate) fn optional_u64(&mut self, field: &str) -> Option<u64> {
        match self.get(field)? {
            Value::Number(n) if n.as_u64().is_some() => n.as_u64(),
            other => {
                self.problem(
                    field,
                    format!("must be a whole number from 0 to 365, not {}", kind(other)),
                );
                None
            }
        }
    }

    /// A whole number from `min` to `max`.
    pub(crate) fn optional_whole(&mut self, field: &str, min: u64, max: u64) -> Option<u64> {
        match self.get(field)? {
            Value::Number(n) => match n.as_u64() {
                Some(value) if (min..=max).contains(&value) => Some(value),
                _ => {
                    self.problem(
                        field,
                        format!("must be a whole number from {min} to {max}; got {n}"),
                    );
                    None
                }
            },
            other => {
                self.problem(
                    field,
                    format!(
                        "must be a whole number from {min} to {max}, not {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    /// A number (fractions allowed) from `min` to `max`.
    pub(crate) fn optional_number(&mut self, field: &str, min: f64, max: f64) -> Option<f64> {
        match self.get(field)? {
            Value::Number(n) => match n.as_f64() {
                Some(value) if (min..=max).contains(&value) => Some(value),
                _ => {
                    self.problem(
                        field,
                        format!("must be a number from {min} to {max}; got {n}"),
                    );
                    None
                }
            },
            other => {
                self.problem(
                    field,
                    format!("must be a number from {min} to {max}, not {}", kind(other)),
                );
                None
            }
        }
    }

    pub(crate) fn optional_array(&mut self, field: &str) -> Option<&'a Vec<Value>> {
        match self.get(field)? {
            Value::Array(items) => Some(items),
            other => {
                self.problem(field, format!("must be an array, not {}", kind(other)));
                None
            }
        }
    }

    /// An array of strings; each item that is not one is a problem of its own.
    pub(crate) fn optional_strings(&mut self, field: &str) -> Option<Vec<&'a str>> {
        let items = self.optional_array(field)?;
        let mut strings = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(text) => strings.push(text.as_str()),
                other => self.problem(
                    &format!("{field}[{i}]"),
                    format!("must be a string, not {}", kind(other)),
                ),
            }
        }
        Some(strings)
    }

    pub(crate) fn optional_object(&mut self, field: &str) -> Option<&'a Map<String, Value>> {
        match self.get(field)? {
            Value::Object(object) => Some(object),
            other => {
                self.problem(field, format!("must be an object, not {}", kind(other)));
                None
            }
        }
    }

    pub(crate) fn into_error(self) -> InvalidRequest {
        let readable = |field: &str| match self.object.get(field) {
            Some(Value::String(text)) if text.len() <= 100 => Some(printable(text)),
            _ => None,
        };
        InvalidRequest {
            cluster: readable("clusterName"),
            nodegroup: readable("nodegroupName"),
            problems: self.problems,
        }
    }
}

/// The known field closest to an unknown one, when it is close enough to be a slip:
/// same letters in another case (`nodeGroupName`), or a small edit away (`clustername`,
/// `relaseVersion`).
pub fn closest<'k>(unknown: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = unknown.to_ascii_lowercase();
    known
        .iter()
        .map(|candidate| {
            let score =
                strsim::normalized_damerau_levenshtein(&lower, &candidate.to_ascii_lowercase());
            (candidate, score)
        })
        .filter(|(_, score)| *score >= 0.6)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(candidate, _)| *candidate)
}

/// The JSON type of a value, as a user would name it in an error message.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "a number",
        Value::Number(_) => "a fractional number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A user's text quoted for a message, shortened and with control characters escaped so a
/// hostile value cannot forge log lines or flood a message.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", printable(text))
}

fn printable(text: &str) -> String {
    const LIMIT: usize = 80;
    let mut out: String = text
        .chars()
        .take(LIMIT)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().count() > LIMIT {
        out.push('…');
    }
    out
}
