"""Password hashing with argon2 (pwdlib), off the event loop, and the password policy.

Hashing costs tens of milliseconds of CPU by design, so it runs in a worker thread: a sign-in
never stalls other requests. `verify_or_dummy` hashes against a dummy when there is no user, so
"unknown user" takes as long as "wrong password".
"""

from __future__ import annotations

from anyio import to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

__all__ = ["MAX_PASSWORD_LENGTH", "PasswordHasher"]

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
