"""This app's command line: every enabled plugin's commands, with the notes plugin included.

    python -m examples.notes.manage db upgrade       # every branch, `notes` included
    python -m examples.notes.manage db current

`faster db ...` builds its plugins from the installed entry points only, so it does not know a
plugin an app passes to `create_app(plugins=[...])`; this command line is built from the app's
own plugin host instead. Run `db upgrade` once per deployment, before starting the workers
(outside SQLite in development, nothing migrates at start-up).
"""

from __future__ import annotations

import click

from examples.notes.app import create
from faster_core import PluginHost

__all__ = ["command_line"]


def command_line() -> click.Group:
    """The plugins' commands (`db`, ...) for the notes app configured from the environment."""
    host: PluginHost = create().state.faster
    group = click.Group("notes", help="The notes app's commands.")
    for _, commands in host.call_in_order("faster_cli_commands", host=host):
        for command in commands:
            group.add_command(command)
    return group


if __name__ == "__main__":
    command_line()()
