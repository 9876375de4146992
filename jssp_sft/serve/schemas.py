"""Request and response bodies of the service (pydantic models: FastAPI validates them and writes the OpenAPI schema).

Every number of a request is checked here or by the instance readers, so that a bad one is a 422 naming its field,
never a 500: floats must be finite (no NaN or Infinity), integers lie in the ranges below, and an instance's numbers
follow the package's one integer limit (``MAX_DIGITS`` digits, docs/verification.md).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


MAX_SEED = 2**63 - 1  # the largest seed every seeded library takes (torch, numpy, CP-SAT after its modulo)
MAX_TEMPERATURE = 100.0  # far beyond any useful sampling temperature; larger is refused rather than passed on


class SolveRequest(BaseModel):
    """One instance to schedule, and how."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {"instance": "J0:\nM2:7 M0:12 M1:5 \nJ1:\nM0:9 M2:4 M1:11 \n", "method": "model", "num_samples": 8},
                {
                    "instance": {"jobs": [[[2, 7], [0, 12], [1, 5]], [[0, 9], [2, 4], [1, 11]]]},
                    "method": "cpsat",
                    "compare": True,
                },
            ]
        },
    )

    instance: str | dict[str, Any] | list[Any] = Field(
        description="The instance: file text in a format the package reads (starjob, standard, taillard, matrix, "
        "json, csv), or a JSON value: {'jobs': [[{'machine': 0, 'duration': 3}, ...], ...]} or [[[0, 3], ...], ...]."
    )
    format: str | None = Field(default=None, description="The text's format; default: detected from the text.")
    method: str = Field(
        default="model",
        description="model, cpsat, random (the seeded random control, best of num_samples) or a dispatching rule "
        "(spt, mwkr, mopnr, fdd/mwkr); see /v1/info.",
    )
    num_samples: int | None = Field(
        default=None, ge=1, description="Model answers sampled (best-of-N); also the N of the random control."
    )
    decoding: Literal["free", "guaranteed"] | None = Field(
        default=None,
        description="guaranteed: constrained so every answer is feasible (default with the transformers backend); "
        "free: plain sampling (default with vllm, which cannot constrain).",
    )
    temperature: float | None = Field(
        default=None, ge=0, le=MAX_TEMPERATURE, description="Sampling temperature (default: the server's)."
    )
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="Seed of the sampling and of the random control.")
    time_limit: float | None = Field(
        default=None,
        gt=0,
        description="CP-SAT's wall-clock cap in seconds (default 60); it stops first at its deterministic budget, "
        "the same schedule on every run.",
    )
    timeout: float | None = Field(
        default=None, gt=0, description="Answer within this many seconds or get 504 (default: the server's limit)."
    )
    rule_variant: str = Field(
        default="non_delay", description="Dispatching-rule variant: non_delay (the stronger), insertion, semi_active."
    )
    compare: bool = Field(
        default=False,
        description="Also run the seeded random control at the same N and the best dispatching rule, and report lift.",
    )


class Baseline(BaseModel):
    name: str
    makespan: int
    lift: float | None = Field(description="(baseline - makespan) / baseline: above 0, the answer is better.")
    num_samples: int | None = None


class SolveResponse(BaseModel):
    """A verified answer: ``feasible`` and ``makespan`` are the package verifier's, never the solver's word."""

    method: str
    num_jobs: int
    num_machines: int
    feasible: bool
    makespan: int | None
    schedule: dict[str, Any] | None = Field(
        description="The schedule, the JSON shape of `jssp-sft solve --output json`."
    )
    details: dict[str, Any] = Field(
        default_factory=dict, description="Method-specific facts (samples, CP-SAT status)."
    )
    comparison: list[Baseline] | None = None
    timings: dict[str, float]


class JobCreated(BaseModel):
    id: str
    status: str
    url: str


class JobStatus(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    method: str
    created: float
    started: float | None = None
    finished: float | None = None
    best: dict[str, Any] | None = Field(
        default=None, description="The best verified schedule so far: makespan, schedule, seconds after start."
    )
    result: SolveResponse | None = None
    error: str | None = None


class Info(BaseModel):
    name: str
    version: str
    model: str | None
    revision: str | None
    backend: str | None
    methods: list[str]
    decodings: list[str]
    default_decoding: str
    rule_variants: list[str]
    limits: dict[str, Any]
