"""`AccountServices`: what the account flows need beyond `Auth`, built in the plugin's lifespan.

Yielded as lifespan state `auth_accounts` (`request.state.auth_accounts`,
`app.state.auth_accounts`): the audit trail and its background writer, the event publisher and
the password policy. Leaving the lifespan writes the queued audit events and waits (bounded) for
event handlers still running.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from faster_auth.account_events import AccountEvents
from faster_auth.audit import AuditTrail
from faster_auth.auth import Auth
from faster_auth.passwords import PasswordPolicy
from faster_auth.settings import AuthSettings
from faster_auth.throttle import TrustedProxies
from faster_core import Environment, PluginHost
from faster_db import Database

__all__ = ["STATE_KEY", "AccountServices", "account_services", "optional_account_services"]

logger = logging.getLogger(__name__)

STATE_KEY = "auth_accounts"


@dataclass(frozen=True)
class AccountServices:
    """The audit trail (`None` when `FASTER_AUTH_AUDIT_ENABLED` is off), events and policy."""

    audit: AuditTrail | None
    events: AccountEvents
    policy: PasswordPolicy
    trusted_proxies: TrustedProxies


@asynccontextmanager
async def account_services(
    host: PluginHost, auth: Auth, database: Database
) -> AsyncIterator[AccountServices]:
    settings = auth.settings
    if host.settings.env is Environment.PRODUCTION:
        _warn_about_plain_links(settings)
    audit = None
    if settings.audit_enabled:
        audit = AuditTrail(
            database, queue_size=settings.audit_queue_size, batch_size=settings.audit_batch_size
        )
    events = AccountEvents(host, log_links=host.settings.env is not Environment.PRODUCTION)
    policy = PasswordPolicy(
        settings.password_min_length,
        settings.password_max_length,
        settings.password_check_common,
    )
    # The dummy hash that equalises "unknown user" with "wrong password" is made now, not on
    # the first failed sign-in (which would then take twice as long as the others).
    await auth.passwords.verify_or_dummy("", None)
    services = AccountServices(
        audit,
        events,
        policy,
        TrustedProxies(settings.trusted_proxies, setting="FASTER_AUTH_TRUSTED_PROXIES"),
    )
    if audit is not None:
        audit.start()
    try:
        yield services
    finally:
        await events.drain()
        if audit is not None:
            await audit.stop()


@asynccontextmanager
async def optional_account_services(
    host: PluginHost, auth: Auth, database: Database | None
) -> AsyncIterator[AccountServices | None]:
    """`account_services`, or `None` without a database (verify-only mode has no accounts)."""
    if database is None:
        yield None
        return
    async with account_services(host, auth, database) as services:
        yield services


def _warn_about_plain_links(settings: AuthSettings) -> None:
    links = {
        "FASTER_AUTH_PASSWORD_RESET_URL": settings.password_reset_url,
        "FASTER_AUTH_EMAIL_VERIFICATION_URL": settings.email_verification_url,
    }
    for name, url in links.items():
        if not url.startswith("https://"):
            logger.warning(
                "%s is not an https:// URL: its links carry a single-use token in clear", name
            )
