"""Read and validate a tag policy file (version 1) into a :class:`~function.domain.policy.Policy`.

:func:`load_policy` reads the one file; :func:`parse_policy` validates an
already-parsed document. A policy that does not validate raises
:class:`~function.domain.errors.PolicyError` listing EVERY problem found, each naming
the file, the rule (name and 1-based ``#index``) and the field, so that an
operator fixes them all in one pass.

Decisions an operator should know (also in ``docs/policy-reference.md``):

- Condition values and ids are strings. YAML 1.1 reads unquoted ``off``,
  ``yes``, ``1``, ``010`` or ``2024-01-01`` as booleans, numbers and dates;
  such a value is rejected with the text as written and "quote it", never
  coerced: ``off`` silently becoming ``False`` is the classic trap.
- Duplicate keys in one YAML/JSON mapping are an error (parsers keep the last).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from function.config.policy_rules import Problems, parse
from function.config.values import YamlScalar
from function.domain.errors import PolicyError
from function.domain.policy import Policy

if TYPE_CHECKING:
    import yaml

__all__ = ["load_policy", "parse_policy"]


@functools.cache
def _loader() -> type[yaml.SafeLoader]:
    """SafeLoader that keeps the text of non-string scalars, so messages can say "quote it".

    Made (and yaml imported) by the first YAML policy read: a JSON policy never pays
    for yaml's import (tens of regexes compiled)."""
    import yaml

    class PolicyLoader(yaml.SafeLoader):
        pass

    for tag, kind_name, build in (
        ("bool", "boolean", yaml.SafeLoader.construct_yaml_bool),
        ("int", "number", yaml.SafeLoader.construct_yaml_int),
        ("float", "number", yaml.SafeLoader.construct_yaml_float),
        ("timestamp", "date", yaml.SafeLoader.construct_yaml_timestamp),
    ):
        PolicyLoader.add_constructor(f"tag:yaml.org,2002:{tag}", _keep_text(kind_name, build))
    return PolicyLoader


def _keep_text(kind: str, build: Callable[[Any, Any], object]) -> Callable[[Any, Any], object]:
    def construct(loader: Any, node: Any) -> object:
        return YamlScalar(build(loader, node), str(node.value), kind)

    return construct


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and validate a policy file (JSON or YAML, told apart by content)."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([f"{source}: cannot read the policy: {exc}"]) from exc
    problems = Problems(source)
    document = _read_document(text, problems)
    if document is None:
        raise PolicyError(problems.messages)
    return parse(document, problems)


def parse_policy(document: object, source: str = "<policy>") -> Policy:
    """Validate an already-parsed document; raises ``PolicyError`` listing all problems."""
    return parse(document, Problems(source))


def _read_document(text: str, problems: Problems) -> object:
    if not text.strip():
        problems.add("", "the file is empty (expected 'version: 1' and 'rules')")
        return None
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=lambda pairs: _json_object(pairs, problems))
        except json.JSONDecodeError:
            pass  # maybe a YAML flow mapping: let YAML have its say, with its line numbers
    import yaml  # a YAML policy only (see _loader)

    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            problems.add("", "the file has no content (expected 'version: 1' and 'rules')")
            return None
        problems.extend(_duplicate_keys(node))
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        problems.add(_mark(exc), f"YAML syntax error: {exc.problem or exc.context}")
        return None
    except yaml.YAMLError as exc:
        problems.add("", f"YAML error: {exc}")
        return None
    finally:
        loader.dispose()


def _json_object(pairs: list[tuple[str, Any]], problems: Problems) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            problems.add("", f"duplicate key {key!r} in one JSON object (the last would win)")
        seen[key] = value
    return seen


def _duplicate_keys(node: yaml.Node) -> Iterator[str]:
    import yaml  # already loaded: only a YAML document has nodes

    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in seen:
                    yield (
                        f"line {key.start_mark.line + 1}: duplicate key {key.value!r} "
                        "in one mapping (YAML would keep the last)"
                    )
                seen.add(key.value)
            yield from _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)


def _mark(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    return "" if mark is None else f"line {mark.line + 1}, column {mark.column + 1}"


# ---------------------------------------------------------------- validation
