"""copydetect, imported without the plotting library it loads for reports pglab never draws.

copydetect 0.5.0 (pinned) imports ``matplotlib.pyplot`` at the top of its ``detector`` module, for
the histogram and matrix in ``CopyDetector``'s own HTML report. pglab uses its fingerprints and
``compare_files`` only, none of which plots. That one import was 0.28 s of copydetect's 0.30 s, in
a re-run that ranks the one challenge a learner changed, on the grader's main process where every
tenth of a second is waited for. Here copydetect is imported with stand-ins for ``matplotlib`` and
``matplotlib.pyplot`` in ``sys.modules``, which are removed again at once: copydetect's module keeps
its stand-in ``plt`` (any use of it raises :class:`CopydetectPlotting`), everything else imports the
real matplotlib as before. When pyplot is already loaded, copydetect simply gets it.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types

PLOTTING = ("matplotlib", "matplotlib.pyplot")
_lock = threading.Lock()


class CopydetectPlotting(RuntimeError):
    """copydetect was asked to plot: pglab imported it without pyplot, and never plots with it."""


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str) -> object:
        raise CopydetectPlotting(f"{self.__name__}.{name}: pglab imports copydetect without pyplot "
                                 "(pglab.grading.reports.copydetect_without_plots)")


def load_copydetect() -> types.ModuleType:
    """The ``copydetect`` package (with its ``utils``), imported without pyplot unless already loaded."""
    with _lock:
        if "copydetect" in sys.modules or "matplotlib.pyplot" in sys.modules:
            return _import()
        pyplot = _StandIn("matplotlib.pyplot")
        stand_ins = {"matplotlib.pyplot": pyplot}
        if "matplotlib" not in sys.modules:
            package = _StandIn("matplotlib")
            vars(package)["pyplot"] = pyplot  # what `import matplotlib.pyplot as plt` reads from the package
            stand_ins["matplotlib"] = package
        sys.modules.update(stand_ins)
        try:
            return _import()
        finally:
            for name, stand_in in stand_ins.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]


def _import() -> types.ModuleType:
    module = importlib.import_module("copydetect")
    importlib.import_module("copydetect.utils")
    return module
