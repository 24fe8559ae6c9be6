"""The Markdown export is behind the `notes_export` feature flag (routes.py, faster-core flags)."""

from __future__ import annotations

import pytest

from examples.notes.routes import EXPORT_FLAG
from examples.notes.tests.conftest import NotesAppFactory, bearer
from faster_core.testing import client_for

pytestmark = pytest.mark.anyio


async def test_the_export_is_a_404_problem_while_the_flag_is_off(
    notes_app_factory: NotesAppFactory,
) -> None:
    app = notes_app_factory()
    async with client_for(app) as client:
        ada = bearer(app, "ada")
        response = await client.get("/notes/export", headers=ada)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "flag",
    [True, {"default": True}, {"default": False, "environments": {"test": True}}],
    ids=["override", "default", "per-environment"],
)
async def test_the_export_serves_markdown_once_the_flag_is_on(
    notes_app_factory: NotesAppFactory, flag: object
) -> None:
    app = notes_app_factory(flags={EXPORT_FLAG: flag})
    async with client_for(app) as client:
        ada = bearer(app, "ada")
        await client.post("/notes", json={"title": "One", "body": "first"}, headers=ada)
        await client.post("/notes", json={"title": "Two", "body": "second"}, headers=ada)
        response = await client.get("/notes/export", headers=ada)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "# One\n\nfirst\n\n# Two\n\nsecond\n"
