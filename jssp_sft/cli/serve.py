"""``jssp-sft serve``: the scheduling service over HTTP (FastAPI on uvicorn), one model loaded once.

    jssp-sft serve --model outputs/tiny-sft --port 8000
    jssp-sft serve --model user/jssp-model --backend vllm --host 0.0.0.0
    jssp-sft serve                     # no model: CP-SAT and dispatching rules only

A thin layer over ``jssp_sft.serve``: the settings are ``ServeArguments``; the API is documented at ``/docs``.
"""

from __future__ import annotations

import logging

from ..serve.config import ServeArguments


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((ServeArguments,), prog=prog)


def main(args: ServeArguments) -> int:
    try:
        import uvicorn

        from ..serve.app import create_app
    except ImportError as err:
        raise SystemExit(f'jssp-sft serve needs the serve extra ({err}): pip install "jssp-sft[serve]"') from None
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    app = create_app(args)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
