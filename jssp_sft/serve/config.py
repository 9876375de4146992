"""The settings of ``jssp-sft serve``: which model, where to listen, how to batch, and every limit a request meets.

One dataclass, parsed by TRL's ``TrlParser`` from flags or YAML (``jssp-sft serve --config serve.yaml``) and handed
whole to ``create_app``; ``/v1/info`` publishes the limits so a client can read them before it is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..solve.config import SolverModelArguments


@dataclass
class ServeArguments(SolverModelArguments):
    """Model, address, batching and limits of the scheduling service."""

    model: str | None = field(
        default=None,
        metadata={
            "help": "Training run directory (adapter or merged), base model or Hub id; none: cpsat and rules only."
        },
    )
    host: str = field(default="127.0.0.1", metadata={"help": "Address to listen on (0.0.0.0 in a container)."})
    port: int = field(default=8000, metadata={"help": "Port to listen on."})
    batch_window_ms: float = field(
        default=20.0,
        metadata={
            "help": "A batch closes once no request has come for this long (at most 4 windows after its first): "
            "requests that arrive together share one generation."
        },
    )
    max_batch: int = field(default=16, metadata={"help": "Most requests (each with its samples) in one generation."})
    max_queue: int = field(
        default=64, metadata={"help": "Requests waiting for the model beyond which new ones get 503 + Retry-After."}
    )
    max_jobs: int = field(default=30, metadata={"help": "Largest instance accepted: jobs."})
    max_machines: int = field(default=20, metadata={"help": "Largest instance accepted: machines."})
    max_samples: int = field(default=64, metadata={"help": "Most samples (N) one request may ask for."})
    max_body_bytes: int = field(default=1_000_000, metadata={"help": "Largest request body in bytes (else 413)."})
    default_samples: int = field(default=8, metadata={"help": "Samples per request when it names none."})
    request_timeout: float = field(
        default=120.0,
        metadata={"help": "Longest a /v1/solve request may take, in seconds (else 504); a request may ask for less."},
    )
    max_time_limit: float = field(default=60.0, metadata={"help": "Longest CP-SAT time limit a request may ask for."})
    max_stored_jobs: int = field(
        default=1000, metadata={"help": "Jobs kept in memory; the oldest finished ones are forgotten first."}
    )
    jobs_dir: str | None = field(
        default=None, metadata={"help": "Write each finished job as JSON here (default: nothing is written to disk)."}
    )
    log_level: str = field(default="info", metadata={"help": "uvicorn's log level."})

    def __post_init__(self):
        super().__post_init__()
        for name in (
            "max_batch",
            "max_queue",
            "max_jobs",
            "max_machines",
            "max_samples",
            "max_body_bytes",
            "default_samples",
            "max_stored_jobs",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be >= 1, got {getattr(self, name)}")
        if self.default_samples > self.max_samples:
            raise ValueError(f"--default_samples {self.default_samples} exceeds --max_samples {self.max_samples}")
        if self.batch_window_ms < 0 or self.request_timeout <= 0 or self.max_time_limit <= 0:
            raise ValueError("--batch_window_ms must be >= 0, --request_timeout and --max_time_limit > 0")
        if not 0 < self.port < 65536:
            raise ValueError(f"--port must be in 1..65535, got {self.port}")

    def limits(self) -> dict:
        """The limits a request meets, as ``/v1/info`` shows them."""
        keys = (
            "max_jobs",
            "max_machines",
            "max_samples",
            "max_body_bytes",
            "default_samples",
            "request_timeout",
            "max_time_limit",
            "max_queue",
            "max_batch",
            "batch_window_ms",
        )
        values = asdict(self)
        return {key: values[key] for key in keys}
