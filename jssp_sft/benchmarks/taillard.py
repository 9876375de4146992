"""Taillard's job-shop generator (Taillard 1993, "Benchmarks for basic scheduling problems").

His Lehmer random number generator (a = 16807, m = 2^31 - 1, computed with Schrage's method, q = 127773,
r = 2836) draws the durations (1-99) from a time seed and shuffles each job's machine order from a machine seed, so
the published seeds regenerate his instances exactly (ta01: time seed 840612802, machine seed 398197754).
"""

from __future__ import annotations

from ..core.instance import Instance


MODULUS = 2**31 - 1
MULTIPLIER = 16807
SCHRAGE_Q = 127773  # MODULUS // MULTIPLIER
SCHRAGE_R = 2836  # MODULUS % MULTIPLIER

# Taillard's published seeds (Taillard 1993, Table of the job-shop instances): name -> (jobs, machines, time seed,
# machine seed). ta01-ta10 are 15x15, then ten each of 20x15, 20x20, 30x15, 30x20, 50x15, 50x20, 100x20.
# One instance per line, as in Taillard's paper: the formatter is told to leave this table alone (fmt: skip below).
TAILLARD_SEEDS: dict[str, tuple[int, int, int, int]] = {
    "ta01": (15, 15, 840612802, 398197754),
    "ta02": (15, 15, 1314640371, 386720536),
    "ta03": (15, 15, 1227221349, 316176388),
    "ta04": (15, 15, 342269428, 1806358582),
    "ta05": (15, 15, 1603221416, 1501949241),
    "ta06": (15, 15, 1357584978, 1734077082),
    "ta07": (15, 15, 44531661, 1374316395),
    "ta08": (15, 15, 302545136, 2092186050),
    "ta09": (15, 15, 1153780144, 1393392374),
    "ta10": (15, 15, 73896786, 1544979948),
    "ta11": (20, 15, 533484900, 317419073),
    "ta12": (20, 15, 1894307698, 1474268163),
    "ta13": (20, 15, 874340513, 509669280),
    "ta14": (20, 15, 1124986343, 1209573668),
    "ta15": (20, 15, 1463788335, 529048107),
    "ta16": (20, 15, 1056908795, 25321885),
    "ta17": (20, 15, 195672285, 1717580117),
    "ta18": (20, 15, 961965583, 1353003786),
    "ta19": (20, 15, 1610169733, 1734469503),
    "ta20": (20, 15, 532794656, 998486810),
    "ta21": (20, 20, 1035939303, 773961798),
    "ta22": (20, 20, 5997802, 1872541150),
    "ta23": (20, 20, 1357503601, 722225039),
    "ta24": (20, 20, 806159563, 1166962073),
    "ta25": (20, 20, 1902815253, 1879990068),
    "ta26": (20, 20, 1503184031, 1850351876),
    "ta27": (20, 20, 1032645967, 99711329),
    "ta28": (20, 20, 229894219, 1158117804),
    "ta29": (20, 20, 823349822, 108033225),
    "ta30": (20, 20, 1297900341, 489486403),
    "ta31": (30, 15, 98640593, 1981283465),
    "ta32": (30, 15, 1839268120, 248890888),
    "ta33": (30, 15, 573875290, 2081512253),
    "ta34": (30, 15, 1670898570, 788294565),
    "ta35": (30, 15, 1118914567, 1074349202),
    "ta36": (30, 15, 178750207, 294279708),
    "ta37": (30, 15, 1549372605, 596993084),
    "ta38": (30, 15, 798174738, 151685779),
    "ta39": (30, 15, 553410952, 1329272528),
    "ta40": (30, 15, 1661531649, 1173386294),
    "ta41": (30, 20, 1841414609, 1357882888),
    "ta42": (30, 20, 2116959593, 1546338557),
    "ta43": (30, 20, 796392706, 1230864158),
    "ta44": (30, 20, 532496463, 254174057),
    "ta45": (30, 20, 2020525633, 978943053),
    "ta46": (30, 20, 524444252, 185526083),
    "ta47": (30, 20, 1569394691, 487269855),
    "ta48": (30, 20, 1460267840, 1631446539),
    "ta49": (30, 20, 198324822, 1937476577),
    "ta50": (30, 20, 38071822, 1541985579),
    "ta51": (50, 15, 17271, 718939),
    "ta52": (50, 15, 660481279, 449650254),
    "ta53": (50, 15, 352229765, 949737911),
    "ta54": (50, 15, 1197518780, 166840558),
    "ta55": (50, 15, 1376020303, 483922052),
    "ta56": (50, 15, 2106639239, 955932362),
    "ta57": (50, 15, 1765352082, 1209982549),
    "ta58": (50, 15, 1105092880, 1349003108),
    "ta59": (50, 15, 907248070, 919544535),
    "ta60": (50, 15, 2011630757, 1845447001),
    "ta61": (50, 20, 8493988, 2738939),
    "ta62": (50, 20, 1991925010, 709517751),
    "ta63": (50, 20, 342093237, 786960785),
    "ta64": (50, 20, 1634043183, 973178279),
    "ta65": (50, 20, 341706507, 286513148),
    "ta66": (50, 20, 320167954, 1411193018),
    "ta67": (50, 20, 1089696753, 298068750),
    "ta68": (50, 20, 433032965, 1589656152),
    "ta69": (50, 20, 615974477, 331205412),
    "ta70": (50, 20, 236150141, 592292984),
    "ta71": (100, 20, 302034063, 1203569070),
    "ta72": (100, 20, 1437643198, 1692025209),
    "ta73": (100, 20, 1792475497, 1039908559),
    "ta74": (100, 20, 1647273132, 1012841433),
    "ta75": (100, 20, 696480901, 1689682358),
    "ta76": (100, 20, 1785569423, 1092647459),
    "ta77": (100, 20, 117806902, 739059626),
    "ta78": (100, 20, 1639154709, 1319962509),
    "ta79": (100, 20, 2007423389, 749368241),
    "ta80": (100, 20, 682761130, 262763021),
}  # fmt: skip


class LehmerGenerator:
    """Taillard's ``unif``: a Lehmer (Park-Miller) generator with Schrage's overflow-free multiplication."""

    def __init__(self, seed: int):
        if not 0 < seed < MODULUS:
            raise ValueError(f"a Lehmer seed must lie in 1..{MODULUS - 1}, got {seed}")
        self.seed = int(seed)

    def next_unit(self) -> float:
        """Advance the seed and return it as a number in (0, 1)."""
        k = self.seed // SCHRAGE_Q
        seed = MULTIPLIER * (self.seed % SCHRAGE_Q) - k * SCHRAGE_R
        if seed < 0:
            seed += MODULUS
        self.seed = seed
        return seed / MODULUS

    def uniform(self, low: int, high: int) -> int:
        """An integer in ``low..high``, as Taillard's ``unif(seed, low, high)``."""
        return low + int(self.next_unit() * (high - low + 1))


def taillard_instance(
    num_jobs: int,
    num_machines: int,
    time_seed: int,
    machine_seed: int,
    low: int = 1,
    high: int = 99,
    name: str | None = None,
) -> Instance:
    """Taillard's instance for these seeds: durations ``low..high`` (his are 1-99), each job visiting every machine.

    Durations are drawn job by job from the time seed; each job's machine order starts as 0..M-1 and its position
    j is swapped with a position drawn in ``j..M-1`` from the machine seed.
    """
    times = LehmerGenerator(time_seed)
    durations = [[times.uniform(low, high) for _ in range(num_machines)] for _ in range(num_jobs)]
    shuffles = LehmerGenerator(machine_seed)
    machines = []
    for _ in range(num_jobs):
        order = list(range(num_machines))
        for j in range(num_machines):
            swap = shuffles.uniform(j, num_machines - 1)
            order[j], order[swap] = order[swap], order[j]
        machines.append(order)
    return Instance.from_arrays(machines, durations, num_machines, name)


def taillard_benchmark(name: str) -> Instance:
    """Regenerate Taillard's instance ``name`` (``"ta01"`` .. ``"ta80"``) from his published seeds."""
    try:
        num_jobs, num_machines, time_seed, machine_seed = TAILLARD_SEEDS[name]
    except KeyError:
        raise ValueError(f"unknown Taillard instance {name!r}; the names are ta01..ta80") from None
    return taillard_instance(num_jobs, num_machines, time_seed, machine_seed, name=name)
