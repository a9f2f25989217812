"""The ``mock-norce`` command: catalogue commands (events, generate, validate, scenarios,
check) that need no engine, and engine commands (fire, run, serve).

May import every package; nothing imports it.
"""
