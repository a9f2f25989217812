"""Lines on stdout for the command line, from the main thread and the delivery threads.

Whole lines under a lock, so that they never interleave; and a reader that goes away
(`mock-norce run ... | head -n 1`) stops the command quietly instead of killing the thread
that happened to print (which also records attempts) or printing a traceback.
"""

from __future__ import annotations

import _thread
import os
import sys
import threading

_OUT = threading.Lock()
# Set when stdout's reader went away: main() then ends with the SIGPIPE status, quietly.
STDOUT_GONE = threading.Event()


def say(line: str) -> None:
    """Print one whole line."""
    with _OUT:
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            stdout_gone()
            if threading.current_thread() is threading.main_thread():
                raise
            # A delivery thread: it must live on, and the command stops from its main thread
            # (a KeyboardInterrupt there, which main() reports as the closed pipe).
            _thread.interrupt_main()


def stdout_gone() -> None:
    """Point stdout at /dev/null, so that nothing (not the flush at exit) fails on it again."""
    STDOUT_GONE.set()
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
