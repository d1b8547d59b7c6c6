"""Everything ``simcore run --out DIR`` writes: result.json, topdown.png, junit.xml, report.html."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from simcore.report.junit import JUnitCase, case_from_result, write_junit
from simcore.runner.results import Result
from simcore.world import World

#: Seconds of writing after which the progress bar shows.
PROGRESS_AFTER_S = 1.0
#: File names inside a run's output folder.
RESULT_JSON, TOPDOWN_PNG, JUNIT_XML, REPORT_HTML = "result.json", "topdown.png", "junit.xml", "report.html"


def write_run_outputs(
    world: World,
    result: Result,
    out_dir: Path,
    *,
    agent_label: str | None = None,
    pictures: bool = True,
    progress: bool = False,
) -> JUnitCase:
    """Write the run's files into ``out_dir``; returns its JUnit case.

    ``agent_label``: appended to the test case's name (batches comparing agents).
    ``pictures=False`` leaves out topdown.png and report.html (batch runs that only need scores).
    result.json is written last (an old one is removed first), so its presence marks a complete output folder.
    ``progress``: a bar on stderr (shown once writing has taken PROGRESS_AFTER_S) naming each file.
    """
    from tqdm import tqdm

    from simcore.report.series import ego_series

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / RESULT_JSON).unlink(missing_ok=True)  # the folder is incomplete until it is written again
    bar = tqdm(total=4 if pictures else 2, desc="writing", unit="file", delay=PROGRESS_AFTER_S, leave=False,
               disable=not progress)  # fmt: skip
    t0 = time.monotonic()

    def now_writing(name: str) -> None:  # tqdm's delay holds back updates only: a refresh would show the bar
        bar.set_postfix_str(name, refresh=time.monotonic() - t0 >= PROGRESS_AFTER_S)

    now_writing("series")
    series = ego_series(world, result)
    min_ttc_time = None
    if series is not None and np.isfinite(series.ttc).any():
        min_ttc_time = float(series.time[int(np.argmin(series.ttc))])
    data = result.to_json()
    case = case_from_result(data, wall_time=result.wall_time, agent_label=agent_label, min_ttc_time=min_ttc_time)
    write_junit([case], out_dir / JUNIT_XML)
    bar.update()
    if pictures:
        from simcore.render.topdown import draw_run
        from simcore.report.html import write_report

        now_writing(TOPDOWN_PNG)
        draw_run(world, result, out_dir / TOPDOWN_PNG)
        bar.update()
        now_writing(REPORT_HTML)
        write_report(world, result, out_dir / REPORT_HTML, series, data=data)
        bar.update()
    now_writing(RESULT_JSON)
    result.write_json(out_dir / RESULT_JSON, data=data)
    bar.update()
    bar.close()
    return case
