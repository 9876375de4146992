"""The one way to load tokenizers and models: base models, trained runs (LoRA adapters or merged models), Hub ids.

Training (SFT, GRPO), the eval callback, ``solve``'s backends, ``push`` and the quickstart all load through here, so
they agree on two rules: a run that saved no tokenizer (an adapter) uses its base model's, and our tiny tokenizer is
loaded as ``PreTrainedTokenizerFast`` (``AutoTokenizer`` would swap in the model family's class and change
tokenization). A Hub id's small files (prompt settings, adapter and tokenizer configs) are fetched through the Hub
cache to read these rules; the weights are loaded by transformers/PEFT as usual.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..data.templates import CHAT_TEMPLATE, SETTINGS_FILE


logger = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
# The small files of a run that decide how it is loaded and prompted (fetched alone for a Hub id).
RUN_FILES = (SETTINGS_FILE, ADAPTER_CONFIG, "config.json", TOKENIZER_CONFIG)


def resolve_run_files(name_or_path: str | Path, revision: str | None = None) -> Path:
    """A local directory holding a run's small files (``RUN_FILES``): a directory as it is, a Hub id's files fetched
    (only those) through the Hub cache."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    name = str(name_or_path)
    if path.exists() or name.startswith((".", "/", "~")) or name.count("/") > 1:  # a Hub id is NAME or OWNER/NAME
        raise FileNotFoundError(f"{name} is not a model directory")
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(name, revision=revision, allow_patterns=list(RUN_FILES)))


def adapter_base_model(name_or_path: str | Path, revision: str | None = None) -> str | None:
    """The base model a saved LoRA adapter was trained on (``base_model_name_or_path`` of its config); ``None`` when
    ``name_or_path`` is a full model."""
    config = resolve_run_files(name_or_path, revision) / ADAPTER_CONFIG
    return json.loads(config.read_text())["base_model_name_or_path"] if config.is_file() else None


def tokenizer_source(
    name_or_path: str | Path, revision: str | None = None, base_model: str | None = None
) -> tuple[str, str | None]:
    """``(name, revision)`` of a model's tokenizer: its own, or for an adapter that saved none, its base model's
    (``base_model`` overrides the base its config names)."""
    files = resolve_run_files(name_or_path, revision)
    if (files / TOKENIZER_CONFIG).is_file():
        return str(name_or_path), revision
    base = adapter_base_model(files)
    if base is None:
        return str(name_or_path), revision  # no tokenizer config at all: let AutoTokenizer say what is missing
    return base_model or base, None


def load_tokenizer(
    name_or_path: str | Path,
    revision: str | None = None,
    trust_remote_code: bool = False,
    base_model: str | None = None,
):
    """The tokenizer of a model or run (``tokenizer_source``'s rule): ``PreTrainedTokenizerFast`` for our tiny
    tokenizer, ``AutoTokenizer`` otherwise."""
    from .tiny import TOKENIZER_MARKER_KEY

    name, revision = tokenizer_source(name_or_path, revision, base_model)
    config_path = resolve_run_files(name, revision) / TOKENIZER_CONFIG
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    if TOKENIZER_MARKER_KEY in config:
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast.from_pretrained(name, revision=revision)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name, revision=revision, trust_remote_code=trust_remote_code)


def ensure_training_chat_template(tokenizer) -> str:
    """Give ``tokenizer`` a chat template with ``{% generation %}`` markers, for ``assistant_only_loss``.

    A template that has them is kept. A known template without them gets TRL's patched training version
    (``trl.get_training_chat_template``, which covers Qwen2.5/3, Llama 3, Gemma, Phi-3, ...). A tokenizer with no
    template at all gets our ChatML ``CHAT_TEMPLATE`` when its vocabulary has ``<|im_start|>``/``<|im_end|>``.
    Anything else raises: silently training on a template the model was not tuned with would be worse.
    """
    from trl import get_training_chat_template

    template = tokenizer.chat_template
    if template is None:
        vocab = tokenizer.get_vocab()
        if "<|im_start|>" in vocab and "<|im_end|>" in vocab:
            tokenizer.chat_template = CHAT_TEMPLATE
            return CHAT_TEMPLATE
        raise ValueError(
            "the tokenizer has no chat template: use template='prompt_completion', or set `chat_template_path` "
            "(TRL's clone_chat_template) to a model whose template to use"
        )
    try:
        patched = get_training_chat_template(tokenizer)
    except ValueError as err:
        raise ValueError(
            "assistant_only_loss needs a chat template with {% generation %} markers and TRL has no training version "
            f"of this tokenizer's template ({err}); use template='prompt_completion' or set `chat_template_path`"
        ) from None
    if patched is not None:
        logger.info("using TRL's training version of the chat template (adds {%% generation %%} markers)")
        tokenizer.chat_template = patched
    return tokenizer.chat_template


def is_adapter_dir(path: str | Path) -> bool:
    """Whether the directory ``path`` holds a PEFT adapter (a LoRA run's output) rather than a full model."""
    return (Path(path) / ADAPTER_CONFIG).is_file()


def four_bit_config():
    """The 4-bit quantization of ``load_in_4bit`` (bitsandbytes nf4, as QLoRA)."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")


def load_model(
    name_or_path: str | Path,
    dtype: str | None = "float32",
    *,
    trust_remote_code: bool = False,
    **from_pretrained_kwargs,
):
    """A full causal LM (a base or merged model) by name or directory; ``dtype`` as a string (``"auto"`` allowed).
    ``from_pretrained_kwargs`` (quantization_config, device_map, ...) go to ``AutoModelForCausalLM.from_pretrained``."""
    import torch
    from transformers import AutoModelForCausalLM

    if isinstance(dtype, str) and dtype != "auto":
        dtype = getattr(torch, dtype)
    return AutoModelForCausalLM.from_pretrained(
        str(name_or_path), dtype=dtype, trust_remote_code=trust_remote_code, **from_pretrained_kwargs
    )


def load_trained_model(
    name_or_path: str | Path,
    merge: bool = False,
    base_model: str | None = None,
    trainable: bool = False,
    revision: str | None = None,
    **load_kwargs,
):
    """A model or a training run's output, from a directory or a Hub id: the full model, or the base model with the
    run's LoRA adapter (merged into it when ``merge``, left trainable when ``trainable``).

    ``base_model`` overrides the base recorded in the adapter config (e.g. a local copy of a Hub model);
    ``revision`` is the named repo's (an adapter's base is loaded at its default revision). ``load_kwargs`` go to
    ``load_model`` (dtype, quantization_config, device_map, attn_implementation, trust_remote_code).
    """
    recorded_base = adapter_base_model(name_or_path, revision)
    if recorded_base is None:
        if base_model is not None:
            raise ValueError(f"base_model is for adapters, but {name_or_path} holds no {ADAPTER_CONFIG}")
        return load_model(name_or_path, revision=revision, **load_kwargs)
    from peft import PeftModel

    base = base_model or recorded_base
    logger.info("loading the adapter %s on its base model %s", name_or_path, base)
    model = PeftModel.from_pretrained(
        load_model(base, **load_kwargs), str(name_or_path), revision=revision, is_trainable=trainable
    )
    return model.merge_and_unload() if merge else model


def load_for_generation(name_or_path: str | Path, merge: bool = True, **load_kwargs):
    """``(model, tokenizer)`` ready to generate from a run's output or a base model: eval mode, adapter merged."""
    model = load_trained_model(name_or_path, merge=merge, **load_kwargs)
    model.eval()
    return model, load_tokenizer(
        name_or_path, load_kwargs.get("revision"), load_kwargs.get("trust_remote_code", False)
    )
