"""``logs.redact`` skips its pattern for ASCII text without a keyword (a fast path, for
the many short strings of every outcome event): it must cut exactly what the pattern cuts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from function import logs

WORDS = ["token", "TOKEN", "Password", "secret", "signature", "Authorization", "x-auth-token"]


def by_the_pattern(text: str) -> str:
    """What ``redact`` did before the fast path: every known secret, then the pattern."""
    for secret in sorted(logs._KNOWN, key=len, reverse=True):
        text = text.replace(secret, "***")
    return logs._SECRET.sub(r"\1\2***", text)


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11", "6a1c3b7e-0d5b-4c1e-9a57-2f7d0c2b9e11"),
        ("X-Auth-Token: abc123", "X-Auth-Token: ***"),
        ('{"PASSWORD": "hunter22"}', '{"PASSWORD": "***"}'),
        ("ſecret=abc", "ſecret=***"),  # not ASCII: the pattern's own case folding decides
        ("a token, no value", "a token, no value"),
    ],
)
def test_redact_cuts_what_looks_like_a_credential(text: str, cut: str) -> None:
    assert logs.redact(text) == cut


@given(
    st.lists(
        st.one_of(st.sampled_from([*WORDS, ":", "=", " ", '"', "'"]), st.text(max_size=8)),
        max_size=8,
    ).map("".join)
)
def test_the_fast_path_agrees_with_the_pattern(text: str) -> None:
    assert logs.redact(text) == by_the_pattern(text)
