"""The redaction rules shared by logs and Sentry (faster_observability/redaction.py)."""

from __future__ import annotations

import pytest

from faster_observability import REDACTED, Redactor
from tests.observability.apps import make_jwt


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(["ssn"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi", f"Authorization: {REDACTED}"),
        ("sent Bearer abcdef123 to upstream", f"sent Bearer {REDACTED} to upstream"),
        ("Basic dXNlcjpwYXNz", f"Basic {REDACTED}"),
        ("/cb?access_token=abc123&page=2", f"/cb?access_token={REDACTED}&page=2"),
        ('{"password": "two words", "user": "bob"}', f'{{"password": {REDACTED}, "user": "bob"}}'),
        ("Cookie: a=1; b=2", f"Cookie: {REDACTED}"),
        ("client_secret='s3cr3t'", f"client_secret={REDACTED}"),
        ("api-key: zzz", f"api-key: {REDACTED}"),
        ("my ssn=123-45-6789", f"my ssn={REDACTED}"),
        ("nothing to see here", "nothing to see here"),
    ],
)
def test_text_rules(redactor: Redactor, text: str, expected: str) -> None:
    assert redactor.text(text) == expected


@pytest.mark.parametrize(
    "token",
    [
        make_jwt(),
        make_jwt()[:40],  # truncated
        make_jwt().replace(".", "..", 1),  # malformed
        "eyJhbGciOiJub25lIn0.",
        "aGVsbG8gd29ybGQ.aGVsbG8gd29ybGQ.aGVsbG8gd29ybGQ",  # a JWT with another header
    ],
)
def test_jwt_shaped_strings_are_removed_anywhere(redactor: Redactor, token: str) -> None:
    out = redactor.text(f"user said {token} twice: x{token}")
    assert "eyJ" not in out
    for start in range(len(token) - 15):
        assert token[start : start + 16] not in out


def test_control_characters_and_line_breaks_are_escaped(redactor: Redactor) -> None:
    forged = 'ok\n{"level": "info", "message": "forged"}\r\x1b[31mred\u2028'
    out = redactor.text(forged)
    assert not {"\n", "\r", "\x1b", "\u2028"} & set(out)
    assert out.startswith("ok\\n{")
    assert "\\x1b[31m" in out


def test_sensitive_keys_match_by_substring_any_case(redactor: Redactor) -> None:
    assert redactor.sensitive_key("X-API-Key")
    assert redactor.sensitive_key("refresh_token")
    assert redactor.sensitive_key("DB_PASSWORD")
    assert redactor.sensitive_key("Set-Cookie")
    assert redactor.sensitive_key("patient_ssn")  # an extra key part
    assert not redactor.sensitive_key("username")


def test_nested_values_are_redacted_by_key_and_by_content(redactor: Redactor) -> None:
    jwt = make_jwt()
    value = {
        "headers": {"authorization": f"Bearer {jwt}", "accept": "*/*"},
        "form": [{"password": "pw", "note": f"token {jwt}"}],
        "count": 3,
        "none_token": None,
        "raw": b"password=hunter2",
    }
    assert redactor.value(value) == {
        "headers": {"authorization": REDACTED, "accept": "*/*"},
        "form": [{"password": REDACTED, "note": f"token {REDACTED}"}],
        "count": 3,
        "none_token": None,
        "raw": f"password={REDACTED}",
    }


def test_deep_nesting_is_cut_off_rather_than_walked_forever(redactor: Redactor) -> None:
    value: dict[str, object] = {}
    node = value
    for _ in range(40):
        node["child"] = {}
        node = node["child"]  # type: ignore[assignment]
    node["password"] = "deep"
    assert "deep" not in repr(redactor.value(value))


@pytest.mark.parametrize("text", ["/eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiIxMjM0NTY3ODkwIn0"])
def test_a_jwt_header_without_any_separator_is_still_removed(redactor: Redactor, text: str) -> None:
    # Text without separators or control characters skips the rules, unless it has `eyJ`.
    assert "eyJ" not in redactor.text(text)


def test_plain_paths_are_returned_as_they_are(redactor: Redactor) -> None:
    assert redactor.text("/items/42/orders") == "/items/42/orders"
