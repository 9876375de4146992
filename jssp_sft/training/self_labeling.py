"""Deprecated: the self-labeling rounds' data moved to ``jssp_sft.solve.self_labeling`` and their report (held-out
controls, evaluation, table, chart, trackers) to ``jssp_sft.evaluation.rounds``. These names keep working for one
release and warn once."""

from __future__ import annotations

import warnings

from ..evaluation.plots import rounds_chart as plot_rounds
from ..evaluation.rounds import (
    CONTROLS_FILE,
    PLOT_FILE,
    ROW_COLUMNS,
    ROWS_FILE,
    TABLE_FILE,
    HeldOutControls,
    evaluate_solver,
    held_out_controls,
    load_or_run_controls,
    rows_table,
)
from ..evaluation.rounds import RoundTrackers as RoundLogger
from ..solve.self_labeling import (
    EXISTING_LABEL,
    LABELS_FILE,
    MODEL_DIR,
    MODEL_LABEL,
    RECORDS_FILE,
    ROUND_RESULT_FILE,
    SAMPLES_FILE,
    TRAIN_FILE,
    TRAINING_FILE,
    Label,
    choose_label,
    existing_label,
    generated_problems,
    label_record,
    label_round,
    model_revision,
    read_jsonl,
    replay_records,
    round_dir,
    round_problems,
    sample_round,
    write_atomic,
    write_jsonl_atomic,
)


__all__ = [
    "CONTROLS_FILE",
    "EXISTING_LABEL",
    "LABELS_FILE",
    "MODEL_DIR",
    "MODEL_LABEL",
    "PLOT_FILE",
    "RECORDS_FILE",
    "ROUND_RESULT_FILE",
    "ROWS_FILE",
    "ROW_COLUMNS",
    "SAMPLES_FILE",
    "TABLE_FILE",
    "TRAINING_FILE",
    "TRAIN_FILE",
    "HeldOutControls",
    "Label",
    "RoundLogger",
    "choose_label",
    "evaluate_solver",
    "existing_label",
    "generated_problems",
    "held_out_controls",
    "label_record",
    "label_round",
    "load_or_run_controls",
    "model_revision",
    "plot_rounds",
    "read_jsonl",
    "replay_records",
    "round_dir",
    "round_problems",
    "rows_table",
    "sample_round",
    "write_atomic",
    "write_jsonl_atomic",
]

warnings.warn(
    "jssp_sft.training.self_labeling is deprecated: use jssp_sft.solve.self_labeling (the rounds' data) and "
    "jssp_sft.evaluation.rounds (their report)",
    DeprecationWarning,
    stacklevel=2,
)
