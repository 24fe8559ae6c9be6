"""Local accounts with faster-auth: deliver reset and verification emails from your own plugin.

    FASTER_AUTH_ONBOARDING_STEPS=profile,tour \\
    hatch run demo:serve examples.auth_accounts:create_example_app --factory

    curl -X POST http://127.0.0.1:8000/auth/register -H 'content-type: application/json' \\
      -d '{"email": "ada@example.com", "password": "correct horse battery"}'
    curl -X POST http://127.0.0.1:8000/auth/password-reset -H 'content-type: application/json' \\
      -d '{"email": "ada@example.com"}'

faster-auth calls the `Mailer` below after each request has been answered; a real app would
hand the message to its email service here (an `async def`, so a slow provider never stalls
the event loop). The link carries a single-use token: it goes into the email and nowhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import FastAPI

from faster_auth.schemas import UserOut
from faster_core import PluginInfo, create_app, hookimpl

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


class Mailer:
    """A plugin implementing faster-auth's delivery hooks; an instance per app keeps its outbox."""

    def __init__(self) -> None:
        self.outbox: list[Email] = []

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("mailer", "1.0", after=("auth",))

    @hookimpl(optionalhook=True)
    async def faster_auth_password_reset_requested(self, user: UserOut, link: str) -> None:
        await self.send(user, "Reset your password", f"Choose a new password: {link}")

    @hookimpl(optionalhook=True)
    async def faster_auth_email_verification_requested(self, user: UserOut, link: str) -> None:
        await self.send(user, "Confirm your email", f"Confirm your address: {link}")

    @hookimpl(optionalhook=True)
    def faster_auth_user_banned(self, user: UserOut) -> None:
        logger.info("user %s was banned", user.id)

    async def send(self, user: UserOut, subject: str, body: str) -> None:
        if user.email is None:
            return
        self.outbox.append(Email(user.email, subject, body))
        logger.info("sent %r to user %s", subject, user.id)  # never the body: it holds the link


def create_example_app() -> FastAPI:
    return create_app(plugins=[Mailer()])
