"""The ``mock-norce`` command.

Owns the command line: catalogue commands (events, generate, validate, scenarios, check)
that need no engine, and engine commands (fire, run, serve), with their exit statuses and
output. May import every package; nothing imports it.
"""
