"""Feature flags declared in settings, resolved per environment, usable in code and as routes'
dependencies.

Declare flags in `FASTER_FLAGS` (JSON), e.g.
`{"new_checkout": {"default": false, "environments": {"staging": true}}}`; override one with
`FASTER_FLAGS__NEW_CHECKOUT=true`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from starlette.requests import Request

from faster_core.exceptions import FeatureDisabledError

if TYPE_CHECKING:
    from faster_core.settings import Environment, FeatureFlag

__all__ = ["FeatureFlags", "require_flag"]


class FeatureFlags:
    """The resolved state of every declared flag; an undeclared flag is off."""

    def __init__(self, flags: Mapping[str, FeatureFlag], env: Environment) -> None:
        self._enabled = {name: flag.is_enabled(env) for name, flag in flags.items()}

    def is_enabled(self, name: str) -> bool:
        return self._enabled.get(name, False)

    def as_dict(self) -> dict[str, bool]:
        return dict(self._enabled)


def require_flag(name: str) -> Callable[[Request], None]:
    """A route dependency that answers 404 unless flag `name` is on.

    Usage: `@app.get("/beta", dependencies=[Depends(require_flag("beta"))])`.
    """

    def dependency(request: Request) -> None:
        if not request.app.state.faster.flags.is_enabled(name):
            raise FeatureDisabledError()

    dependency.__name__ = f"require_flag_{name}"
    return dependency
