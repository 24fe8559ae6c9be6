"""The hooks faster-auth publishes: account events other plugins and apps implement.

Published through `faster_add_hookspecs(pm)`, so an implementation in any plugin (a module or an
object registered with `create_app(plugins=[...])`) is checked against these signatures. An
implementer that must also work without faster-auth marks its implementation
`@hookimpl(optionalhook=True)`.

Every hook is called *after* the change is committed, off the request path: the response never
waits for an implementation. An implementation may be a plain function or return an awaitable
(an `async def` is fine); implementations of one event are started in plugin order, each in its
own task, so a slow one does not delay the others. A plain function still runs on the event
loop, so it must be quick: do slow work (sending an email) in an `async def`. An implementation
that raises is logged (naming its plugin) and does not stop the others.
Each receives only the arguments it names.

`user` is always a `UserOut` snapshot (id, email, display name, status, roles...), never an ORM
object; `host` is the app's `PluginHost`.
"""

from __future__ import annotations

import uuid

from faster_auth.schemas import UserOut
from faster_core import PluginHost, hookspec

__all__ = [
    "faster_auth_email_verification_requested",
    "faster_auth_password_reset_requested",
    "faster_auth_roles_changed",
    "faster_auth_user_banned",
    "faster_auth_user_created",
    "faster_auth_user_deactivated",
    "faster_auth_user_signed_in",
    "faster_auth_user_signed_out",
    "faster_auth_user_unbanned",
]


@hookspec
def faster_auth_user_created(user: UserOut, host: PluginHost) -> None:
    """A local account was registered.

    Args:
        user: the new account.
        host: the plugin host.

    Returns:
        Nothing (or an awaitable, awaited in the background).
    """


@hookspec
def faster_auth_user_signed_in(user: UserOut, host: PluginHost) -> None:
    """A user signed in with their password (login or the OAuth2 password form).

    Args:
        user: the account that signed in.
        host: the plugin host.

    Returns:
        Nothing (or an awaitable, awaited in the background).
    """


@hookspec
def faster_auth_user_signed_out(user_id: uuid.UUID, everywhere: bool, host: PluginHost) -> None:
    """A user signed out: one session (`logout`) or every session (`logout-all`).

    Args:
        user_id: the account's id.
        everywhere: `True` when every refresh and access token of the user was revoked.
        host: the plugin host.

    Returns:
        Nothing (or an awaitable, awaited in the background).
    """


@hookspec
def faster_auth_user_banned(user: UserOut, actor_id: uuid.UUID | None, host: PluginHost) -> None:
    """An admin banned a user; their tokens are already refused.

    Args:
        user: the banned account (status `banned`).
        actor_id: the admin's user id (`None` if the admin has no local account).
        host: the plugin host.

    Returns:
        Nothing (or an awaitable, awaited in the background).
    """


@hookspec
def faster_auth_user_unbanned(user: UserOut, actor_id: uuid.UUID | None, host: PluginHost) -> None:
    """An admin lifted a user's ban (status `active` again).

    Args:
        user: the account.
        actor_id: the admin's user id (`None` if the admin has no local account).
        host: the plugin host.

    Returns:
        Nothing (or an awaitable, awaited in the background).
    """


@hookspec
def faster_auth_roles_changed(
    user: UserOut, previous: list[str], actor_id: uuid.UUID | None, host: PluginHost
) -> None:
    """An admin replaced a user's roles (`user.roles` holds the new set).

    Args:
        user: the account, with its new roles.
        previous: the roles it held before, sorted.
        actor_id: the admin's user id (`None` if the admin has no local account).
        host: the plugin host.

    Returns:
        Nothing (or an awaitable, awaited in the background).
    """


@hookspec
def faster_auth_password_reset_requested(user: UserOut, link: str, host: PluginHost) -> None:
    """Someone asked to reset the password of an existing account: deliver `link` to its email.

    This is the email delivery point. Without any implementation, outside production, the
    link is logged by `faster_auth.delivery` (a development convenience); in production it is
    not delivered at all and an error says so. The link carries a single-use secret: never log
    it, store it or send it anywhere but to `user.email`.

    Args:
        user: the account (its `email` is the address to write to).
        link: `FASTER_AUTH_PASSWORD_RESET_URL` with `#token=...`; valid for
            `FASTER_AUTH_PASSWORD_RESET_TTL` seconds, once.
        host: the plugin host.

    Returns:
        Nothing (or an awaitable, awaited in the background).
    """


@hookspec
def faster_auth_email_verification_requested(user: UserOut, link: str, host: PluginHost) -> None:
    """An account's email needs verifying: deliver `link` to `user.email`.

    Called on registration (unless `FASTER_AUTH_VERIFY_EMAIL_ON_REGISTER` is off) and when the
    user asks again. Delivery falls back exactly as for `faster_auth_password_reset_requested`.

    Args:
        user: the account.
        link: `FASTER_AUTH_EMAIL_VERIFICATION_URL` with `#token=...`; single use, valid for
            `FASTER_AUTH_EMAIL_VERIFICATION_TTL` seconds.
        host: the plugin host.

    Returns:
        Nothing (or an awaitable, awaited in the background).
    """


@hookspec
def faster_auth_user_deactivated(user: UserOut, host: PluginHost) -> None:
    """A user deactivated their own account (password confirmed); their tokens are refused.

    Args:
        user: the account (status `deactivated`).
        host: the plugin host.

    Returns:
        Nothing (or an awaitable, awaited in the background).
    """
