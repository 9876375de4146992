"""The HTTP API (FastAPI on uvicorn): solve, jobs, health, info, metrics, and every refusal with a clear answer.

    POST   /v1/solve        an instance -> a verified schedule, makespan, lift over baselines, timings
    POST   /v1/jobs         the same body -> a job id at once (202)
    GET    /v1/jobs/{id}    status, the best schedule so far, the final answer
    DELETE /v1/jobs/{id}    cancel
    GET    /health, /v1/info, /metrics (Prometheus), /docs and /openapi.json

Refusals: a body over ``max_body_bytes`` 413; an instance that cannot be read, or is larger than the limits, and any
number out of range (NaN, Infinity, a seed beyond int64, a duration of more than ``MAX_DIGITS`` digits) 422 naming
the field or line; an unknown method 400; a full queue 503 with Retry-After; a request slower than its timeout 504.
A failing request is answered (500 at worst, for a bug) and never stops the server, other requests or its own
keep-alive connection: the 500 is made inside the app, so the server never sees an exception.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..solvers.dispatching import VARIANTS
from .config import ServeArguments
from .instances import InstanceError, check_size, read_request_instance
from .jobs import JobStore
from .schemas import Info, JobCreated, JobStatus, SolveRequest, SolveResponse
from .service import DECODINGS, DEFAULT_CPSAT_SECONDS, MethodError, Overloaded, SchedulingService, SolveParams


logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
JOB_ROUNDS = 4  # a job's model samples come in this many rounds, so its best-so-far improves as they land


class ApiError(Exception):
    """A refusal: HTTP status, message, extra headers."""

    def __init__(self, status: int, message: str, headers: dict | None = None, kind: str = "bad_request"):
        super().__init__(message)
        self.status, self.message, self.headers, self.kind = status, message, headers or {}, kind


class BodySizeLimit:
    """ASGI middleware: refuse a body over ``max_bytes`` with 413, by its Content-Length or as it streams in."""

    def __init__(self, app, max_bytes: int, on_refuse=None):
        self.app, self.max_bytes, self.on_refuse = app, max_bytes, on_refuse

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._refuse(send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send):
        if self.on_refuse is not None:
            self.on_refuse()
        response = JSONResponse(
            {"detail": f"request body larger than {self.max_bytes} bytes (the server's max_body_bytes)"}, 413
        )
        await response({"type": "http"}, None, send)


def _quotable(value):
    """``value`` with every non-finite float written as JSON writes it in a request (``NaN``, ``Infinity``), so that
    a refusal can quote the offending value: a JSON answer cannot hold the float itself."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _quotable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_quotable(item) for item in value]
    return value


def _params(service: SchedulingService, body: SolveRequest) -> SolveParams:
    """Validate a request against the methods and limits; ``ApiError``/``InstanceError`` say what is wrong."""
    args = service.args
    try:
        decoding = body.decoding or service.default_decoding
        method = service.check_method(body.method, body.rule_variant, decoding)
    except MethodError as err:
        raise ApiError(400, str(err), kind="unknown_method") from None
    parse_started = time.perf_counter()
    instance = read_request_instance(body.instance, body.format)
    check_size(instance, args.max_jobs, args.max_machines)
    num_samples = body.num_samples or args.default_samples
    if num_samples > args.max_samples:
        raise ApiError(
            422, f"num_samples: {num_samples} is more than this server allows ({args.max_samples})", kind="over_limit"
        )
    if body.time_limit is not None and body.time_limit > args.max_time_limit:
        raise ApiError(
            422,
            f"time_limit: {body.time_limit} s is more than this server allows ({args.max_time_limit})",
            kind="over_limit",
        )
    timeout = min(body.timeout or args.request_timeout, args.request_timeout)
    return SolveParams(
        instance=instance,
        method=method,
        num_samples=num_samples,
        decoding=decoding,
        temperature=body.temperature,
        seed=body.seed,
        time_limit=body.time_limit or min(DEFAULT_CPSAT_SECONDS, args.max_time_limit),
        timeout=timeout,
        rule_variant=body.rule_variant,
        compare=body.compare,
        timings={"parse_s": round(time.perf_counter() - parse_started, 4)},
    )


def create_app(args: ServeArguments, service: SchedulingService | None = None) -> FastAPI:
    """The app for ``args``; ``service`` defaults to one that loads ``args.model`` (``SchedulingService.from_arguments``)."""
    service = service or SchedulingService.from_arguments(args)
    metrics = service.metrics
    jobs = JobStore(max_stored=args.max_stored_jobs, directory=args.jobs_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await service.start()
        yield
        for job in jobs.all_running():
            jobs.cancel(job)
        await service.stop()

    app = FastAPI(
        title="jssp-sft scheduling service",
        version=__version__,
        description="Feasible job-shop schedules from a fine-tuned language model (guaranteed decoding, every answer "
        "verified), CP-SAT or dispatching rules, compared with a seeded random policy and the best rule.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.jobs = jobs

    @app.exception_handler(ApiError)
    async def api_error(request: Request, err: ApiError):
        metrics.errors.labels(err.kind).inc()
        return JSONResponse({"detail": err.message}, err.status, headers=err.headers)

    @app.exception_handler(InstanceError)
    async def instance_error(request: Request, err: InstanceError):
        metrics.errors.labels("bad_instance").inc()
        return JSONResponse({"detail": str(err), "field": err.field, "line": err.line}, 422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError):
        metrics.errors.labels("invalid_request").inc()
        return JSONResponse({"detail": _quotable(jsonable_encoder(err.errors()))}, 422)  # FastAPI's, naming each field

    @app.exception_handler(StarletteHTTPException)
    async def unreadable_body(request: Request, err: StarletteHTTPException):
        # FastAPI answers 400 to a body json cannot decode for a reason other than its syntax: a number of more than
        # 4300 digits (Python's limit) or arrays nested too deeply. Both are numbers or values out of range: 422.
        cause = err.__cause__
        if err.status_code == 400 and isinstance(cause, ValueError | RecursionError):
            metrics.errors.labels("invalid_request").inc()
            why = "arrays or objects nested too deeply" if isinstance(cause, RecursionError) else str(cause)
            return JSONResponse({"detail": f"the body does not read as JSON: {why}"}, 422)
        return await http_exception_handler(request, err)

    @app.middleware("http")
    async def count_requests(request: Request, call_next):
        """Count and time every request; turn a bug into a 500 here, where the connection survives it (Starlette's
        handler for ``Exception`` answers but re-raises, and uvicorn then drops the keep-alive connection)."""
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as err:  # noqa: BLE001 - a bug answers 500; the server and the connection go on
            logger.exception("request to %s failed", request.url.path)
            metrics.errors.labels("internal").inc()
            response = JSONResponse({"detail": f"internal error: {type(err).__name__}: {err}"}, 500)
        route = request.scope.get("route")
        path = route.path if route is not None else "unmatched"
        metrics.requests.labels(path, request.method, str(response.status_code)).inc()
        metrics.latency.labels(path).observe(time.perf_counter() - started)
        return response

    app.add_middleware(
        BodySizeLimit, max_bytes=args.max_body_bytes, on_refuse=metrics.errors.labels("body_too_large").inc
    )

    async def run_solve(params: SolveParams, **kwargs) -> dict:
        try:
            return await service.solve(params, **kwargs)
        except Overloaded as err:
            raise ApiError(
                503, f"server busy: {err}; retry later", {"Retry-After": str(RETRY_AFTER_SECONDS)}, kind="overload"
            ) from None

    @app.post("/v1/solve", response_model=SolveResponse, summary="Solve one instance and answer at once")
    async def solve(body: SolveRequest):
        params = _params(service, body)
        try:
            return await asyncio.wait_for(run_solve(params), params.timeout)
        except TimeoutError:
            raise ApiError(504, f"no answer within the timeout of {params.timeout} s", kind="timeout") from None

    @app.post("/v1/jobs", response_model=JobCreated, status_code=202, summary="Start a long solve; answers an id")
    async def create_job(body: SolveRequest, request: Request):
        params = _params(service, body)
        if len(jobs.all_running()) >= args.max_stored_jobs:
            raise ApiError(
                503,
                f"{args.max_stored_jobs} jobs are running; retry later",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
                kind="overload",
            )
        job = jobs.create(params.method)

        def on_best(schedule, facts):
            from .service import schedule_json

            job.offer(schedule.makespan, schedule_json(params.instance, schedule), **facts)

        async def run():
            job.status, job.started = "running", time.time()
            try:
                result = await run_solve(params, rounds=JOB_ROUNDS, on_best=on_best)
            except asyncio.CancelledError:
                jobs.cancel(job)
                raise
            except ApiError as err:
                jobs.finish(job, "failed", error=err.message)
            except Exception as err:  # noqa: BLE001 - a failed job is reported on the job, not raised
                logger.exception("job %s failed", job.id)
                jobs.finish(job, "failed", error=f"{type(err).__name__}: {err}")
            else:
                if result["makespan"] is not None:
                    job.offer(result["makespan"], result["schedule"])
                jobs.finish(job, "done", result=result)
            finally:
                metrics.jobs.labels("running").set(len(jobs.all_running()))

        job.task = asyncio.get_running_loop().create_task(run())
        return {"id": job.id, "status": job.status, "url": str(request.url_for("get_job", job_id=job.id))}

    def find_job(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(
                404,
                f"no job {job_id!r} (finished jobs are kept until {args.max_stored_jobs} are held)",
                kind="not_found",
            )
        return job

    @app.get("/v1/jobs/{job_id}", response_model=JobStatus, summary="A job's status, best so far, final answer")
    async def get_job(job_id: str):
        return find_job(job_id).to_dict()

    @app.delete("/v1/jobs/{job_id}", response_model=JobStatus, summary="Cancel a job")
    async def cancel_job(job_id: str):
        job = find_job(job_id)
        jobs.cancel(job)
        return job.to_dict()

    @app.get("/health", summary="Liveness and readiness")
    async def health():
        queue = service.batcher.depth if service.batcher is not None else 0
        return {
            "status": "ok",
            "model_loaded": service.solver is not None,
            "queue": queue,
            "in_flight": service.in_flight,
        }

    @app.get("/v1/info", response_model=Info, summary="Model, backend, methods, limits and version")
    async def info():
        return {
            "name": "jssp-sft",
            "version": __version__,
            "model": args.model,
            "revision": args.revision,
            "backend": args.backend if service.solver is not None else None,
            "methods": service.methods,
            "decodings": list(DECODINGS),
            "default_decoding": service.default_decoding,
            "rule_variants": list(VARIANTS),
            "limits": args.limits(),
        }

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus_metrics():
        counts = jobs.counts()
        for status, count in counts.items():
            metrics.jobs.labels(status).set(count)
        return Response(metrics.render(), media_type=metrics.content_type)

    return app
