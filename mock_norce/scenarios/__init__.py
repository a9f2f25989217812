"""Scenarios: scripted stories of events, as data files, and their player.

Owns the scenario model, the checker (format schema and meaning, with line numbers), the
library of scenario files and the player that turns a scenario into due events with
``tick(now)``. Pure: no threads, no sockets, no database. May import the foundation modules
and ``catalogue``.
"""
