"""The ``jssp-sft`` console script (``main``) and one module per subcommand."""

from .main import main
