"""The default delivery of reset and verification links when no plugin implements it.

Outside production the link is logged, once, by this module's logger (`faster_auth.delivery`),
so a developer can click it; no other log line, response, error or audit event ever contains the
token. In production nothing is logged but an error saying that the email was not delivered:
implement `faster_auth_password_reset_requested` / `faster_auth_email_verification_requested`.
"""

from __future__ import annotations

import logging

from faster_auth.schemas import UserOut

__all__ = ["deliver_without_implementation"]

logger = logging.getLogger(__name__)


def deliver_without_implementation(
    hook_name: str, *, user: UserOut, link: str, log_links: bool
) -> None:
    """Log `link` for the developer (`log_links`), or report that nothing delivered it."""
    if log_links:
        logger.warning(
            "no plugin implements %s; development delivery for user %s: %s",
            hook_name,
            user.id,
            link,
        )
        return
    logger.error(
        "no plugin implements %s: the link for user %s was not delivered", hook_name, user.id
    )
