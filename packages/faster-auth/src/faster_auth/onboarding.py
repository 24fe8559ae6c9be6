"""Onboarding: which first-run steps a user has completed, kept in their `attributes` JSON.

`FASTER_AUTH_ONBOARDING_STEPS` names the steps (e.g. `profile,avatar,tour`); a user completes
them one at a time (any order) or all at once, and onboarding is complete when every step is.
With no steps configured, onboarding is one switch: `{"complete": true}`. State lives under
`attributes["onboarding"]` as `{"completed_steps": [...], "completed_at": iso-8601 | null}`.
Each update reads and writes the row in one transaction with the row locked (`SELECT ... FOR
UPDATE` on PostgreSQL, the write lock on SQLite), so concurrent updates never lose a step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from faster_auth.exceptions import UnknownOnboardingStepError
from faster_auth.models import User
from faster_core import NotFoundError
from faster_db import Database, utcnow

__all__ = ["Onboarding", "OnboardingOut", "OnboardingUpdate"]

KEY = "onboarding"


class OnboardingUpdate(BaseModel):
    """Complete one `step`, or (`complete: true`) every step at once."""

    # The schema says what the validator below enforces, so clients (and schema-driven tests)
    # know that `{}` is refused.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["step"], "properties": {"step": {"type": "string"}}},
                {"required": ["complete"], "properties": {"complete": {"const": True}}},
            ]
        }
    )

    step: str | None = Field(default=None, min_length=1, max_length=100)
    complete: bool = False

    @model_validator(mode="after")
    def _something(self) -> OnboardingUpdate:
        if self.step is None and not self.complete:
            raise ValueError("give a step to complete, or complete: true")
        return self


class OnboardingOut(BaseModel):
    steps: list[str]
    completed_steps: list[str]
    complete: bool
    completed_at: datetime | None


class Onboarding:
    """Read and advance users' onboarding for one app's configured steps."""

    def __init__(self, database: Database, issuer: str, steps: Sequence[str]) -> None:
        self.database = database
        self.issuer = issuer
        self.steps = list(dict.fromkeys(steps))

    async def status(self, subject: str) -> OnboardingOut:
        async with self.database.session_scope(readonly=True) as session:
            attributes = await session.scalar(self._select(subject, User.attributes))
        return self._out(_state(attributes))

    async def advance(self, subject: str, update: OnboardingUpdate) -> OnboardingOut:
        if update.step is not None and self.steps and update.step not in self.steps:
            raise UnknownOnboardingStepError(f"There is no onboarding step {update.step!r}.")
        async with self.database.session_scope() as session:
            user = await session.scalar(self._select(subject, User).with_for_update())
            if user is None:
                raise NotFoundError("No such user.")
            state = _state(user.attributes)
            done = list(state["completed_steps"])
            new_steps = self.steps if update.complete else [update.step]
            done.extend(s for s in new_steps if s is not None and s not in done)
            state["completed_steps"] = done
            if state["completed_at"] is None and (update.complete or self._all_done(done)):
                state["completed_at"] = utcnow().isoformat()
            user.attributes = {**(user.attributes or {}), KEY: state}
        return self._out(state)

    def _select(self, subject: str, what: Any) -> Any:
        return select(what).where(User.issuer == self.issuer, User.subject == subject)

    def _all_done(self, done: list[str]) -> bool:
        return bool(self.steps) and all(step in done for step in self.steps)

    def _out(self, state: dict[str, Any]) -> OnboardingOut:
        completed_at = state["completed_at"]
        return OnboardingOut(
            steps=self.steps,
            completed_steps=state["completed_steps"],
            complete=completed_at is not None,
            completed_at=None if completed_at is None else datetime.fromisoformat(completed_at),
        )


def _state(attributes: dict[str, Any] | None) -> dict[str, Any]:
    stored = (attributes or {}).get(KEY)
    stored = stored if isinstance(stored, dict) else {}
    steps = stored.get("completed_steps")
    return {
        "completed_steps": [s for s in steps if isinstance(s, str)]
        if isinstance(steps, list)
        else [],
        "completed_at": stored.get("completed_at")
        if isinstance(stored.get("completed_at"), str)
        else None,
    }
