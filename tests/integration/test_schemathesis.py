"""Schemathesis against the default app's OpenAPI, in-process over ASGI.

The default app is what `faster run` serves with nothing configured: every installed plugin on
its embedded defaults (a SQLite file, the in-process Redis stand-in, local accounts). Every
operation gets valid and invalid data (positive and negative modes) under every default check,
`negative_data_rejection` and `ignored_auth` included, with a bearer token minted by an auth
hook; the run is bounded by `max_examples`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.auths import AuthContext
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import ignored_auth, negative_data_rejection

from faster_auth.testing import token_for
from faster_core import FasterSettings, create_app
from faster_core.testing import client_for

MAX_EXAMPLES = 6
"""Per operation and mode: enough to reach each route's validation, small enough for < 60 s."""


def build_default_app(folder: Path) -> FastAPI:
    """What `faster run` serves with nothing configured, its files kept in `folder`."""
    return create_app(
        FasterSettings(
            _env_file=None,
            env="development",
            plugin_settings={
                "db": {"url": f"sqlite+aiosqlite:///{folder / 'faster.db'}"},
                "auth": {"generated_key_file": str(folder / "key.pem")},
            },
        )
    )


@pytest.fixture(scope="module")
def default_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return build_default_app(tmp_path_factory.mktemp("default-app"))


class MintedBearerToken:
    """A token signed by the running app's own key, for an admin subject of the test's own.

    Minted for every case: a case may log out (revoking its token's `jti`) or sign out
    everywhere, which must not leave every later case without valid credentials.
    """

    def get(self, case: Case[Any], context: AuthContext) -> str:
        assert isinstance(context.app, FastAPI)
        return token_for(context.app, "schemathesis-admin", roles=["admin"])

    def set(self, case: Case[Any], data: str, context: AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


@dataclass
class Findings:
    """What one bounded run found: failures by Schemathesis code, and every status seen."""

    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def record(self, case: Case[Any], response: Any, failures: list[Failure]) -> None:
        self.calls += 1
        self.statuses[response.status_code] += 1
        for failure in failures:
            answer = f"{response.status_code} {response.text[:200]}"
            text = f"{case.operation.label}: {failure.title}: {failure.message[:300]} <- {answer}"
            if text not in self.failures[failure.code]:
                self.failures[failure.code].append(text)

    def of(self, *codes: str) -> list[str]:
        return [text for code in codes for text in self.failures.get(code, [])]


def _exercise(
    operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode, auth: Any, findings: Findings
) -> None:
    """Up to MAX_EXAMPLES cases, every check on each; nothing stops the run early."""

    @given(case=operation.as_strategy(mode, auth_storage=auth))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case[Any]) -> None:
        response = case.call()
        try:
            case.validate_response(
                response, additional_checks=[negative_data_rejection, ignored_auth]
            )
        except FailureGroup as group:
            findings.record(case, response, list(group.exceptions))
        except Failure as failure:
            findings.record(case, response, [failure])
        else:
            findings.record(case, response, [])

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, operation.label  # nothing here can be invalid


@pytest.fixture(scope="module")
def findings(default_app: FastAPI) -> Findings:
    schema = schemathesis.openapi.from_asgi("/openapi.json", default_app)  # starts the lifespan
    schema.auth(refresh_interval=None)(MintedBearerToken)  # a fresh token per case
    found = Findings()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the schema itself is valid
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _exercise(result.ok(), mode, schema.auth, found)
    return found


def test_every_operation_was_exercised(findings: Findings) -> None:
    assert findings.calls > 100, findings.calls
    assert findings.statuses[200] > 0, findings.statuses
    assert findings.statuses[422] > 0, findings.statuses


def test_no_request_gets_a_server_error(findings: Findings) -> None:
    assert findings.statuses[500] == 0, findings.of("ST101", "ST102")
    assert not findings.of("ST101", "ST102")


def test_every_response_is_documented(findings: Findings) -> None:
    codes = ("ST103", "ST104", "ST105", "ST106", "ST107", "ST108", "ST109", "ST110", "ST111")
    assert not findings.of(*codes), "\n".join(findings.of(*codes))


def test_invalid_requests_are_rejected(findings: Findings) -> None:
    assert not findings.of("ST201", "ST203"), "\n".join(findings.of("ST201", "ST203"))


def test_valid_requests_are_accepted(findings: Findings) -> None:
    assert not findings.of("ST202"), "\n".join(findings.of("ST202"))


def test_protected_operations_refuse_missing_or_bad_credentials(findings: Findings) -> None:
    assert not findings.of("ST401", "ST402"), "\n".join(findings.of("ST401", "ST402"))


def test_undeclared_methods_are_refused_properly(findings: Findings) -> None:
    assert not findings.of("ST204", "ST205"), "\n".join(findings.of("ST204", "ST205"))


@pytest.mark.anyio
async def test_an_out_of_range_offset_is_a_problem_not_a_server_error(tmp_path: Path) -> None:
    app = build_default_app(tmp_path)
    async with client_for(app) as client:
        token = token_for(app, "fuzz-admin", roles=["admin"])
        response = await client.get(
            "/auth/admin/users",
            params={"offset": str(2**64)},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 422
