"""``jssp-sft serve``: a scheduling service that answers every request with a verified schedule.

``create_app(ServeArguments(model=...))`` builds the FastAPI app (``app``), ``SchedulingService`` the methods and
batching behind it (``service``), ``Batcher`` the sharing of generation calls (``batching``). Needs the ``serve``
extra: ``pip install "jssp-sft[serve]"``.
"""

from .config import ServeArguments


def create_app(*args, **kwargs):
    """The FastAPI app (imported here lazily: ``jssp_sft.serve.config`` stays light for the CLI's ``--help``)."""
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)
