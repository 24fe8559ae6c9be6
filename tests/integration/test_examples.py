"""The example apps users copy keep working (examples/)."""

from __future__ import annotations

import pytest

from faster_core import FasterSettings, create_app
from faster_core.testing import client_for

pytestmark = pytest.mark.anyio


async def test_hello_example_greets_gates_and_reports_health(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from examples.hello import Greeter

    monkeypatch.setenv("FASTER_GREETER_GREETING", "Hi")
    app = create_app(FasterSettings(_env_file=None), plugins=[Greeter()], load_entrypoints=False)

    async with client_for(app) as client:
        hello = await client.get("/hello/ada")
        nobody = await client.get("/hello/nobody")
        shout = await client.get("/shout/ada")
        health = await client.get("/health")

    assert hello.json() == {"message": "Hi, ada!"}
    assert nobody.status_code == 404
    assert nobody.json()["detail"] == "There is nobody to greet."
    assert shout.status_code == 404  # the flag is off by default
    assert health.json()["checks"][0]["name"] == "greeter"
    assert health.json()["checks"][0]["status"] == "pass"
