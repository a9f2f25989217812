"""A scenario's steps as a flat outline to show (each with its depth), and where a run is in it.

The outline is what the scenario and run pages list, and ``GET /api/runs/<id>`` returns:
one item per step (emit, wait, choose, repeat, for_each) and per branch of a choose, in file
order, indented by nesting. A run's progress names outline items by index: the steps it has
played, the one it is at, and how long its wait has left. Steps are known by identity (two
steps may share a line in flow style), as the Player marks them. Pure: no clock of its own.
"""

from __future__ import annotations

from mock_norce.scenarios.model import Choose, Emit, ForEach, Repeat, Scenario, Wait
from mock_norce.scenarios.player import Run

KINDS = ("emit", "wait", "choose", "branch", "repeat", "for_each")


def outline(scenario: Scenario) -> list[dict]:
    """The steps of `scenario` in file order: index, depth, kind, text, line, event_type, seconds."""
    items: list[dict] = []
    _walk(scenario.steps, 0, items)
    return [{k: v for k, v in item.items() if k != "key"} for item in items]


def keys(scenario: Scenario) -> dict[int, int]:
    """id(step or branch) -> its outline index (what a Player marks as played)."""
    items: list[dict] = []
    _walk(scenario.steps, 0, items)
    return {item["key"]: item["index"] for item in items}


def _walk(steps, depth: int, items: list) -> None:
    for step in steps:
        items.append(_item(step, depth, len(items)))
        if isinstance(step, Choose):
            total = sum(b[0] for b in step.branches) or 1
            for n, branch in enumerate(step.branches, 1):
                weight, inner, _ = branch
                items.append({"key": id(branch), "index": len(items), "depth": depth + 1, "kind": "branch",
                              "text": f"branch {n}: weight {weight:g} ({weight / total:.0%})",
                              "line": inner[0].line if inner else step.line, "event_type": None, "seconds": None})
                _walk(inner, depth + 2, items)
        elif isinstance(step, (Repeat, ForEach)):
            _walk(step.steps, depth + 1, items)


def _item(step, depth: int, index: int) -> dict:
    item = {"key": id(step), "index": index, "depth": depth, "line": step.line, "event_type": None, "seconds": None}
    if isinstance(step, Emit):
        text = f"emit {step.event_type}"
        if step.name:
            text += f" as {step.name}"
        if step.entity:
            text += f" for {step.entity}"
        if step.set:
            text += " setting " + ", ".join(sorted(step.set))
        if step.omit:
            text += " without " + ", ".join(step.omit)
        return item | {"kind": "emit", "text": text, "event_type": step.event_type}
    if isinstance(step, Wait):
        return item | {"kind": "wait", "text": f"wait {_seconds(step.seconds)}", "seconds": step.seconds}
    if isinstance(step, Choose):
        return item | {"kind": "choose", "text": f"choose one of {len(step.branches)} branches by weight"}
    if isinstance(step, Repeat):
        return item | {"kind": "repeat", "text": f"repeat {step.times:,} times"}
    return item | {"kind": "for_each", "text": f"for each {step.alias} in {step.entities}"}


def _seconds(s: float) -> str:
    """2 s, 1 min, 1 h 30 min, 1 d: a wait as the file would say it."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            whole, rest = divmod(s, size)
            return f"{whole:g} {unit}" + (f" {_seconds(rest)}" if rest else "")
    return f"{s:g} s"


def progress(run: Run, now: float) -> dict:
    """Where `run` is: the outline indices it has played, the one it is at, and its wait.

    state is ``waiting`` (at a wait, ``wait_remaining_s`` real seconds left), ``due`` (its
    next step is due and about to play) or ``done`` (every step played)."""
    index = keys(run.scenario)
    player = run.player
    played = [index[k] for k in list(player.played) if k in index]
    current = index.get(player.current) if player.current is not None else None
    if run.done:
        state, until = "done", None
    elif run.next_at > now:
        state, until = "waiting", run.next_at
    else:
        state, until = "due", None
    return {"state": state, "current": None if run.done else current, "played": sorted(played),
            "next_at": until, "wait_remaining_s": None if until is None else round(until - now, 3)}
