"""Prometheus metrics of the service (``prometheus_client``), in a registry of the app's own so two apps never mix."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest


LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class ServeMetrics:
    """Requests, latency, errors, generation calls and their batch sizes, queue depth and jobs."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "jssp_requests", "HTTP requests answered", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "jssp_request_seconds",
            "Time to answer an HTTP request",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter("jssp_errors", "Requests refused or failed, by kind", ["kind"], registry=self.registry)
        self.solves = Counter("jssp_solves", "Instances solved, by method", ["method"], registry=self.registry)
        self.generation_calls = Counter(
            "jssp_generation_calls",
            "Calls to the model's generation (one per batch of prompts)",
            registry=self.registry,
        )
        self.batch_requests = Histogram(
            "jssp_batch_requests",
            "Requests served by one generation call",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge("jssp_queue_depth", "Requests waiting for the model", registry=self.registry)
        self.jobs = Gauge("jssp_jobs", "Jobs held, by status", ["status"], registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
