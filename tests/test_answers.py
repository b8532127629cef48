"""last_boxed: the final-answer extractor shared by problem loading, import and verification."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pathscope.answers import all_boxed, last_boxed, strip_boxed


def test_simple_and_last_wins():
    assert last_boxed(r"so \boxed{3} ... actually \boxed{4}.") == "4"


def test_nested_braces():
    assert last_boxed(r"The answer is $\boxed{\frac{1}{2}}$.") == r"\frac{1}{2}"
    assert last_boxed(r"\boxed{\left\{ x : x^{2} > 1 \right\}}") == r"\left\{ x : x^{2} > 1 \right\}"


def test_escaped_braces_are_content():
    assert last_boxed(r"\boxed{\{1, 2\}}") == r"\{1, 2\}"


def test_fbox_and_space_forms():
    assert last_boxed(r"\fbox{12}") == "12"
    assert last_boxed(r"hence $\boxed 5$ done") == "5"
    assert last_boxed(r"\boxed {7}") == "7"


def test_none_cases():
    assert last_boxed(None) is None
    assert last_boxed("") is None
    assert last_boxed("no box here") is None
    assert last_boxed(r"\boxedfoo{3}") is None  # a different command


def test_unclosed_last_box_falls_back_to_earlier():
    assert last_boxed(r"\boxed{1} then \boxed{2") == "1"
    assert last_boxed(r"\boxed{2") is None


def test_all_boxed_and_strip():
    assert all_boxed(r"\boxed{a} and \boxed{b^{2}}") == ["a", "b^{2}"]
    assert strip_boxed(r" \boxed{x+1} ") == "x+1"
    assert strip_boxed(r"\boxed{x} + 1") == r"\boxed{x} + 1"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_never_raises(text):
    result = last_boxed(text)
    assert result is None or isinstance(result, str)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="{}\\"), min_size=1).filter(lambda s: s.strip()))
def test_roundtrip_of_plain_content(content):
    assert last_boxed(f"answer: \\boxed{{{content}}} end") == content.strip()
