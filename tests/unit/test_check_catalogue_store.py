"""The check catalogue is collected (a pytest child) only when the check folders' contents changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pglab.checks.results import CheckInfo
from pglab.grading import check_catalogue


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Path], list[list[Path]]]:
    """Two check folders with one module each; ``collect`` replaced by a recorder of its calls."""
    visible, hidden = tmp_path / "visible" / "core", tmp_path / "hidden" / "core"
    for folder in (visible, hidden):
        folder.mkdir(parents=True)
        (folder / "test_beginner.py").write_text("def test_one(sub):\n    assert True\n")
    monkeypatch.setattr(check_catalogue, "check_roots", lambda: (visible.parent, hidden.parent))
    monkeypatch.setenv("PGLAB_HOME", str(tmp_path / "home"))
    calls: list[list[Path]] = []

    def collect(files: list[Path]) -> dict[str, list[CheckInfo]]:
        calls.append(files)
        name = f"test_one[{len(calls)}]"
        return {str(f.resolve()): [CheckInfo(name, "one", 1.0, "hidden" in str(f), str(f.resolve()))] for f in files}

    monkeypatch.setattr(check_catalogue, "collect", collect)
    return [visible / "test_beginner.py", hidden / "test_beginner.py"], calls


def test_unchanged_checks_are_read_back_not_collected(folders: tuple[list[Path], list[list[Path]]]) -> None:
    files, calls = folders
    first = check_catalogue._stored_or_collected(files)
    again = check_catalogue._stored_or_collected(files)
    assert len(calls) == 1
    assert again == first
    assert [info.name for infos in again.values() for info in infos] == ["test_one[1]", "test_one[1]"]


def test_any_change_in_a_check_folder_collects_again(folders: tuple[list[Path], list[list[Path]]]) -> None:
    files, calls = folders
    check_catalogue._stored_or_collected(files)
    (files[1].parent / "conftest.py").write_text("import pytest\n")  # not a check module, but collection reads it
    check_catalogue._stored_or_collected(files)
    files[0].write_text("def test_one(sub):\n    assert 1\n")
    changed = check_catalogue._stored_or_collected(files)
    assert len(calls) == 3
    assert changed[str(files[0].resolve())][0].name == "test_one[3]"


def test_an_unreadable_record_is_collected_again(folders: tuple[list[Path], list[list[Path]]]) -> None:
    files, calls = folders
    check_catalogue._stored_or_collected(files)
    for record in Path(check_catalogue.load_settings().home, "check-catalogues").iterdir():
        record.write_text("{not json")
    check_catalogue._stored_or_collected(files)
    assert len(calls) == 2


def test_a_state_folder_that_cannot_be_written_costs_a_collection_not_the_run(
        folders: tuple[list[Path], list[list[Path]]]) -> None:
    """An instructor grading with someone else's checkout (its ``.pglab`` not theirs) still grades."""
    files, calls = folders
    home = check_catalogue.load_settings().home
    home.mkdir(parents=True)
    (home / "check-catalogues").write_text("not a folder")  # what root cannot write either
    first = check_catalogue._stored_or_collected(files)
    again = check_catalogue._stored_or_collected(files)
    assert len(calls) == 2
    assert first.keys() == again.keys()
