"""Every tag shape normalizes to the same Tags model."""

from __future__ import annotations

import pytest

from function.domain.errors import InputError
from function.domain.tags import Tags, parse_tags


def tags(**values: list[str]) -> Tags:
    return Tags({key: frozenset(vals) for key, vals in values.items()})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(None, Tags({}), id="none"),
        pytest.param([], Tags({}), id="empty-list"),
        pytest.param({}, Tags({}), id="empty-dict"),
        pytest.param(["role=db", "env=prod"], tags(role=["db"], env=["prod"]), id="nova-strings"),
        pytest.param(["backup"], tags(backup=[""]), id="key-alone-is-empty-value"),
        pytest.param(["k="], tags(k=[""]), id="key-equals-nothing"),
        pytest.param(["url=a=b=c"], {"url": frozenset({"a=b=c"})}, id="split-at-first-equals"),
        pytest.param(["env=prod", "env=staging"], tags(env=["prod", "staging"]), id="multi-value"),
        pytest.param(["env=prod", "env=prod"], tags(env=["prod"]), id="duplicates-collapse"),
        pytest.param([" role = db "], tags(role=["db"]), id="whitespace-stripped"),
        pytest.param(["Role=DB"], {"Role": frozenset({"DB"})}, id="case-kept"),
        pytest.param(
            [{"key": "role", "value": "db"}, {"key": "env", "value": "prod"}],
            tags(role=["db"], env=["prod"]),
            id="huawei-objects",
        ),
        pytest.param([{"key": "backup"}], tags(backup=[""]), id="huawei-value-missing"),
        pytest.param([{"key": "backup", "value": None}], tags(backup=[""]), id="huawei-value-none"),
        pytest.param(
            [{"key": "a", "value": "1", "extra": 5}], tags(a=["1"]), id="huawei-extra-key-ignored"
        ),
        pytest.param(["a=1", {"key": "b", "value": "2"}], tags(a=["1"], b=["2"]), id="mixed-list"),
        pytest.param({"role": "db", "env": "prod"}, tags(role=["db"], env=["prod"]), id="mapping"),
        pytest.param(
            {"env": ["prod", "staging"]}, tags(env=["prod", "staging"]), id="mapping-list"
        ),
        pytest.param({"backup": None}, tags(backup=[""]), id="mapping-none"),
        pytest.param(("a=1",), tags(a=["1"]), id="tuple"),
    ],
)
def test_parse_tags_shapes(raw: object, expected: Tags | dict[str, frozenset[str]]) -> None:
    parsed = parse_tags(raw)
    want = expected if isinstance(expected, Tags) else Tags(expected)
    assert parsed == want


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        pytest.param(42, "got int 42", id="number"),
        pytest.param("role=db", "got str", id="bare-string"),
        pytest.param([5], "tags[0]", id="number-item"),
        pytest.param([["a=b"]], "tags[0]", id="nested-list"),
        pytest.param(["=db"], "must not be empty", id="empty-key"),
        pytest.param(["  =db"], "must not be empty", id="blank-key"),
        pytest.param([{"value": "x"}], "needs a 'key'", id="object-without-key"),
        pytest.param([{"key": 1, "value": "x"}], "tags[0].key", id="non-string-key"),
        pytest.param([{"key": "a", "value": 1}], "tags[0].value", id="non-string-value"),
        pytest.param([{"key": "a", "value": {"x": 1}}], "got dict", id="nested-value"),
        pytest.param({"a": 1}, "tags['a']", id="mapping-number"),
        pytest.param({"a": True}, "bool True", id="mapping-bool"),
        pytest.param({"a": ["x", 2]}, "tags['a'][1]", id="mapping-list-number"),
        pytest.param({"a": {"b": "c"}}, "got dict", id="mapping-nested"),
        pytest.param({1: "x"}, "key must be a string", id="mapping-int-key"),
        pytest.param({"": "x"}, "must not be empty", id="mapping-empty-key"),
    ],
)
def test_parse_tags_rejects(raw: object, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_tags(raw)
    assert fragment in info.value.message


def test_tags_accessors() -> None:
    parsed = parse_tags(["role=db", "env=prod", "env=staging", "backup"])
    assert parsed.get("env") == frozenset({"prod", "staging"})
    assert parsed.get("absent") == frozenset()
    assert "role" in parsed and "absent" not in parsed and 3 not in parsed
    assert parsed.as_strings() == ["backup", "env=prod", "env=staging", "role=db"]
    assert len(parsed) == 3


def test_tags_hashable_and_equal_across_shapes() -> None:
    nova = parse_tags(["role=db", "backup"])
    huawei = parse_tags([{"key": "backup", "value": ""}, {"key": "role", "value": "db"}])
    generic = parse_tags({"role": "db", "backup": None})
    assert nova == huawei == generic
    assert len({nova, huawei, generic}) == 1


def test_unusable_api_tags_are_described_as_json_not_reprs() -> None:
    from function.domain.tags import salvage_tags

    tags, ignored = salvage_tags(
        ["a=b", {"key": "", "value": "x"}, 7, {"key": "", "value": "v" * 80}]
    )
    assert tags.as_strings() == ["a=b"]
    assert ignored[:2] == ('{"key": "", "value": "x"}', "7")
    assert ignored[2].startswith('{"key": "", "value": "vvv') and ignored[2].endswith("…")
    assert not any("{'" in text for text in ignored)
