//! The fleet state machine's input, validated as strictly as the function's request: unknown
//! fields named with the closest known one, wrong types refused, every problem at once.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::pattern::Patterns;
use crate::core::request::{
    AccountId, FieldError, Fields, InvalidRequest, NAME_FIELDS, RequestSettings, SETTINGS_FIELDS,
    UpdateRequest, kind, quoted,
};

const FLEET_FIELDS: &[&str] = &[
    "targets",
    "selectors",
    "maxConcurrency",
    "toleratedFailurePercentage",
    "waveSoakMinutes",
    "dryRun",
];

const SELECTOR_FIELDS: &[&str] = &[
    "accounts",
    "clusters",
    "nodegroups",
    "excludeNodegroups",
    "nodegroupTags",
    "wave",
    "request",
];

/// The largest wave number.
pub const MAX_WAVE: u64 = 99;
/// The most nested update executions at a time (the distributed Map's own bound is 10,000).
pub const MAX_CONCURRENCY: u64 = 1000;
/// The longest soak between waves: a day.
pub const MAX_WAVE_SOAK_MINUTES: u64 = 1440;

/// A node group named in `targets`, with its request and wave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetTarget {
    pub request: UpdateRequest,
    pub wave: u8,
}

/// One entry of `selectors`: which node groups it finds, and what it asks of them.
#[derive(Clone, Debug)]
pub struct Selector {
    /// The accounts whose clusters it lists, each once; `None` is the function's own
    /// (the default), until [`FleetInput::in_account`] names it.
    pub accounts: Vec<Option<AccountId>>,
    pub clusters: Patterns,
    pub nodegroups: Patterns,
    pub exclude_nodegroups: Patterns,
    /// Every pair must equal the node group's tag.
    pub nodegroup_tags: BTreeMap<String, String>,
    pub wave: u8,
    pub request: RequestSettings,
}

impl Selector {
    /// Whether it names the cluster `cluster` of `account`.
    pub fn names(&self, account: Option<&AccountId>, cluster: &str) -> bool {
        self.accounts.iter().any(|a| a.as_ref() == account) && self.clusters.matches(cluster)
    }

    /// Whether a node group of a cluster this selector names is one it selects. Tags that
    /// could not be read (`None`) do not exclude it: the node group is taken, and fails
    /// with why it could not be read, rather than vanish from the roll.
    pub fn selects(&self, nodegroup: &str, tags: Option<&BTreeMap<String, String>>) -> bool {
        self.nodegroups.matches(nodegroup)
            && !self.exclude_nodegroups.matches(nodegroup)
            && tags.is_none_or(|tags| {
                self.nodegroup_tags
                    .iter()
                    .all(|(key, value)| tags.get(key) == Some(value))
            })
    }
}

/// A validated fleet input. `None` settings take the template's defaults.
#[derive(Clone, Debug)]
pub struct FleetInput {
    pub targets: Vec<FleetTarget>,
    pub selectors: Vec<Selector>,
    pub max_concurrency: Option<u16>,
    pub tolerated_failure_percentage: Option<f64>,
    pub wave_soak_minutes: u16,
    pub dry_run: bool,
}

impl FleetInput {
    pub fn from_json(payload: &Value) -> Result<Self, InvalidRequest> {
        let Value::Object(object) = payload else {
            return Err(InvalidRequest {
                cluster: None,
                nodegroup: None,
                problems: vec![FieldError {
                    field: "(input)".to_owned(),
                    problem: format!(
                        "must be a JSON object with targets or selectors, not {}",
                        kind(payload)
                    ),
                }],
            });
        };
        let mut fields = Fields::new(object);
        fields.reject_unknown(FLEET_FIELDS);
        let targets = read_list(&mut fields, "targets", read_target);
        let selectors = read_list(&mut fields, "selectors", read_selector);
        let max_concurrency = fields
            .optional_whole("maxConcurrency", 1, MAX_CONCURRENCY)
            .and_then(|n| u16::try_from(n).ok());
        let tolerated_failure_percentage =
            fields.optional_number("toleratedFailurePercentage", 0.0, 100.0);
        let wave_soak_minutes = fields
            .optional_whole("waveSoakMinutes", 0, MAX_WAVE_SOAK_MINUTES)
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or(0);
        let dry_run = fields.optional_bool("dryRun").unwrap_or(false);
        if targets.is_empty() && selectors.is_empty() && fields.problems.is_empty() {
            fields.problem(
                "targets",
                "and selectors are both empty: name at least one node group or one selector",
            );
        }
        if !fields.problems.is_empty() {
            return Err(InvalidRequest {
                cluster: None,
                nodegroup: None,
                problems: fields.problems,
            });
        }
        Ok(Self {
            targets,
            selectors,
            max_concurrency,
            tolerated_failure_percentage,
            wave_soak_minutes,
            dry_run,
        })
    }

    /// The input with the function's own account (`own`, unknown only where the invoked
    /// function's ARN did not say) named wherever the input left the account out: a target
    /// without `accountId` and a selector without `accounts` are in the function's own
    /// account, and naming it is the same as leaving it out.
    #[must_use]
    pub fn in_account(mut self, own: Option<&AccountId>) -> Self {
        for target in &mut self.targets {
            target.request = target.request.clone().or_account(own);
        }
        for selector in &mut self.selectors {
            let mut accounts: Vec<Option<AccountId>> = Vec::new();
            for account in selector.accounts.drain(..) {
                let account = account.or_else(|| own.cloned());
                if !accounts.contains(&account) {
                    accounts.push(account);
                }
            }
            selector.accounts = accounts;
        }
        self
    }

    /// Every account the selectors list clusters in, each once, in the order named.
    pub fn selector_accounts(&self) -> Vec<Option<AccountId>> {
        let mut accounts = Vec::new();
        for account in self.selectors.iter().flat_map(|s| &s.accounts) {
            if !accounts.contains(account) {
                accounts.push(account.clone());
            }
        }
        accounts
    }
}

/// Reads each object of an array field with `read`, every problem under its index.
fn read_list<'a, T>(
    fields: &mut Fields<'a>,
    field: &str,
    read: impl Fn(&mut Fields<'a>) -> Option<T>,
) -> Vec<T> {
    let Some(items) = fields.optional_array(field) else {
        return Vec::new();
    };
    let mut read_items = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let Value::Object(object) = item else {
            fields.problem(&path, format!("must be an object, not {}", kind(item)));
            continue;
        };
        let mut nested: Fields<'a> = fields.nested(object, &path);
        if let Some(value) = read(&mut nested) {
            read_items.push(value);
        }
        fields.absorb(nested);
    }
    read_items
}

fn read_wave(fields: &mut Fields<'_>) -> u8 {
    fields
        .optional_whole("wave", 0, MAX_WAVE)
        .and_then(|n| u8::try_from(n).ok())
        .unwrap_or(0)
}

/// A target: the function's request plus `wave`.
fn read_target(fields: &mut Fields<'_>) -> Option<FleetTarget> {
    fields.reject_unknown(&[NAME_FIELDS, SETTINGS_FIELDS, &["wave"]].concat());
    let wave = read_wave(fields);
    let request = UpdateRequest::read(fields)?;
    Some(FleetTarget { request, wave })
}

fn read_selector(fields: &mut Fields<'_>) -> Option<Selector> {
    fields.reject_unknown(SELECTOR_FIELDS);
    let accounts = read_accounts(fields);
    let clusters = match fields.optional_strings("clusters") {
        Some(patterns) if !patterns.is_empty() => Patterns::parse(fields, "clusters", &patterns),
        Some(_) => {
            fields.problem("clusters", "must name at least one cluster pattern");
            None
        }
        None => {
            fields.problem(
                "clusters",
                "is required (glob patterns of cluster names, like \"prod-*\")",
            );
            None
        }
    };
    let nodegroups = match fields.optional_strings("nodegroups") {
        Some(patterns) if !patterns.is_empty() => Patterns::parse(fields, "nodegroups", &patterns),
        Some(_) => {
            fields.problem(
                "nodegroups",
                "must name at least one pattern (\"*\" for every node group)",
            );
            None
        }
        None => Patterns::parse(fields, "nodegroups", &["*"]),
    };
    let excluded = fields
        .optional_strings("excludeNodegroups")
        .unwrap_or_default();
    let exclude_nodegroups = Patterns::parse(fields, "excludeNodegroups", &excluded);
    let nodegroup_tags = read_tags(fields);
    let wave = read_wave(fields);
    let request = match fields.optional_object("request") {
        Some(object) => {
            let mut nested = fields.nested(object, "request");
            nested.reject_unknown(SETTINGS_FIELDS);
            let settings = RequestSettings::read(&mut nested);
            fields.absorb(nested);
            settings
        }
        None => RequestSettings::default(),
    };
    Some(Selector {
        accounts: accounts?,
        clusters: clusters?,
        nodegroups: nodegroups?,
        exclude_nodegroups: exclude_nodegroups?,
        nodegroup_tags,
        wave,
        request,
    })
}

/// `accounts`: account ids, each once; absent, the function's own.
fn read_accounts(fields: &mut Fields<'_>) -> Option<Vec<Option<AccountId>>> {
    let Some(given) = fields.optional_strings("accounts") else {
        // Absent (or not an array, already a problem): the function's own account.
        return Some(vec![None]);
    };
    if given.is_empty() {
        fields.problem(
            "accounts",
            "must name at least one account id (leave it out for the function's own account)",
        );
        return None;
    }
    let mut accounts = Vec::new();
    for (i, text) in given.iter().enumerate() {
        match AccountId::parse(text) {
            Ok(account) if !accounts.contains(&Some(account.clone())) => {
                accounts.push(Some(account));
            }
            Ok(_) => {}
            Err(problem) => fields.problem(&format!("accounts[{i}]"), problem),
        }
    }
    Some(accounts)
}

/// `nodegroupTags`: an object of string values.
fn read_tags(fields: &mut Fields<'_>) -> BTreeMap<String, String> {
    let Some(object) = fields.optional_object("nodegroupTags") else {
        return BTreeMap::new();
    };
    let object: &Map<String, Value> = object;
    let mut tags = BTreeMap::new();
    for (key, value) in object {
        match value {
            Value::String(text) => {
                tags.insert(key.clone(), text.clone());
            }
            other => fields.problem(
                &format!("nodegroupTags.{}", quoted(key)),
                format!(
                    "must be a string (tag values are strings), not {}",
                    kind(other)
                ),
            ),
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn problems(value: Value) -> Vec<String> {
        match FleetInput::from_json(&value) {
            Ok(_) => panic!("{value} should be refused"),
            Err(invalid) => invalid.problems.iter().map(ToString::to_string).collect(),
        }
    }

    fn has(problems: &[String], field: &str, needle: &str) -> bool {
        problems
            .iter()
            .any(|p| p.starts_with(&format!("`{field}`")) && p.contains(needle))
    }

    #[test]
    fn the_documented_example_is_read() {
        let fleet = FleetInput::from_json(&json!({
            "targets": [{"clusterName": "prod-eu", "nodegroupName": "system", "version": "cluster", "wave": 0}],
            "selectors": [{"clusters": ["prod-*"], "nodegroups": ["*"], "excludeNodegroups": ["gpu-*"],
                           "nodegroupTags": {"team": "web"}, "wave": 1,
                           "request": {"version": "cluster", "minReleaseAgeDays": 7}}],
            "maxConcurrency": 5,
            "toleratedFailurePercentage": 10,
            "waveSoakMinutes": 30,
            "dryRun": false
        }))
        .unwrap();
        assert_eq!(fleet.targets.len(), 1);
        assert_eq!(fleet.targets[0].wave, 0);
        let selector = &fleet.selectors[0];
        assert_eq!(selector.wave, 1);
        assert!(selector.selects(
            "web",
            Some(&BTreeMap::from([("team".into(), "web".into())]))
        ));
        assert!(!selector.selects(
            "gpu-a",
            Some(&BTreeMap::from([("team".into(), "web".into())]))
        ));
        assert_eq!(fleet.max_concurrency, Some(5));
        assert_eq!(fleet.tolerated_failure_percentage, Some(10.0));
        assert_eq!(fleet.wave_soak_minutes, 30);
        assert!(!fleet.dry_run);
    }

    #[test]
    fn defaults_leave_the_template_to_decide() {
        let fleet = FleetInput::from_json(&json!({"selectors": [{"clusters": ["*"]}]})).unwrap();
        assert_eq!(fleet.max_concurrency, None);
        assert_eq!(fleet.tolerated_failure_percentage, None);
        assert_eq!(fleet.wave_soak_minutes, 0);
        assert_eq!(fleet.selectors[0].wave, 0);
        assert!(fleet.selectors[0].selects("any", Some(&BTreeMap::new())));
    }

    #[test]
    fn every_problem_is_named_at_once_with_its_path() {
        let found = problems(json!({
            "target": [],
            "targets": [
                {"clusterName": "prod", "nodegroupName": "a", "wave": 100},
                {"clusterName": "prod", "nodeGroupName": "b"},
                "prod/c"
            ],
            "selectors": [
                {"clusters": [], "request": {"clusterName": "x", "force": "true"}},
                {"nodegroups": ["a b"], "nodegroupTags": {"team": 1}, "wave": -1}
            ],
            "maxConcurrency": 0,
            "toleratedFailurePercentage": 101,
            "waveSoakMinutes": 1441,
            "dryRun": "no"
        }));
        let expected = [
            ("target", "did you mean `targets`?"),
            ("targets[0].wave", "from 0 to 99"),
            (
                "targets[1].nodeGroupName",
                "did you mean `targets[1].nodegroupName`?",
            ),
            ("targets[1].nodegroupName", "is required"),
            ("targets[2]", "must be an object, not a string"),
            ("selectors[0].clusters", "at least one"),
            ("selectors[0].request.clusterName", "is not a known field"),
            ("selectors[0].request.force", "must be true or false"),
            ("selectors[1].clusters", "is required"),
            ("selectors[1].nodegroups[0]", "wildcards"),
            ("selectors[1].nodegroupTags.\"team\"", "must be a string"),
            ("selectors[1].wave", "from 0 to 99"),
            ("maxConcurrency", "from 1 to 1000"),
            ("toleratedFailurePercentage", "from 0 to 100"),
            ("waveSoakMinutes", "from 0 to 1440"),
            ("dryRun", "must be true or false"),
        ];
        for (field, needle) in expected {
            assert!(
                has(&found, field, needle),
                "no `{field}` {needle:?} in {found:#?}"
            );
        }
        assert_eq!(found.len(), expected.len(), "{found:#?}");
    }

    #[test]
    fn accounts_are_account_ids_each_once_and_default_to_its_own() {
        let found = problems(json!({"selectors": [
            {"accounts": ["222233334444", "2222", 5], "clusters": ["*"]},
            {"accounts": [], "clusters": ["*"]},
            {"acounts": ["222233334444"], "clusters": ["*"]}
        ], "targets": [{"accountId": "12", "clusterName": "c", "nodegroupName": "n"}]}));
        assert!(has(&found, "selectors[0].accounts[1]", "12 digits"));
        assert!(has(&found, "selectors[0].accounts[2]", "must be a string"));
        assert!(has(&found, "selectors[1].accounts", "at least one account"));
        assert!(has(&found, "selectors[2].acounts", "selectors[2].accounts"));
        assert!(has(&found, "targets[0].accountId", "12 digits"));

        let own = AccountId::parse("111111111111").unwrap();
        let fleet = FleetInput::from_json(&json!({"selectors": [
            {"clusters": ["*"]},
            {"accounts": ["222233334444", "111111111111", "222233334444"], "clusters": ["*"]}
        ], "targets": [{"clusterName": "c", "nodegroupName": "n"}]}))
        .unwrap();
        assert_eq!(fleet.selectors[0].accounts, vec![None]);
        let fleet = fleet.in_account(Some(&own));
        let other = AccountId::parse("222233334444").unwrap();
        assert_eq!(fleet.selectors[0].accounts, vec![Some(own.clone())]);
        assert_eq!(
            fleet.selectors[1].accounts,
            vec![Some(other.clone()), Some(own.clone())]
        );
        assert_eq!(
            fleet.selector_accounts(),
            vec![Some(own.clone()), Some(other)]
        );
        assert_eq!(fleet.targets[0].request.account(), Some(&own));
    }

    #[test]
    fn an_empty_roll_or_a_non_object_is_refused() {
        assert!(has(&problems(json!({})), "targets", "name at least one"));
        assert!(has(
            &problems(json!({"targets": [], "selectors": []})),
            "targets",
            "name at least one"
        ));
        assert!(has(
            &problems(json!([1])),
            "(input)",
            "must be a JSON object"
        ));
    }

    #[test]
    fn wrong_types_are_refused_not_guessed() {
        let found = problems(json!({"targets": {}, "selectors": "prod-*", "maxConcurrency": "5"}));
        assert!(has(&found, "targets", "must be an array"));
        assert!(has(&found, "selectors", "must be an array"));
        assert!(has(&found, "maxConcurrency", "not a string"));
    }
}
