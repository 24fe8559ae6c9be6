"""The `faster` command line: run, plugins, routes, check, and the commands plugins add."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import uvicorn
from pydantic import ValidationError
from uvicorn.importer import ImportFromStringError, import_from_string

from faster_core._version import __version__
from faster_core.app import create_app, refuse_unsafe_settings
from faster_core.exceptions import FasterError
from faster_core.introspection import describe_plugins, describe_routes
from faster_core.plugin import builtin_plugins
from faster_core.plugins import PluginHost
from faster_core.settings import FasterSettings

__all__ = ["main"]

DEFAULT_APP = "faster_core.app:create_app"


def _host_for(ctx: click.Context) -> PluginHost:
    """The plugins of the app `--app` names (`module:attribute`, an app or a factory), or
    without one those `create_app()` would enable: the installed ones, from the settings."""
    app_target = _app_target(ctx)
    if app_target is None:
        return PluginHost.build(FasterSettings(), builtins=builtin_plugins())
    app = _import_app(app_target)
    if callable(app) and not hasattr(app, "state"):
        app = app()
    host = getattr(getattr(app, "state", None), "faster", None)
    if not isinstance(host, PluginHost):
        raise click.BadParameter(f"{app_target} is not an app made by create_app", param_hint="APP")
    return host


def _app_target(ctx: click.Context) -> str | None:
    """`--app`, with `--app-dir` put first on `sys.path` (plugin commands are looked up before
    the group's own callback runs, so this cannot wait for it)."""
    params = ctx.find_root().params
    target = params.get("app")
    if not target:
        return None
    app_dir = str(Path(params.get("app_dir") or ".").resolve())
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    return str(target)


class _PluginCommandGroup(click.Group):
    """The core's commands, then those of enabled plugins, found when first asked for."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        host = _host_for(ctx)
        return {
            command.name or "": command
            for _, commands in host.call_in_order("faster_cli_commands", host=host)
            for command in commands
        }

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            extra = self._plugin_commands(ctx)
        except (FasterError, ValidationError):
            extra = {}  # `faster check` reports why; listing the core's commands still helps
        return sorted({*super().list_commands(ctx), *extra})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        try:
            return self._plugin_commands(ctx).get(cmd_name)
        except (FasterError, ValidationError) as exc:
            raise click.ClickException(f"cannot load plugin commands: {exc}") from exc


@click.group(cls=_PluginCommandGroup)
@click.version_option(__version__, prog_name="faster")
@click.option(
    "--app",
    envvar="FASTER_APP",
    help="The app ('module:attribute', an app or a factory) whose plugins `plugins`, `check`, "
    "`routes` and the plugins' commands use, for an app passing plugins to create_app; "
    "without it, the installed plugins.",
)
@click.option(
    "--app-dir", default=".", show_default=True, help="Directory put first on sys.path for --app."
)
def main(app: str | None, app_dir: str) -> None:
    """Faster: FastAPI with plugins."""
    del app, app_dir  # read where the commands need them (see _app_target)


@main.command()
@click.argument("app", required=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--factory", is_flag=True, help="APP names a factory to call, not an app.")
@click.option("--log-level", default="info", show_default=True)
@click.option(
    "--app-dir", default=".", show_default=True, help="Directory put first on sys.path for APP."
)
def run(
    *,
    app: str | None,
    host: str,
    port: int,
    reload: bool,
    workers: int,
    factory: bool,
    log_level: str,
    app_dir: str,
) -> None:
    """Serve APP ('module:attribute'); with no APP, every installed and enabled plugin."""
    sys.path.insert(0, str(Path(app_dir).resolve()))
    uvicorn.run(
        app or DEFAULT_APP,
        factory=factory or app is None,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
        log_level=log_level,
    )


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List every plugin: name, version, state, order and the hooks it implements."""
    described = describe_plugins(_host_for(ctx))
    if as_json:
        click.echo(json.dumps(described, indent=2))
        return
    rows = [
        (
            p["name"],
            p["version"] or "-",
            p["state"],
            str(p["order"] if p["order"] is not None else "-"),
            ", ".join(p["hooks"]),
        )
        for p in described
    ]
    _echo_table(("NAME", "VERSION", "STATE", "ORDER", "HOOKS"), rows)


@main.command()
@click.argument("app", required=False)
@click.pass_context
def routes(ctx: click.Context, app: str | None) -> None:
    """List the routes of APP ('module:attribute'; default: --app), or of the default app."""
    target = app or _app_target(ctx)
    described = describe_routes(_import_app(target) if target else create_app())
    rows = [(",".join(r["methods"]) or "-", r["path"], r["name"] or "-") for r in described]
    _echo_table(("METHODS", "PATH", "NAME"), rows)


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the settings and the plugin graph; exit non-zero with the reason."""
    try:
        host = _host_for(ctx)
        refuse_unsafe_settings(host)
    except (FasterError, ValidationError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    names = ", ".join(r.name for r in host.enabled)
    click.echo(f"ok: env {host.settings.env}, {len(host.enabled)} plugins enabled: {names}")


def _import_app(target: str) -> Any:
    try:
        return import_from_string(target)
    except ImportFromStringError as exc:
        raise click.BadParameter(str(exc), param_hint="APP") from exc


def _echo_table(header: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
