"""Run a notebook top to bottom in a real kernel, then run every cell again in the same kernel.

The second pass is what a learner does when they press "Run All" twice or re-run a cell: a
notebook that only works once (a CREATE TABLE without IF NOT EXISTS, a pool closed twice) fails.
The second pass can fill in the exercises (``answers``: cell index -> source), so one kernel shows
both that the lesson runs with every exercise unanswered and that every reference answer passes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def error_outputs(nb: nbformat.NotebookNode) -> list[str]:
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
    return found


def cell_text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed (streams and plain-text results)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def run_notebook_twice(path: Path, env: dict[str, str], timeout: int = 300,
                       answers: Mapping[int, str] | None = None,
                       after_cell: Callable[[CellRunner, int], None] | None = None,
                       ) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """Execute ``path`` twice in one kernel (the second time with ``answers`` filled in).

    ``after_cell(runner, index)`` runs after each cell of the second pass, in the same kernel, with a
    :class:`CellRunner` (the exercise corpus tries wrong answers there, before the lesson's later
    cells run: they must still work). Returns the notebook as it was after each pass;
    raises CellExecutionError on a failing cell.
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        with client.setup_kernel():
            for run in (1, 2):
                if run == 2:
                    for index, source in (answers or {}).items():
                        nb.cells[index].source = source
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type == "code":
                        client.execute_cell(cell, index)
                        if run == 2 and after_cell is not None:
                            after_cell(CellRunner(client, nb), index)
                if run == 1:
                    first_pass = nbformat.from_dict(nb)  # outputs of the clean top-to-bottom run
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return first_pass, nb


class CellRunner:
    """Run one more source in the notebook's kernel, at the place of a given cell."""

    def __init__(self, client: NotebookClient, nb: nbformat.NotebookNode) -> None:
        self.client, self.nb = client, nb

    def run(self, index: int, source: str) -> tuple[str, list[str]]:
        """Execute ``source`` as cell ``index``: what it printed, and its errors (``ename: evalue``)."""
        cell = nbformat.v4.new_code_cell(source)  # a copy: the notebook keeps its own outputs
        try:
            self.client.execute_cell(cell, index)
        except Exception as err:  # CellExecutionError: reported to the caller as the cell's error
            return cell_text(cell), [f"{type(err).__name__}: {str(err)[-500:]}"]
        return cell_text(cell), [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs
                                 if o.get("output_type") == "error"]
