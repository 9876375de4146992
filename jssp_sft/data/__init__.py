"""Starjob data: reading, validation, tokenization and loading into ``datasets``, prompt templates, and the CP-SAT
record generator."""

from .loading import LoadReport, format_dataset, load_records, load_source, load_starjob
from .templates import TEMPLATES, PromptFormat
