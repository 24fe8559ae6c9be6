"""The console in headless Chromium against the default `faster run` app: each page shows what
the API returns, with no console error and no request leaving loopback; users admin goes
through the API with the signed-in user's own token (faster_core/console_assets/)."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import APIRouter

from faster_core import FasterSettings, PluginHost, PluginInfo, create_app, hookimpl
from tests.console.browser_kit import ConsoleServer, Watched
from tests.console.conftest import serve_in_thread, watched_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PASSWORD = "console test password"


def screenshot(watched: Watched, artifacts: Path, name: str) -> None:
    watched.page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def rows(watched: Watched, table: str) -> list[str]:
    keys = watched.page.locator(f"#{table} tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.key || '')"
    )
    return [str(key) for key in keys]


def cell(watched: Watched, table: str, key: str, column: str) -> str:
    selector = f'#{table} tbody tr[data-key="{key}"] td[data-col="{column}"]'
    return watched.page.locator(selector).inner_text().strip()


def cell_badges(watched: Watched, table: str, key: str, column: str) -> list[str]:
    selector = f'#{table} tbody tr[data-key="{key}"] td[data-col="{column}"] .badge'
    return [text.strip() for text in watched.page.locator(selector).all_inner_texts()]


def shown(value: Any) -> Any:
    """A cell's text as the value the page rendered (`—` for null, JSON for the rest)."""
    return None if value == "—" else value


def same_value(text: str, expected: Any) -> bool:
    if expected is None:
        return text == "—"
    if isinstance(expected, str):
        return text == expected
    return bool(json.loads(text) == expected)


def get_json(server: ConsoleServer, path: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with server.client() as client:
        response = client.get(path, headers=headers)
    response.raise_for_status()
    return response.json()


# -- pages over the API's JSON --------------------------------------------------------------


def test_plugins_page_shows_every_plugin(
    console_page: Watched, console_server: ConsoleServer, artifacts: Path
) -> None:
    console_page.open("plugins")
    plugins = get_json(console_server, "/-/plugins")

    assert rows(console_page, "plugins-table") == [p["name"] for p in plugins]
    for plugin in plugins:
        name = plugin["name"]
        assert cell(console_page, "plugins-table", name, "version") == (plugin["version"] or "—")
        assert cell(console_page, "plugins-table", name, "state") == plugin["state"]
        assert shown(cell(console_page, "plugins-table", name, "order")) == (
            None if plugin["order"] is None else str(plugin["order"])
        )
        assert cell_badges(console_page, "plugins-table", name, "hooks") == plugin["hooks"]
    screenshot(console_page, artifacts, "plugins")


def test_routes_page_shows_each_routes_policy(
    console_page: Watched, console_server: ConsoleServer, artifacts: Path
) -> None:
    console_page.open("routes")
    routes = get_json(console_server, "/-/routes")

    keys = [f"{','.join(r['methods'])} {r['path']}" for r in routes]
    assert rows(console_page, "routes-table") == keys
    for key, route in zip(keys, routes, strict=True):
        policy = route["policy"]
        assert cell(console_page, "routes-table", key, "auth") == policy["auth"]
        assert cell_badges(console_page, "routes-table", key, "roles") == policy["roles"]
        assert same_value(
            cell(console_page, "routes-table", key, "rate limit"), policy["rate_limit"]
        )
        assert same_value(cell(console_page, "routes-table", key, "cache"), policy["cache"])
    screenshot(console_page, artifacts, "routes")


def test_settings_page_shows_the_redacted_settings(
    console_page: Watched, console_server: ConsoleServer, artifacts: Path
) -> None:
    console_page.open("settings")
    settings = get_json(console_server, "/-/settings")

    sections = {"settings-core": settings["core"]} | {
        f"settings-{name}": values for name, values in settings["plugins"].items()
    }
    for table, values in sections.items():
        assert rows(console_page, table) == list(values)
        for key, value in values.items():
            assert same_value(cell(console_page, table, key, "value"), value), (table, key)
    if "auth" in settings["plugins"]:
        assert cell(console_page, "settings-auth", "private_key", "value") in {"—", "**********"}
    screenshot(console_page, artifacts, "settings")


def test_health_page_shows_each_check_and_refreshes(
    console_page: Watched, console_server: ConsoleServer, artifacts: Path
) -> None:
    console_page.open("health")
    health = get_json(console_server, "/health")

    names = [check["name"] for check in health["checks"]]
    if names:
        assert rows(console_page, "health-table") == names
    for check in health["checks"]:
        assert cell(console_page, "health-table", check["name"], "status") == check["status"]
        assert float(cell(console_page, "health-table", check["name"], "latency ms")) >= 0
    assert console_page.page.inner_text("#health-status") == health["status"]

    before = console_page.page.inner_text("#health-updated")
    console_page.page.wait_for_function(
        "text => document.getElementById('health-updated').textContent !== text",
        arg=before,
        timeout=12_000,
    )
    screenshot(console_page, artifacts, "health")


def test_metrics_page_shows_request_counts_or_says_metrics_are_off(
    console_page: Watched, console_server: ConsoleServer, overview: dict[str, Any], artifacts: Path
) -> None:
    console_page.open("metrics")
    if overview["metrics"] is None:
        assert "Metrics not enabled" in console_page.page.inner_text("#metrics-off")
        screenshot(console_page, artifacts, "metrics")
        return

    with console_server.client() as client:
        for _ in range(3):
            client.get("/-/plugins")
    # The third scrape (10 s after the first) has two rates, a line to draw.
    console_page.page.wait_for_selector("#metrics-chart polyline", timeout=25_000)
    shown_count = int(cell(console_page, "metrics-table", "GET /-/plugins", "requests"))
    with console_server.client() as client:
        text = client.get(overview["metrics"]["path"]).text
    scraped = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("http_requests_total{") and 'route="/-/plugins"' in line
    )
    assert 3 <= shown_count <= scraped
    assert float(cell(console_page, "metrics-table", "GET /-/plugins", "mean ms")) > 0
    screenshot(console_page, artifacts, "metrics")


class Guarded:
    """Routes whose policy a plugin describes: roles, a rate limit, a cache."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("guarded", "1.0")

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()

        @router.get("/reports")
        async def reports() -> None: ...

        @router.get("/catalog")
        async def catalog() -> None: ...

        return [router]

    @hookimpl
    def faster_describe_route(self, route: object, host: PluginHost) -> dict[str, Any] | None:
        described: dict[str, dict[str, Any]] = {
            "/reports": {"roles": ["finance", "admin"], "rate_limit": "5/60s"},
            "/catalog": {"cache": {"ttl": 30.0, "per_user": False}},
        }
        return described.get(str(getattr(route, "path", "")))


def test_routes_page_shows_roles_rate_limits_and_cache_from_plugins(
    browser: Browser, artifacts: Path
) -> None:
    app = create_app(FasterSettings(debug=True), plugins=[Guarded()], load_entrypoints=False)
    with serve_in_thread(app) as base_url, watched_page(browser, base_url) as watched:
        watched.open("routes")
        assert cell_badges(watched, "routes-table", "GET /reports", "roles") == [
            "admin",
            "finance",
        ]
        assert cell(watched, "routes-table", "GET /reports", "rate limit") == "5/60s"
        assert cell(watched, "routes-table", "GET /reports", "cache") == "—"
        assert json.loads(cell(watched, "routes-table", "GET /catalog", "cache")) == {
            "ttl": 30.0,
            "per_user": False,
        }
        assert cell_badges(watched, "routes-table", "GET /catalog", "roles") == []
        screenshot(watched, artifacts, "routes-policies")


def test_navigation_between_every_page_stays_clean(console_page: Watched) -> None:
    console_page.open("plugins")
    for name in ["health", "routes", "settings", "metrics", "plugins"]:
        console_page.page.click(f'#nav a[data-page="{name}"]')
        console_page.wait_ready(name)
        link = console_page.page.locator(f'#nav a[data-page="{name}"]')
        assert link.get_attribute("aria-current") == "page"


# -- auth: sign in and users admin ----------------------------------------------------------


def require_auth(overview: dict[str, Any]) -> dict[str, Any]:
    if overview["auth"] is None:
        pytest.skip("faster-auth is not installed or has no local sign-in in this app")
    auth: dict[str, Any] = overview["auth"]
    return auth


def register(server: ConsoleServer, auth: dict[str, Any], name: str) -> dict[str, Any]:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    with server.client() as client:
        response = client.post(
            f"{auth['prefix']}/register",
            json={"email": email, "password": PASSWORD, "display_name": name.title()},
        )
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


def grant_admin(server: ConsoleServer, user: dict[str, Any]) -> None:
    """The first admin has to come from outside the API: nobody can grant themselves roles."""
    with sqlite3.connect(server.workdir / "faster.db") as db:
        db.execute(
            "INSERT INTO faster_auth_user_roles (user_id, role) VALUES (?, 'admin')",
            (uuid.UUID(user["id"]).hex,),
        )


def login(server: ConsoleServer, auth: dict[str, Any], user: dict[str, Any]) -> str:
    with server.client() as client:
        response = client.post(
            f"{auth['prefix']}/login", json={"email": user["email"], "password": PASSWORD}
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def sign_in(watched: Watched, user: dict[str, Any]) -> None:
    watched.open("users")
    watched.page.fill("#login-email", user["email"])
    watched.page.fill("#login-password", PASSWORD)
    watched.page.click('#login-form button[type="submit"]')
    watched.page.wait_for_selector("#signed-in-as")
    assert watched.page.inner_text("#signed-in-as").strip() == user["email"]


def open_user(watched: Watched, auth: dict[str, Any], user: dict[str, Any]) -> None:
    if auth["endpoints"]["list_users"]:
        watched.page.fill("#users-q", user["email"])
        watched.page.click('#users-search button[type="submit"]')
        row = f'#users-table tbody tr[data-key="{user["id"]}"]'
        watched.page.wait_for_selector(row)
        watched.page.click(f"{row} button.view-user")
    else:
        watched.page.fill("#users-id", user["id"])
        watched.page.click("#users-open")
    watched.page.wait_for_selector(f'#user-fields dd[data-field="id"]:text("{user["id"]}")')


def me_status(server: ConsoleServer, auth: dict[str, Any], token: str) -> int:
    with server.client() as client:
        return client.get(
            f"{auth['prefix']}/me", headers={"Authorization": f"Bearer {token}"}
        ).status_code


def test_an_admin_bans_a_user_whose_next_call_fails(
    console_page: Watched, console_server: ConsoleServer, overview: dict[str, Any], artifacts: Path
) -> None:
    auth = require_auth(overview)
    admin = register(console_server, auth, "admin")
    grant_admin(console_server, admin)
    target = register(console_server, auth, "target")
    target_token = login(console_server, auth, target)
    assert me_status(console_server, auth, target_token) == 200

    sign_in(console_page, admin)
    if auth["endpoints"]["list_users"]:
        listed = get_json(
            console_server,
            f"{auth['prefix']}/admin/users?q=&limit=20&offset=0",
            login(console_server, auth, admin),
        )
        assert rows(console_page, "users-table") == [u["id"] for u in listed["items"]]
    screenshot(console_page, artifacts, "users")
    open_user(console_page, auth, target)
    console_page.page.click("#user-ban")
    console_page.page.wait_for_selector('#user-fields dd[data-field="status"]:text("banned")')
    screenshot(console_page, artifacts, "user-banned")

    assert me_status(console_server, auth, target_token) in {401, 403}

    console_page.page.click("#user-unban")
    console_page.page.wait_for_selector('#user-fields dd[data-field="status"]:text("active")')
    assert me_status(console_server, auth, login(console_server, auth, target)) == 200


def test_an_admin_sets_roles_and_reads_the_audit_trail(
    console_page: Watched, console_server: ConsoleServer, overview: dict[str, Any], artifacts: Path
) -> None:
    auth = require_auth(overview)
    admin = register(console_server, auth, "roles-admin")
    grant_admin(console_server, admin)
    target = register(console_server, auth, "editor")
    sign_in(console_page, admin)
    open_user(console_page, auth, target)

    console_page.page.fill("#user-roles", "viewer, editor")
    console_page.page.click("#user-roles-save")
    console_page.page.wait_for_selector('#user-fields dd[data-field="roles"]:text("editor")')
    admin_token = login(console_server, auth, admin)
    user = get_json(console_server, f"{auth['prefix']}/admin/users/{target['id']}", admin_token)
    assert user["roles"] == ["editor", "viewer"]
    assert json.loads(console_page.page.inner_text('#user-fields dd[data-field="roles"]')) == [
        "editor",
        "viewer",
    ]

    if not auth["endpoints"]["audit"]:
        return
    audit_path = f"{auth['prefix']}/admin/users/{target['id']}/audit"
    deadline = time.monotonic() + 10
    while not get_json(console_server, audit_path, admin_token)["items"]:
        assert time.monotonic() < deadline, "the roles change never reached the audit trail"
        time.sleep(0.2)
    open_user(console_page, auth, target)
    items = get_json(console_server, audit_path, admin_token)["items"]
    console_page.page.wait_for_selector("#user-audit tbody tr")
    assert console_page.page.locator("#user-audit tbody tr").count() == len(items)
    screenshot(console_page, artifacts, "user-audit")


def test_a_non_admin_sees_no_admin_actions_and_the_api_refuses_them(
    console_page: Watched, console_server: ConsoleServer, overview: dict[str, Any], artifacts: Path
) -> None:
    auth = require_auth(overview)
    user = register(console_server, auth, "plain")
    other = register(console_server, auth, "other")
    sign_in(console_page, user)

    console_page.page.wait_for_selector("#not-admin")
    assert console_page.page.locator("#users-table").count() == 0
    assert console_page.page.locator("#user-ban, #user-unban, #user-roles-save").count() == 0
    assert console_page.page.get_by_role("button", name="Ban").count() == 0
    screenshot(console_page, artifacts, "users-non-admin")

    token = login(console_server, auth, user)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{auth['prefix']}/admin/users"
    with console_server.client() as client:
        assert client.get(f"{base}/{other['id']}", headers=headers).status_code == 403
        assert client.post(f"{base}/{other['id']}/ban", headers=headers).status_code == 403
        refused = client.put(
            f"{base}/{user['id']}/roles", headers=headers, json={"roles": ["admin"]}
        )
        assert refused.status_code == 403
        if auth["endpoints"]["list_users"]:
            assert client.get(base, headers=headers).status_code == 403
    assert me_status(console_server, auth, token) == 200


def test_sign_out_forgets_the_token(
    console_page: Watched, console_server: ConsoleServer, overview: dict[str, Any]
) -> None:
    auth = require_auth(overview)
    user = register(console_server, auth, "leaving")
    sign_in(console_page, user)
    console_page.page.click("#sign-out")
    console_page.page.wait_for_selector("#login-form")
    stored = console_page.page.evaluate("() => Object.keys(sessionStorage)")
    assert stored == []
    console_page.page.reload()
    console_page.wait_ready("users")
    assert console_page.page.locator("#login-form").count() == 1


def test_a_ban_signs_the_banned_user_out_of_the_console(
    console_page: Watched, console_server: ConsoleServer, overview: dict[str, Any]
) -> None:
    auth = require_auth(overview)
    admin = register(console_server, auth, "banner")
    grant_admin(console_server, admin)
    target = register(console_server, auth, "banned")
    sign_in(console_page, target)

    admin_token = login(console_server, auth, admin)
    with console_server.client() as client:
        response = client.post(
            f"{auth['prefix']}/admin/users/{target['id']}/ban",
            headers={"Authorization": f"Bearer {admin_token}"},
        )
    assert response.status_code == 204
    # The page's next call with the banned user's token is refused; the page lets go of it.
    console_page.page.reload()
    console_page.wait_ready("users")
    console_page.page.wait_for_selector("#login-form")
    assert console_page.page.inner_text("#notice").startswith("Your session ended")
    # The browser itself logs the refused call; that is the only error allowed here.
    assert console_page.errors
    assert all("status of 401" in error for error in console_page.errors), console_page.errors
    console_page.errors.clear()


def test_the_pages_metrics_parser_reads_what_prometheus_client_reads(
    console_page: Watched, console_server: ConsoleServer, overview: dict[str, Any]
) -> None:
    parser = pytest.importorskip("prometheus_client.parser")
    if overview["metrics"] is None:
        pytest.skip("the observability plugin serves no metrics in this app")
    console_page.open("metrics")
    with console_server.client() as client:
        text = client.get(overview["metrics"]["path"]).text
    text += 'console_test_escapes{path="a\\\\b \\"q\\" \\n",le="+Inf"} 2.5e-3\n'

    parsed = console_page.page.evaluate(
        """async (text) => {
            const metrics = await import("./console/assets/metrics.js");
            return metrics.parseMetrics(text).map(s => [s.name, s.labels, String(s.value)]);
        }""",
        text,
    )
    expected = [
        [sample.name, sample.labels, str(sample.value)]
        for family in parser.text_string_to_metric_families(text)
        for sample in family.samples
    ]

    def normal(samples: list[list[Any]]) -> list[tuple[str, str, float]]:
        return sorted((n, json.dumps(labels, sort_keys=True), float(v)) for n, labels, v in samples)

    assert normal(parsed) == normal(expected)
