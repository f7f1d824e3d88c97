"""Collector rows are selected by their own event time, so consecutive windows see each row exactly once."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitoring.data.mdc import read_mdc_window
from monitoring.errors import DataError
from monitoring.schedule.windows import Window

START = datetime(2026, 5, 9, 21, 0, tzinfo=UTC)


def _write(root: Path, times: list[datetime], *, first_index: int = 0) -> None:
    """One line per event, in the folder of the hour it was written (as the collector names it)."""
    for i, t in enumerate(times, start=first_index):
        folder = root / f"{t:%Y/%m/%d/%H}"
        folder.mkdir(parents=True, exist_ok=True)
        line = {"specversion": "1.0", "time": t.isoformat().replace("+00:00", "Z"), "correlationid": f"c{i}",
                "data": [{"i": i}]}
        with (folder / "part.jsonl").open("a") as fh:
            fh.write(json.dumps(line) + "\n")


@pytest.fixture
def events(tmp_path: Path) -> list[datetime]:
    # every 7 minutes for 8 hours: crosses hour boundaries and midnight (May 9 -> May 10)
    times = [START + timedelta(minutes=7 * k) for k in range(8 * 60 // 7)]
    _write(tmp_path, times)
    return times


@pytest.mark.parametrize("step", [timedelta(minutes=45), timedelta(hours=1), timedelta(hours=2, minutes=15)])
def test_consecutive_windows_see_each_row_once(tmp_path: Path, step: timedelta) -> None:
    """The collector writes as time passes: at each run only the events before the fire time exist."""
    times = [START + timedelta(minutes=7 * k) for k in range(8 * 60 // 7)]
    seen: Counter[int] = Counter()
    fire = START + timedelta(minutes=10)  # runs at hh:10 while the collector still writes that hour
    first = fire - step
    written = 0
    while fire <= START + timedelta(hours=9):
        new = [t for t in times[written:] if t < fire]
        _write(tmp_path, new, first_index=written)
        written += len(new)
        frame = read_mdc_window(str(tmp_path), Window(fire - step, fire)).frame
        if frame.height:
            seen.update(frame["i"].to_list())
        fire += step
    expected = {i for i, t in enumerate(times) if first <= t < fire - step}
    assert set(seen) == expected
    assert set(seen.values()) == {1}


def test_window_inside_one_hour_reads_only_its_rows(tmp_path: Path, events: list[datetime]) -> None:
    window = Window(datetime(2026, 5, 9, 23, 50, tzinfo=UTC), datetime(2026, 5, 10, 0, 20, tzinfo=UTC))
    frame = read_mdc_window(str(tmp_path), window).frame
    assert sorted(frame["i"].to_list()) == [i for i, t in enumerate(events) if window.start <= t < window.end]


def test_unparsable_event_times_are_counted(tmp_path: Path) -> None:
    folder = tmp_path / "2026/05/10/01"
    folder.mkdir(parents=True)
    lines = [{"time": "2026-05-10T01:05:00Z", "data": [{"i": 1}]}, {"time": "soon", "data": [{"i": 2}]}]
    (folder / "part.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    data = read_mdc_window(str(tmp_path), Window(datetime(2026, 5, 10, 1, tzinfo=UTC),
                                                 datetime(2026, 5, 10, 2, tzinfo=UTC)))
    assert data.frame["i"].to_list() == [1]
    assert data.unparsed_timestamps == 1


def test_a_broken_line_names_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "2026/05/10/01"
    folder.mkdir(parents=True)
    (folder / "part.jsonl").write_text('{"time": "2026-05-10T01:05:00Z", "data": []}\n{"time": \n')
    with pytest.raises(DataError, match=r"cannot read .*part.jsonl: line 2 is not JSON"):
        read_mdc_window(str(tmp_path), Window(datetime(2026, 5, 10, 1, tzinfo=UTC),
                                              datetime(2026, 5, 10, 2, tzinfo=UTC)))
