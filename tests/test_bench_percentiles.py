"""The serve benchmarks' percentiles (bench/escalation.py, bench/hung_helpdesk.py) stay within the
values measured: a short run's p95 is never printed above its max."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import escalation  # noqa: E402
import hung_helpdesk  # noqa: E402

TEN_ESCALATIONS = [31.0, 35.0, 36.0, 37.0, 37.0, 38.0, 40.0, 52.0, 70.0, 83.0]  # a --seconds 2 run, ms


@pytest.mark.parametrize("bench", [escalation, hung_helpdesk], ids=["escalation", "hung_helpdesk"])
def test_a_small_sample_s_p95_is_not_above_its_max(bench):
    assert bench.pct(TEN_ESCALATIONS, 95) <= max(TEN_ESCALATIONS)
    assert bench.pct(TEN_ESCALATIONS, 50) == 37.5


@pytest.mark.parametrize("bench", [escalation, hung_helpdesk], ids=["escalation", "hung_helpdesk"])
def test_one_value_or_none_gives_a_figure_not_a_traceback(bench):
    assert bench.pct([42.0], 95) == 42.0
    assert bench.pct([], 95) != bench.pct([], 95)  # nan: "nan ms" printed, the run's other figures kept
