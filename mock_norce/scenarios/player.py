"""Play a scenario: its steps as due events, with ``tick(now)``. No threads, no I/O.

All randomness of a run (entities, branch choices, payloads) comes from one
``random.Random(seed)``, drawn in step order, so the same seed plays the same payloads in the
same order. Entities are Draws kept for the whole run (or for one round of a repeat block
that declares its own), so every event of one order carries that order's ids and buyer.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any, Iterator

from mock_norce.errors import MockNorceError, ScenarioRunError
from mock_norce.weighted import Weighted
from mock_norce.catalogue.payloads import EventFactory, Payload
from mock_norce.catalogue.fields import ABSENT, MAKERS, Draw
from mock_norce.scenarios.model import REF, Choose, Emit, EntitySpec, ForEach, Repeat, Scenario, Wait


_PER_EVENT = {"EntityChanged", "State", "StatusId"}


@dataclass
class Emitted:
    """An event a step produced, ready to be delivered."""

    step: str  # the step's name, or its event type when unnamed
    line: int
    payload: Payload
    key: int = 0  # id() of the Emit step (scenarios.outline knows steps by identity)


class Player:
    """The steps of a scenario as a generator of ("emit", Emitted) and ("wait", seconds)."""

    def __init__(self, scenario: Scenario, factory: EventFactory, rng: random.Random):
        self.scenario = scenario
        self.factory = factory
        self.rng = rng
        self.results: dict[str, dict] = {}  # step name -> body of its latest payload
        # Where the play is, for a run's page (scenarios.outline): the id() of each step and
        # branch entered so far (a dict: ordered, and copied whole while the runs thread adds)
        # and of the step acted on last (an emit, or the wait being waited).
        self.played: dict[int, None] = {}
        self.current: int | None = None

    def play(self) -> Iterator[tuple[str, Any]]:
        env = self._draw_entities(self.scenario.entities)
        yield from self._block(self.scenario.steps, env)

    def _draw_entities(self, specs: tuple[EntitySpec, ...], env: dict | None = None) -> dict:
        env = dict(env or {})
        for spec in specs:
            if spec.count is None:
                env[spec.name] = self.factory.draw(self.rng, spec.market, spec.fields)
            else:
                env[spec.name] = [self.factory.draw(self.rng, spec.market, spec.fields) for _ in range(spec.count)]
        return env

    def _block(self, steps, env: dict) -> Iterator[tuple[str, Any]]:
        for step in steps:
            self.played[id(step)] = None
            self.current = id(step)
            if isinstance(step, Emit):
                yield "emit", self._emit(step, env)
            elif isinstance(step, Wait):
                yield "wait", step.seconds
            elif isinstance(step, Choose):
                branch = self._pick(step.branches)
                self.played[id(branch)] = None
                yield from self._block(branch[1], self._draw_entities(branch[2], env))
            elif isinstance(step, Repeat):
                for _ in range(step.times):
                    yield from self._block(step.steps, self._draw_entities(step.entities, env))
            elif isinstance(step, ForEach):
                for item in env[step.entities]:
                    yield from self._block(step.steps, {**env, step.alias: item})

    def _pick(self, branches):
        return Weighted([(branch, branch[0]) for branch in branches], "choose", error=ScenarioRunError).pick(self.rng)

    def _emit(self, step: Emit, env: dict) -> Emitted:
        overrides, omit = {}, list(step.omit)
        for name, value in step.set.items():
            resolved = self._resolve(value, env, step)
            if resolved is ABSENT:
                omit.append(name)
            else:
                overrides[name] = resolved
        draw = env[step.entity] if step.entity else None
        try:
            payload = self.factory.generate(step.event_type, rng=self.rng, draw=draw,
                                            overrides=overrides, omit=omit)
        except MockNorceError as exc:
            raise ScenarioRunError(f"{self.scenario.name}, line {step.line}: {exc.message}") from None
        if step.name:
            self.results[step.name] = payload.body
        return Emitted(step.name or step.event_type, step.line, payload, id(step))

    def _resolve(self, value: Any, env: dict, step: Emit) -> Any:
        if isinstance(value, dict):
            return {k: self._resolve(v, env, step) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v, env, step) for v in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        whole = REF.fullmatch(value)
        if whole:  # a lone reference keeps the value's type (a number stays a number)
            return self._lookup(whole.group(1), whole.group(2), env, step)
        def text(match):
            found = self._lookup(match.group(1), match.group(2), env, step)
            return "" if found is ABSENT else str(found)
        return REF.sub(text, value)

    def _lookup(self, target: str, field: str, env: dict, step: Emit) -> Any:
        if target in env:
            draw = env[target]
            if not isinstance(draw, Draw):
                raise ScenarioRunError(f"{self.scenario.name}, line {step.line}: {target!r} is a list of entities")
            if field in draw.fixed:
                return draw.fixed[field]
            if field in _PER_EVENT or field not in MAKERS:
                return ABSENT  # not a fact of the entity, only of one event about it
            return MAKERS[field](draw)
        body = self.results.get(target)
        if body is None:
            raise ScenarioRunError(f"{self.scenario.name}, line {step.line}: step {target!r} has not run yet")
        return body.get(field, ABSENT)


class Run:
    """One playing of a scenario: ``tick(now)`` returns the events due by `now`."""

    def __init__(self, scenario: Scenario, factory: EventFactory, seed: int, time_scale: float, start: float):
        self.scenario = scenario
        self.seed = seed
        self.time_scale = time_scale
        self.next_at = start
        self.done = False
        self.error: str | None = None  # why the run could not go on
        self.player = Player(scenario, factory, random.Random(seed))
        self._actions = self.player.play()

    def tick(self, now: float) -> list[Emitted]:
        """Play every step due by `now`; waits move ``next_at`` on from where the last ended."""
        out: list[Emitted] = []
        while not self.done and self.next_at <= now:
            try:
                kind, value = next(self._actions)
            except StopIteration:
                self.done = True
                break
            except ScenarioRunError as exc:
                self.done, self.error = True, exc.message  # what was played so far still goes out
                break
            if kind == "wait":
                self.next_at += value * self.time_scale
            else:
                out.append(value)
        return out


class MixStream:
    """Events of weighted scenarios played back to back without their waits: a soak's stream.

    Each scenario played keeps its entities, so the stream is made of coherent stories (an
    order received, confirmed, paid...), interleaved as the weights say. ``stories()`` tells
    which play each payload belongs to, so a schedule can keep a story's events in order.
    """

    def __init__(self, weighted: list[tuple[Scenario, float]], factory: EventFactory, seed: int):
        self.weighted = weighted
        self.factory = factory
        self.seed = seed

    def payloads(self) -> Iterator[Payload]:
        return (payload for _, payload in self.stories())

    def stories(self) -> Iterator[tuple[int, Payload]]:
        """(story number, payload): the number counts the scenario plays, from 0."""
        rng = random.Random(self.seed)
        picker = Weighted(self.weighted, "mix", error=ScenarioRunError)
        empty = 0
        for story in itertools.count():
            chosen = picker.pick(rng)
            produced = False
            for kind, value in Player(chosen, self.factory, rng).play():
                if kind == "emit":
                    produced = True
                    yield story, value.payload
            empty = 0 if produced else empty + 1
            if empty > 1000:
                raise ScenarioRunError(f"the mix produces no events ({chosen.name} emitted nothing 1000 times)")
