"""Playback: events over time, from scenario runs and schedules.

Owns scenario runs (start, play on time, cancel, completion), schedule specs, cron lines,
pacing of rate schedules and the firing of schedules; the only user of APScheduler. May
import the foundation modules, ``catalogue``, ``scenarios``, ``storage``, ``delivery`` and
``figures``.
"""
