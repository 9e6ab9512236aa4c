"""Reading the YAML files an admin edits (mappings, scoring rules) without YAML's traps.

Two PyYAML behaviours would silently corrupt a mapping: a key written twice keeps only the
last value (an admin adding "Neubau" twice to a value table never learns that the first one
is gone), and YAML 1.1 reads ``yes``/``no``/``on``/``off`` as booleans (the country code
``NO`` would become ``False``). Here a duplicate key is an error with its line, and only
``true``/``false`` are booleans.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from naturhome_sync.errors import ConfigurationError

_BOOL_TAG = "tag:yaml.org,2002:bool"


class _StrictLoader(yaml.SafeLoader):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable key: PyYAML reports it itself
            if duplicate:
                raise ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} appears twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(path: Path) -> Any:
    """The document in ``path``; a ConfigurationError naming the file and line otherwise."""
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError("file not found", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the file: {exc}", source=str(path)) from None
    try:
        return yaml.load(content, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        reason = exc.problem or exc.context or "invalid YAML"
        raise ConfigurationError(f"invalid YAML at {where}: {reason}", source=str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"invalid YAML: {exc}", source=str(path)) from None
