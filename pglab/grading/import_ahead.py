"""A module a run will need later, imported now on a thread of its own.

Some of what a run needs only at its end is slow to import: nbgrader's gradebook (0.6 s, its
package loads its server extensions), copydetect (0.4 s, it loads matplotlib.pyplot). Started when
a run begins grading, the import happens while the main process waits for kernels and checks,
instead of after. Whoever imports the module later waits for this import (Python's import lock)
rather than doing it twice; a failed import here is reported there, where the module is used.
"""

from __future__ import annotations

import contextlib
import importlib
import threading


def import_ahead(module: str) -> threading.Thread:
    """Start importing ``module`` on a daemon thread; the thread, to join if one must."""
    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module(module)

    thread = threading.Thread(target=load, name=f"pglab-import-{module}", daemon=True)
    thread.start()
    return thread
