"""Reading YAML configuration safely, remembering the line of every key for error messages.

Only plain YAML is accepted: the safe loader (no Python objects), no anchors or aliases (they
let a small file expand into a huge one), no nesting deeper than `MAX_NESTING`, no number that is
not finite (``.nan``, ``.inf``) and no text longer than `MAX_TEXT_CHARACTERS`. Every problem is a
`DataError` naming the file, the line and the key. What the document must hold (a mapping, and
which keys) is for its reader to check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from sefton_carbon.errors import DataError

#: libyaml's safe loader where PyYAML was built with it (much faster), else the pure-Python one.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: The only explicit YAML tags accepted: the plain types of the YAML 1.1 core schema.
PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in
                       ("str", "int", "float", "bool", "null", "map", "seq", "timestamp"))
#: Refuse configuration files larger than this [bytes]; real ones are a few kilobytes.
MAX_CONFIG_BYTES = 1_000_000
#: Refuse mappings and lists nested deeper than this; real configuration is three or four deep.
MAX_NESTING = 50
#: Refuse a text value or key longer than this [characters]: names, labels and descriptions are a
#: line or a paragraph, and each may end up in a one-line message, a table or a chart title.
MAX_TEXT_CHARACTERS = 10_000


@dataclass
class ConfigDocument:
    """A YAML document: its data, its source, and the line (1-based) of each key path."""

    data: object
    source: Path
    lines: dict[tuple, int]

    def error(self, message: str, *key_path: object) -> DataError:
        """A `DataError` for the key at ``key_path``, with the nearest known line."""
        path = tuple(key_path)
        while path and path not in self.lines:
            path = path[:-1]
        return DataError(message, file=str(self.source), line=self.lines.get(path),
                         key=".".join(str(part) for part in key_path) or None)

    def mapping(self, expected: str) -> dict:
        """The document's data when it is a mapping of keys (an empty document is an empty mapping);
        otherwise a `DataError` saying what it should hold (``expected``: the keys, in words)."""
        if self.data is None:
            return {}
        if not isinstance(self.data, dict):
            raise self.error(f"must be a mapping of keys ({expected}), not a {type(self.data).__name__}")
        return self.data


def _walk(node: yaml.Node, path: tuple, lines: dict[tuple, int], source: Path) -> object:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = _walk(key_node, path + ("<key>",), {}, source)
            if not isinstance(key, (str, int)):
                raise DataError("keys must be text or numbers", file=str(source),
                                line=key_node.start_mark.line + 1)
            if key in result:
                raise DataError(f"key '{key}' appears twice", file=str(source),
                                line=key_node.start_mark.line + 1, key=".".join(map(str, path + (key,))))
            lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _walk(value_node, path + (key,), lines, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, path + (index,), lines, source) for index, item in enumerate(node.value)]
    return _scalar(node, path, source)


def _scalar(node: yaml.ScalarNode, path: tuple, source: Path) -> object:
    loader = yaml.SafeLoader("")
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as error:
        raise DataError(f"value not allowed ({error.problem})", file=str(source),
                        line=node.start_mark.line + 1) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise DataError(f"'{node.value}' is not a finite number: write the number itself", file=str(source),
                        line=node.start_mark.line + 1, key=".".join(map(str, path)) or None)
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARACTERS:
        raise DataError(f"a text of {len(value):,} characters, over the {MAX_TEXT_CHARACTERS:,} allowed: "
                        "shorten it", file=str(source), line=node.start_mark.line + 1,
                        key=".".join(str(part) for part in path if part != "<key>") or None)
    return value


def load_config(path: str | Path) -> ConfigDocument:
    """Read a YAML configuration file safely (see the module docstring)."""
    source = Path(path)
    try:
        size = source.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise DataError(f"is {size:,} bytes; configuration files over {MAX_CONFIG_BYTES:,} bytes "
                            "are refused", file=str(source))
        text = source.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise DataError(f"cannot be read ({error.strerror})", file=str(source)) from None
    except UnicodeDecodeError:
        raise DataError("is not UTF-8 text", file=str(source)) from None
    try:
        depth = 0
        for event in yaml.parse(text, Loader=SAFE_LOADER):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_NESTING:
                    raise DataError(f"is nested deeper than {MAX_NESTING} levels: configuration is a few "
                                    "levels deep", file=str(source), line=event.start_mark.line + 1)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise DataError("YAML anchors and aliases (& and *) are not allowed: write each value "
                                "out", file=str(source), line=event.start_mark.line + 1)
            tag = getattr(event, "tag", None)
            if tag and tag not in PLAIN_TAGS:
                raise DataError(f"YAML tag '{tag}' is not allowed: plain values only", file=str(source),
                                line=event.start_mark.line + 1)
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise DataError(f"is not valid YAML ({getattr(error, 'problem', error)})", file=str(source),
                        line=mark.line + 1 if mark else None) from None
    lines: dict[tuple, int] = {}
    data = _walk(node, (), lines, source) if node is not None else None
    return ConfigDocument(data=data, source=source, lines=lines)
