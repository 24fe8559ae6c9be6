"""Password hashing with argon2 (pwdlib), off the event loop, and the password policy.

Hashing costs tens of milliseconds of CPU by design, so it runs in a worker thread: a sign-in
never stalls other requests. `verify_or_dummy` hashes against a dummy when there is no user, so
"unknown user" takes as long as "wrong password".
"""

from __future__ import annotations

from dataclasses import dataclass

from anyio import to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from faster_auth._common_passwords import COMMON_PASSWORDS
from faster_auth.exceptions import WeakPasswordError

__all__ = ["MAX_PASSWORD_LENGTH", "PasswordHasher", "PasswordPolicy"]

MAX_PASSWORD_LENGTH = 1024  # argon2 hashes any length; a megabyte password is a DoS


class PasswordHasher:
    """argon2id hashes; verification that costs the same whether or not the user exists."""

    def __init__(self) -> None:
        self._hash = PasswordHash((Argon2Hasher(),))
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await to_thread.run_sync(self._hash.hash, password)

    async def verify_or_dummy(self, password: str, password_hash: str | None) -> bool:
        """Whether `password` matches; with no hash, a dummy verification and `False`."""
        if password_hash is None:
            if self._dummy is None:
                self._dummy = await self.hash("dummy password for timing")
            await to_thread.run_sync(self._hash.verify, password, self._dummy)
            return False
        return await to_thread.run_sync(self._hash.verify, password, password_hash)


@dataclass(frozen=True)
class PasswordPolicy:
    """Length bounds and, optionally, a refusal of well-known passwords (a bundled list)."""

    min_length: int
    max_length: int = MAX_PASSWORD_LENGTH
    check_common: bool = True

    def check(self, password: str, *, email: str | None = None) -> None:
        """Raise `WeakPasswordError` naming the rule `password` breaks."""
        if len(password) < self.min_length:
            raise WeakPasswordError(f"The password must be at least {self.min_length} characters.")
        if len(password) > self.max_length:
            raise WeakPasswordError(f"The password must be at most {self.max_length} characters.")
        if self.check_common and _is_common(password, email):
            raise WeakPasswordError("The password is too common; choose another one.")


def _is_common(password: str, email: str | None) -> bool:
    folded = password.casefold()
    if folded in COMMON_PASSWORDS:
        return True
    # The account's own email (or its local part) is the first guess of anyone holding it.
    if email:
        email = email.casefold()
        return folded in {email, email.partition("@")[0]}
    return False
