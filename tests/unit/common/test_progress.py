"""Progress lines reach the attached terminal, at most every few seconds per stage and always the last."""

from __future__ import annotations

from ingest.common import progress


def test_steps_are_told_every_few_seconds_and_the_last_always(monkeypatch, tmp_path):
    clock = iter([0.0, 0.5, 2.5, 3.0, 3.1])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    out = tmp_path / "terminal"
    with out.open("wb") as terminal:
        progress.attach(terminal.fileno())
        try:
            for done in range(1, 6):
                progress.step("parse", done, 5, "files")
            progress.step("publish", 1, 1, "datasets")  # one step: nothing to tell
        finally:
            progress.detach()
    assert out.read_text(encoding="utf-8").splitlines() == ["  parse: 3 of 5 files", "  parse: 5 of 5 files"]


def test_without_a_terminal_progress_goes_to_the_log(caplog):
    with caplog.at_level("INFO", logger="socorg.progress"):
        progress.say("  dbt   1 of 44  OK  marts.organizations (0.10 s)")
    assert "marts.organizations" in caplog.text
    assert progress._terminal is None
