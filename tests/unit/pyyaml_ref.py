#!/usr/bin/env python3
"""Reference reading of SKILL.md frontmatters with PyYAML, for
test_frontmatter.c's comparison.

stdin: a JSON array of frontmatter texts (what lies between the "---"
lines). stdout: a JSON array with, for each, the value nemo-mcp must give
or {"error": "..."} when PyYAML refuses it.

PyYAML builds the node graph (yaml.compose: the parsing, folding, escapes,
nesting); the typing rules are then nemo-mcp's, applied to the nodes:
block-context scalars stay strings, an empty plain scalar is null, plain
scalars inside flow collections resolve by YAML 1.2's core schema."""
import json
import math
import re
import sys

import yaml

CORE_INT = re.compile(r"[-+]?[0-9]+$")
CORE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def core(value):
    if value in ("null", "Null", "NULL", "~"):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    if re.match(r"0x[0-9a-fA-F]+$", value):
        return int(value[2:], 16)
    if re.match(r"0o[0-7]+$", value):
        return int(value[2:], 8)
    if CORE_INT.match(value) or CORE_FLOAT.match(value):
        v = float(value)
        if math.isfinite(v):
            return int(v) if v.is_integer() and abs(v) < 2 ** 53 else v
    return value


def convert(node, flow):
    if isinstance(node, yaml.ScalarNode):
        if node.style is None and node.value == "":
            return None
        if node.style is None and flow:
            return core(node.value)
        return node.value
    flow = flow or node.flow_style
    if isinstance(node, yaml.SequenceNode):
        return [convert(n, flow) for n in node.value]
    out = {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            raise ValueError("non-scalar key")
        out[k.value] = convert(v, flow)
    return out


def reference(text):
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        return {"error": " ".join(str(e).split())}
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {"error": "not a mapping"}
    try:
        return convert(node, False)
    except ValueError as e:
        return {"error": str(e)}


def main():
    docs = json.load(sys.stdin)
    json.dump([reference(d) for d in docs], sys.stdout)


if __name__ == "__main__":
    main()
