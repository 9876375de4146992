"""Prompt templates: the one place that turns a Starjob problem into training examples and generation prompts.

Training (``jssp_sft.data.loading``), generation (``jssp_sft.solve.solver``) and GRPO build their text here, so train
and inference prompts cannot drift apart. Three templates:

- ``prompt_completion`` (default): ``{"prompt", "completion"}`` columns; TRL's ``SFTTrainer`` trains on the completion
  only (and the EOS it appends).
- ``messages``: ``{"messages": [system?, user, assistant]}``; trained with ``assistant_only_loss=True``, which needs a
  chat template with ``{% generation %}`` markers such as ``CHAT_TEMPLATE``.
- ``alpaca``: the Starjob authors' Alpaca prompt in a ``text`` column, trained on the whole text as in their script.

Independently of the template, ``answer_format`` says how the answer is written: ``starjob`` (the record's ``output``,
the Starjob paper's setting) or ``candidates`` (``jssp_sft.core.answers``: before each operation a line listing the
jobs it could come from, rebuilt from the record's schedule by replaying its decisions).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..core.answers import (
    ANSWER_FORMATS,
    TIE_ORDERS,
    CandidatesAnswer,
    job_groups,
    job_sequence,
    write_candidates_answer,
)
from ..core.builder import START_RULES
from ..core.candidates import DEFAULT_FIELDS, DEFAULT_ORDER, DEFAULT_TOP_K, CandidateFormat
from ..core.codec import format_instance, format_instruction, parse_instance, parse_solution
from ..core.instance import Instance


TEMPLATES = ("prompt_completion", "messages", "alpaca")

ALPACA_PROMPT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n"
    "### Input:\n{input}\n\n"
    "### Response:\n"
)

# ChatML with `{% generation %}` markers around what the assistant writes, so that TRL's `assistant_only_loss`
# can mask everything else. The tiny offline model ships it; real models keep their own template unless it lacks
# the markers (see `jssp_sft.modeling.loading`).
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

SETTINGS_FILE = "jssp_sft_prompt.json"


def problem_fields(problem: Instance | Mapping) -> tuple[str, str]:
    """``(instruction, input)`` of a Starjob record, or of an ``Instance`` written in canonical form."""
    if isinstance(problem, Instance):
        return format_instruction(problem.num_jobs, problem.num_machines), format_instance(problem)
    try:
        return problem["instruction"], problem["input"]
    except KeyError as err:
        raise KeyError(f"a Starjob record needs 'instruction' and 'input' fields; missing {err}") from None


def problem_text(problem: Instance | Mapping) -> str:
    """The task as one user turn: the instruction, a blank line, then the instance."""
    instruction, input_text = problem_fields(problem)
    return f"{instruction}\n\n{input_text}"


@dataclass(frozen=True)
class PromptFormat:
    """Which template, system prompt and answer format a run uses; saved beside a trained model so that solving,
    serving, diagnostics, self-labeling and GRPO reuse them.

    ``answer_format="candidates"`` writes each answer with candidate lines (``candidate_fields``, ``candidate_top_k``,
    ``candidate_scale``: see ``jssp_sft.core.candidates.CandidateFormat``), every operation placed by ``placement``
    (the guaranteed decoder's start rule), so that a model reads at each decision the state guaranteed decoding
    shows it at the same point.
    """

    template: str = "prompt_completion"
    system_prompt: str | None = None
    answer_format: str = "starjob"
    candidate_fields: str = DEFAULT_FIELDS
    candidate_top_k: int = DEFAULT_TOP_K
    candidate_scale: str = "lb"
    candidate_order: str = DEFAULT_ORDER
    candidate_ties: str = "shuffle"
    placement: str = "insert"

    def __post_init__(self):
        if self.template not in TEMPLATES:
            raise ValueError(f"unknown template {self.template!r}; choose one of {', '.join(TEMPLATES)}")
        if self.system_prompt is not None and self.template != "messages":
            raise ValueError("a system prompt needs template='messages'")
        if self.answer_format not in ANSWER_FORMATS:
            raise ValueError(
                f"unknown answer_format {self.answer_format!r}; choose one of {', '.join(ANSWER_FORMATS)}"
            )
        if self.candidate_ties not in TIE_ORDERS:
            raise ValueError(f"unknown candidate_ties {self.candidate_ties!r}; choose one of {', '.join(TIE_ORDERS)}")
        if self.placement not in START_RULES:
            raise ValueError(f"unknown placement {self.placement!r}; choose one of {', '.join(START_RULES)}")
        CandidateFormat(
            self.candidate_fields, self.candidate_top_k, self.candidate_scale, self.candidate_order
        )  # validates them

    @property
    def candidate_format(self) -> CandidateFormat:
        """The candidate lines' settings (meaningful with ``answer_format="candidates"``)."""
        return CandidateFormat(self.candidate_fields, self.candidate_top_k, self.candidate_scale, self.candidate_order)

    @property
    def candidates(self) -> bool:
        """Whether answers carry candidate lines."""
        return self.answer_format == "candidates"

    @property
    def choice_top_k(self) -> int:
        """How many jobs the decoder offers the model at each step (0: every unfinished job): the random control of
        the same decoder picks among as many."""
        return self.candidate_top_k if self.candidates else 0

    def decoding_options(self) -> dict:
        """What guaranteed decoding needs to write this format's answers: ``start_rule`` and ``candidate_format``."""
        return {"start_rule": self.placement, "candidate_format": self.candidate_format if self.candidates else None}

    # ----- answers

    def candidates_answer(self, record: Mapping) -> CandidatesAnswer:
        """The record's schedule rewritten as a candidates-format answer: its operations replayed in start order, those
        that start together in a seeded shuffled order (``jssp_sft.core.answers.job_sequence``) or, with
        ``candidate_ties="listed"``, each time the one the candidate line lists first (the labels then follow from
        the lines' own order wherever the schedule leaves the choice open)."""
        instance = parse_instance(record["input"])
        schedule = parse_solution(record["output"])
        if self.candidate_ties == "listed":
            return write_candidates_answer(instance, job_groups(schedule), self.candidate_format, self.placement)
        # Operations that start together go in a shuffled order, seeded by the record's own text (reproducible).
        tie_seed = zlib.crc32(f"{record['input']}\n{record['output']}".encode())
        jobs = job_sequence(schedule, tie_seed)
        return write_candidates_answer(instance, jobs, self.candidate_format, self.placement)

    def answer(self, record: Mapping) -> str:
        """The answer a model learns for ``record``: its ``output`` as is, or with candidate lines."""
        return self.candidates_answer(record).text if self.candidates else record["output"]

    # ----- training examples

    def training_example(self, record: Mapping) -> dict:
        """One SFT example from a Starjob record, in the columns TRL's ``SFTTrainer`` expects for this template."""
        answer = self.answer(record)
        if self.template == "prompt_completion":
            return {"prompt": problem_text(record), "completion": answer}
        if self.template == "messages":
            return {"messages": [*self.prompt_messages(record), {"role": "assistant", "content": answer}]}
        instruction, input_text = problem_fields(record)
        return {"text": ALPACA_PROMPT.format(instruction=instruction, input=input_text) + answer}

    def prompt_messages(self, problem: Instance | Mapping) -> list[dict]:
        """The conversation up to the assistant's turn."""
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return [*messages, {"role": "user", "content": problem_text(problem)}]

    # ----- prompts for generation and RL

    def prompt_example(self, problem: Instance | Mapping) -> dict:
        """A prompt-only example (GRPO, evaluation): ``{"prompt": str}`` or ``{"prompt": [messages]}``."""
        if self.template == "messages":
            return {"prompt": self.prompt_messages(problem)}
        return {"prompt": self.prompt_text(problem)}

    def prompt_text(self, problem: Instance | Mapping, tokenizer=None) -> str:
        """The exact text a model is given before it writes ``Solution:...`` (the chat template needs
        ``tokenizer``)."""
        if self.template == "prompt_completion":
            return problem_text(problem)
        if self.template == "alpaca":
            instruction, input_text = problem_fields(problem)
            return ALPACA_PROMPT.format(instruction=instruction, input=input_text)
        if tokenizer is None:
            raise ValueError("template='messages' needs the tokenizer to apply its chat template")
        return tokenizer.apply_chat_template(self.prompt_messages(problem), tokenize=False, add_generation_prompt=True)

    # ----- persistence

    def save_pretrained(self, directory: str | Path) -> Path:
        path = Path(directory) / SETTINGS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> PromptFormat:
        """The settings saved by a training run; the defaults when the directory has none (a base model)."""
        path = Path(directory) / SETTINGS_FILE
        if not path.is_file():
            return cls()
        saved = json.loads(path.read_text())
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(saved) - known)
        if unknown:
            raise ValueError(f"{path}: unknown prompt settings {', '.join(unknown)} (written by a newer jssp-sft?)")
        return cls(**saved)


# ----- shortcuts for one record (thin wrappers over PromptFormat, which holds every template)


def to_training_example(
    record: Mapping, template: str = PromptFormat.template, system_prompt: str | None = None
) -> dict:
    """One SFT example from a Starjob record with the named template (``"alpaca"`` gives the authors' ``text``)."""
    return PromptFormat(template, system_prompt).training_example(record)


def to_prompt_completion(record: Mapping) -> dict:
    """``{"prompt", "completion"}``: TRL's ``SFTTrainer`` trains on the completion (and EOS) only."""
    return to_training_example(record, "prompt_completion")


def to_messages(record: Mapping, system_prompt: str | None = None) -> dict:
    """``{"messages": [system?, user, assistant]}``: train with ``assistant_only_loss=True`` and ``CHAT_TEMPLATE``."""
    return to_training_example(record, "messages", system_prompt)
