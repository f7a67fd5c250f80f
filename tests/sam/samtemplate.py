"""Read template.yaml's state machines and render their definitions as the template deploys them.

A state machine in template.yaml has `DefinitionUri` (a file in statemachine/) and
`DefinitionSubstitutions`; at deploy time every `${Key}` of the file is replaced by the
substitution's value. `render()` does the same with values given by the caller (tests pass local
ARNs and short waits), and refuses a key the template does not have, a key the caller left out,
or a `${...}` left in the file: the local executions run exactly the deployed definitions.

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
    """A template condition, evaluated with parameter values (Equals, Not, And, Or, Condition)."""

    def value(v: Any) -> Any:
        if isinstance(v, dict) and "Ref" in v:
            return str(values.get(v["Ref"], ""))
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


# What a Ref to a resource of these types gives, for placeholder values.
_REF_PLACEHOLDER = {
    "AWS::Serverless::StateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:{}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:{}",
    "AWS::SNS::Topic": "arn:aws:sns:us-east-1:123456789012:{}",
    "AWS::S3::Bucket": "{}",
}


def default_values(sm: StateMachine, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """Substitution values with the parameters' defaults and placeholder ARNs (for validation).
    A condition (Fn::If) is evaluated with the parameters' defaults."""
    template = template or load_template()
    defaults = parameter_defaults(template)
    pseudo = {
        "AWS::Partition": "aws",
        "AWS::Region": "us-east-1",
        "AWS::AccountId": "123456789012",
        "AWS::StackName": "eks-nodegroup-updater",
    }
    resources = template["Resources"]

    def resolve(value: Any) -> Any:
        if isinstance(value, (str, int, float)):
            return value
        if "Ref" in value:
            name = value["Ref"]
            if name in pseudo:
                return pseudo[name]
            if name in defaults:
                if defaults[name] is None:
                    raise ValueError(f"parameter {name} has no default")
                return defaults[name]
            placeholder = _REF_PLACEHOLDER.get(resources.get(name, {}).get("Type", ""))
            if placeholder is None:
                raise ValueError(f"cannot resolve a Ref to {name}")
            return placeholder.format(name.lower() if "{}" == placeholder else name)
        if "Fn::GetAtt" in value:
            res, attr = value["Fn::GetAtt"]
            if attr == "Arn":
                return f"arn:aws:lambda:us-east-1:123456789012:function:{res}"
            return res
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]
            return PLACEHOLDER.sub(
                lambda m: str(resolve({"Ref": m.group(1)}) if "." not in m.group(1) else m.group(1).split(".")[0]), text
            )
        if "Fn::If" in value:
            name, if_true, if_false = value["Fn::If"]
            return resolve(if_true if condition_holds(name, template, defaults) else if_false)
        raise ValueError(f"cannot resolve {value!r}")

    return {k: resolve(v) for k, v in sm.substitutions.items()}


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
