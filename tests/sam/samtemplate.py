"""Read template.yaml's state machines and render their definitions as the template deploys them.

A state machine in template.yaml has `DefinitionUri` (a file in statemachine/) and
`DefinitionSubstitutions`; at deploy time every `${Key}` of the file is replaced by the
substitution's value. `render()` does the same with values given by the caller (tests pass local
ARNs and short waits), and refuses a key the template does not have, a key the caller left out,
or a `${...}` left in the file: the local executions run exactly the deployed definitions.

Other resources are read the same way: `evaluate()` resolves the intrinsic functions the template
uses (Ref, Fn::GetAtt, Fn::Sub, Fn::If, Fn::Join, Fn::Select, Fn::Split) for parameter values
that `parameter_values()` checks against the template's constraints, and refuses any other
intrinsic function; `resource_properties()` gives a resource's Properties as deployed and refuses a
resource whose Condition leaves it out.

`python tests/sam/samtemplate.py OUTDIR` writes every definition rendered with the template's
defaults (parameters' `Default`, placeholder ARNs) to OUTDIR, for asl-validator.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
# The role the stack's functions and update state machine assume in other accounts, deployed
# there (a StackSet): plain CloudFormation, read with the same loader and evaluate().
TARGET_ROLE_TEMPLATE = ROOT / "target-account-role.yaml"
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) as {"Fn::X": ...}."""


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with open(path) as f:
        return yaml.load(f, Loader=_CfnLoader)


@dataclass(frozen=True)
class StateMachine:
    logical_id: str
    definition_path: Path
    substitutions: dict[str, Any]  # key -> the template's (unresolved) value

    @property
    def definition_text(self) -> str:
        return self.definition_path.read_text()

    def render(self, values: dict[str, Any]) -> str:
        """The definition with every ${Key} replaced, as SAM/CloudFormation would deploy it."""
        wanted, given = set(self.substitutions), set(values)
        if wanted != given:
            raise ValueError(
                f"{self.logical_id}: substitutions given {sorted(given)} but the template has {sorted(wanted)}"
            )
        text = self.definition_text
        used = set(PLACEHOLDER.findall(text))
        if used - wanted:
            raise ValueError(
                f"{self.logical_id}: {self.definition_path.name} uses {sorted(used - wanted)}, "
                "which the template's DefinitionSubstitutions do not define"
            )
        if wanted - used:
            raise ValueError(
                f"{self.logical_id}: DefinitionSubstitutions {sorted(wanted - used)} unused by "
                f"{self.definition_path.name}"
            )
        rendered = PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)
        json.loads(rendered)  # must be JSON once substituted
        return rendered


def state_machines(template: dict[str, Any] | None = None) -> dict[str, StateMachine]:
    template = template or load_template()
    found = {}
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::StateMachine":
            continue
        props = res["Properties"]
        uri = props["DefinitionUri"]
        if not isinstance(uri, str):
            raise ValueError(f"{logical_id}: DefinitionUri must be a local file path")
        found[logical_id] = StateMachine(logical_id, ROOT / uri, dict(props.get("DefinitionSubstitutions", {})))
    return found


def parameter_defaults(template: dict[str, Any] | None = None) -> dict[str, Any]:
    template = template or load_template()
    return {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}


def condition_holds(name: str, template: dict[str, Any], values: dict[str, Any]) -> bool:
    """A template condition, evaluated with parameter values (Equals, Not, And, Or, Condition).
    Fn::Equals compares what evaluate() makes of its two values (a Ref, or the Fn::Select of an
    Fn::Split of an Fn::Sub CloudFormation allows there)."""

    def value(v: Any) -> Any:
        if isinstance(v, dict) and set(v) == {"Ref"}:
            return str(values.get(v["Ref"], ""))
        if isinstance(v, dict) and len(v) == 1 and next(iter(v)).startswith("Fn::"):
            return str(evaluate(v, template, values))
        return str(v) if not isinstance(v, dict) else v

    def holds(expr: Any) -> bool:
        ((fn, arg),) = expr.items()
        if fn == "Fn::Equals":
            return value(arg[0]) == value(arg[1])
        if fn == "Fn::Not":
            return not holds(arg[0])
        if fn == "Fn::And":
            return all(holds(a) for a in arg)
        if fn == "Fn::Or":
            return any(holds(a) for a in arg)
        if fn == "Condition":
            return holds(template["Conditions"][arg])
        raise ValueError(f"condition {name}: cannot evaluate {fn}")

    return holds(template["Conditions"][name])


# The pseudo parameters, as the local stack has them.
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "eks-nodegroup-updater",
    "AWS::URLSuffix": "amazonaws.com",
}
# What Ref AWS::NoValue leaves in a list or a mapping: nothing (evaluate() drops it).
_NO_VALUE = object()


class UnresolvedValue(ValueError):
    """evaluate() met what it cannot resolve: an intrinsic function it does not know, a Ref to a
    name without a value, an argument of the wrong shape. Nothing is left half-resolved."""


def parameter_values(given: dict[str, Any], template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stack's parameter values, as CloudFormation takes them: `given` over the Defaults.
    Refuses a name the template does not declare, a parameter left without a value, and a value
    its AllowedPattern (matched whole; for a CommaDelimitedList, each member), AllowedValues,
    Min/MaxLength or Min/MaxValue refuse."""
    template = template or load_template()
    declared = template.get("Parameters", {})
    if unknown := set(given) - set(declared):
        raise UnresolvedValue(f"parameters {sorted(unknown)} are not declared by the template")
    values = {}
    for name, spec in declared.items():
        value = given.get(name, spec.get("Default"))
        if value is None:
            raise UnresolvedValue(f"parameter {name} has no default and was not given")
        text = str(value)
        problem = None
        members = _members(value) if spec.get("Type") == "CommaDelimitedList" else [text]
        if "AllowedPattern" in spec and not all(re.fullmatch(spec["AllowedPattern"], m) for m in members):
            problem = f"does not match its AllowedPattern {spec['AllowedPattern']}"
        elif "AllowedValues" in spec and text not in [str(v) for v in spec["AllowedValues"]]:
            problem = f"is not one of its AllowedValues {spec['AllowedValues']}"
        elif not spec.get("MinLength", 0) <= len(text) <= spec.get("MaxLength", len(text)):
            problem = "is outside its MinLength/MaxLength"
        elif spec.get("Type") == "Number":
            try:
                number = float(text)
            except ValueError:
                problem = "is not a number"
            else:
                if not spec.get("MinValue", number) <= number <= spec.get("MaxValue", number):
                    problem = "is outside its MinValue/MaxValue"
        if problem:
            raise UnresolvedValue(f"parameter {name}={text!r} {problem}")
        values[name] = value
    return values


def _members(value: Any) -> list[str]:
    """A CommaDelimitedList's members, as CloudFormation splits (and space-trims) them."""
    return [str(m).strip() for m in value] if isinstance(value, list) else [m.strip() for m in str(value).split(",")]


def evaluate(
    value: Any,
    template: dict[str, Any],
    parameters: dict[str, Any],
    resources: dict[str, Any] | None = None,
) -> Any:
    """`value`, a part of the template, with its intrinsic functions evaluated as CloudFormation
    would for these parameter values (parameter_values() checks them; a parameter missing or None
    here is refused where it is referred to).

    Known: Ref (parameters, a CommaDelimitedList's as its list, PSEUDO_PARAMETERS unless
    `parameters` gives them, and resources; AWS::NoValue leaves nothing in a list or mapping),
    Fn::GetAtt, Fn::Sub (a string, or
    [string, {variable: value}]; ${!Literal} becomes ${Literal}), Fn::If (on the template's
    Conditions, condition_holds(); the branch not taken is not evaluated), Fn::Join, Fn::Select,
    Fn::Split. A resource's value comes from `resources`: "LogicalId" for its Ref,
    "LogicalId.Attribute" for Fn::GetAtt. Anything else written as an intrinsic function (a
    one-key mapping whose key is Ref or Fn::*) raises UnresolvedValue; other mappings and lists
    are evaluated member by member."""
    resources = resources or {}
    declared = template.get("Parameters", {})

    def ref(name: str) -> Any:
        if name in declared:
            if parameters.get(name) is None:
                raise UnresolvedValue(f"Ref {name}: the parameter has no value")
            if declared[name].get("Type") == "CommaDelimitedList":
                return _members(parameters[name])
            return parameters[name]
        if name in PSEUDO_PARAMETERS:
            return parameters.get(name, PSEUDO_PARAMETERS[name])
        if name == "AWS::NoValue":
            return _NO_VALUE
        return resource(name)

    def resource(key: str) -> Any:
        if key.split(".", 1)[0] not in template.get("Resources", {}):
            raise UnresolvedValue(f"{key}: neither a parameter, a pseudo parameter nor a resource of the template")
        if key not in resources:
            raise UnresolvedValue(f"{key}: a resource's value, which the caller did not give")
        return resources[key]

    def text(v: Any, where: str) -> str:
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise UnresolvedValue(f"{where}: {v!r} is not a string")
        return str(v)

    def ev(v: Any) -> Any:
        if isinstance(v, list):
            return [x for x in map(ev, v) if x is not _NO_VALUE]
        if not isinstance(v, dict):
            return v
        ((fn, arg),) = v.items() if len(v) == 1 else ((None, None),)
        if fn is None or fn != "Ref" and not fn.startswith("Fn::"):
            return {k: x for k, x in ((k, ev(x)) for k, x in v.items()) if x is not _NO_VALUE}
        if fn == "Ref":
            return ref(text(arg, "Ref"))
        if fn == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts)):
                raise UnresolvedValue(f"Fn::GetAtt {arg!r}: not [resource, attribute]")
            return resource(".".join(parts))
        if fn == "Fn::Sub":
            if isinstance(arg, str):
                body, variables = arg, {}
            elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
                body, variables = arg[0], {k: ev(x) for k, x in arg[1].items()}
            else:
                raise UnresolvedValue(f"Fn::Sub {arg!r}: not a string nor [string, variables]")

            def variable(m: re.Match[str]) -> str:
                name = m.group(1)
                if name.startswith("!"):
                    return "${" + name[1:] + "}"
                if name in variables:
                    return text(variables[name], f"Fn::Sub ${{{name}}}")
                return text(resource(name) if "." in name else ref(name), f"Fn::Sub ${{{name}}}")

            return PLACEHOLDER.sub(variable, body)
        if fn == "Fn::If":
            if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
                raise UnresolvedValue(f"Fn::If {arg!r}: not [condition, if true, if false]")
            if arg[0] not in template.get("Conditions", {}):
                raise UnresolvedValue(f"Fn::If: no condition {arg[0]} in the template")
            holds = condition_holds(arg[0], template, {**PSEUDO_PARAMETERS, **parameters})
            return ev(arg[1] if holds else arg[2])
        if fn == "Fn::Join":
            if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
                raise UnresolvedValue(f"Fn::Join {arg!r}: not [delimiter, list]")
            items = ev(arg[1])
            if not isinstance(items, list):
                raise UnresolvedValue(f"Fn::Join: {items!r} is not a list")
            return arg[0].join(text(x, "Fn::Join") for x in items)
        if fn == "Fn::Select":
            if not (isinstance(arg, list) and len(arg) == 2):
                raise UnresolvedValue(f"Fn::Select {arg!r}: not [index, list]")
            index, items = ev(arg[0]), ev(arg[1])
            if not isinstance(items, list):
                raise UnresolvedValue(f"Fn::Select: {items!r} is not a list")
            if not (type(index) is int and index >= 0 or isinstance(index, str) and index.isdigit()) or int(
                index
            ) >= len(items):
                raise UnresolvedValue(f"Fn::Select: no item {index!r} in {items!r}")
            return items[int(index)]
        if fn == "Fn::Split":
            if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and arg[0]):
                raise UnresolvedValue(f"Fn::Split {arg!r}: not [delimiter, string]")
            return text(ev(arg[1]), "Fn::Split").split(arg[0])
        raise UnresolvedValue(f"cannot evaluate {fn} ({v!r})")

    result = ev(value)
    if result is _NO_VALUE:
        raise UnresolvedValue("AWS::NoValue: nothing to evaluate to outside a list or a mapping")
    return result


def resource_properties(
    logical_id: str,
    parameters: dict[str, Any],
    template: dict[str, Any] | None = None,
    resources: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A resource's Properties as the stack deploys them for these parameter values (evaluate()).
    Refuses a resource whose Condition does not hold: CloudFormation would not create it."""
    template = template or load_template()
    res = template["Resources"][logical_id]
    condition = res.get("Condition")
    if condition and not condition_holds(condition, template, {**PSEUDO_PARAMETERS, **parameters}):
        raise UnresolvedValue(f"{logical_id}: its condition {condition} does not hold, so it is not created")
    return evaluate(res.get("Properties", {}), template, parameters, resources)


# What a Ref to a resource of these types gives, for placeholder values.
_REF_PLACEHOLDER = {
    "AWS::Serverless::StateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:{}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:{}",
    "AWS::SNS::Topic": "arn:aws:sns:us-east-1:123456789012:{}",
    "AWS::S3::Bucket": "{}",
}
# What Fn::GetAtt of these types' Arn gives, for placeholder values.
_ARN_PLACEHOLDER = {
    "AWS::Serverless::Function": "arn:aws:lambda:us-east-1:123456789012:function:{}",
}


def placeholder_resources(template: dict[str, Any]) -> dict[str, Any]:
    """evaluate()'s `resources` with placeholder values: the Ref of the types in _REF_PLACEHOLDER
    (a bucket's name is its logical id in lower case) and the Arn of those in _ARN_PLACEHOLDER."""
    found: dict[str, Any] = {}
    for name, res in template["Resources"].items():
        if (placeholder := _REF_PLACEHOLDER.get(res.get("Type", ""))) is not None:
            found[name] = placeholder.format(name.lower() if placeholder == "{}" else name)
        if (placeholder := _ARN_PLACEHOLDER.get(res.get("Type", ""))) is not None:
            found[f"{name}.Arn"] = placeholder.format(name)
    return found


def default_values(sm: StateMachine, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """Substitution values with the parameters' defaults and placeholder ARNs (for validation).
    A condition (Fn::If) is evaluated with the parameters' defaults."""
    template = template or load_template()
    defaults, resources = parameter_defaults(template), placeholder_resources(template)
    return {k: evaluate(v, template, defaults, resources) for k, v in sm.substitutions.items()}


def mutations_reported(title: str, failures: list[str], outcomes: list[tuple[str, list[str], str]]) -> int:
    """The end of a check's --self-test: each (mutation, problems reported, needle) must have a
    problem holding the needle; `failures` are the self-test's own earlier findings. Prints
    what was reported and returns the exit code."""
    for name, problems, needle in outcomes:
        if any(needle in p for p in problems):
            print(f"self-test: {name}: reported")
        else:
            failures.append(f"{name}: not reported (wanted {needle!r}; got {problems})")
    if failures:
        print(f"{title} self-test failed:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"{title} self-test: {len(outcomes)} mutations, each reported")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    template = load_template()
    for sm in state_machines(template).values():
        target = out / sm.definition_path.name
        target.write_text(sm.render(default_values(sm, template)))
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
