"""Load tokenizers and models for training and generation: base models, trained adapters, merged models.

One place decides how a name or directory becomes a tokenizer or a model, so training, the eval callback, ``solve``
and ``push`` agree. Our tiny tokenizer is loaded as ``PreTrainedTokenizerFast`` (``AutoTokenizer`` would swap in the
model family's class and change tokenization); anything else goes through ``AutoTokenizer``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..data.templates import CHAT_TEMPLATE


logger = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"


def _tokenizer_config(name_or_path: str, revision: str | None = None) -> dict:
    """``tokenizer_config.json`` of a local directory or (cached) Hub repo; ``{}`` when there is none."""
    local = Path(name_or_path) / "tokenizer_config.json"
    if local.is_file():
        return json.loads(local.read_text())
    if Path(name_or_path).is_dir():
        return {}
    from transformers.utils import cached_file

    path = cached_file(name_or_path, "tokenizer_config.json", revision=revision,
                       _raise_exceptions_for_missing_entries=False)  # fmt: skip
    return json.loads(Path(path).read_text()) if path else {}


def load_tokenizer(name_or_path: str, revision: str | None = None, trust_remote_code: bool = False):
    """The tokenizer of a model: ``PreTrainedTokenizerFast`` for our tiny tokenizer, ``AutoTokenizer`` otherwise."""
    from .tiny import TOKENIZER_MARKER_KEY

    if TOKENIZER_MARKER_KEY in _tokenizer_config(name_or_path, revision):
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast.from_pretrained(name_or_path, revision=revision)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name_or_path, revision=revision, trust_remote_code=trust_remote_code)


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
    """Whether ``path`` holds a PEFT adapter (a LoRA run's output) rather than a full model."""
    return (Path(path) / ADAPTER_CONFIG).is_file()


def adapter_base_model(path: str | Path) -> str:
    """The base model a saved adapter was trained on (``base_model_name_or_path`` in its config)."""
    return json.loads((Path(path) / ADAPTER_CONFIG).read_text())["base_model_name_or_path"]


def load_model(
    name_or_path: str,
    dtype: str | None = "float32",
    quantization_config=None,
    device_map=None,
    attn_implementation: str | None = None,
    revision: str | None = None,
    trust_remote_code: bool = False,
):
    """A base causal LM (or a merged model) by name or directory; ``dtype`` as a string (``"auto"`` allowed)."""
    import torch
    from transformers import AutoModelForCausalLM

    if isinstance(dtype, str) and dtype != "auto":
        dtype = getattr(torch, dtype)
    return AutoModelForCausalLM.from_pretrained(
        name_or_path,
        dtype=dtype,
        quantization_config=quantization_config,
        device_map=device_map,
        attn_implementation=attn_implementation,
        revision=revision,
        trust_remote_code=trust_remote_code,
    )


def load_trained_model(path: str | Path, merge: bool = False, base_model: str | None = None, **load_kwargs):
    """A training run's output: the full model, or the base model with its adapter (merged when ``merge``).

    ``base_model`` overrides the base recorded in the adapter config (e.g. a local copy of a Hub model).
    ``load_kwargs`` go to ``load_model`` (dtype, quantization_config, device_map, ...).
    """
    path = str(path)
    if not is_adapter_dir(path):
        return load_model(path, **load_kwargs)
    from peft import PeftModel

    base = load_model(base_model or adapter_base_model(path), **load_kwargs)
    model = PeftModel.from_pretrained(base, path)
    return model.merge_and_unload() if merge else model


def load_for_generation(path: str | Path, merge: bool = True, **load_kwargs):
    """``(model, tokenizer)`` ready to generate from a run's output or a base model: eval mode, adapter merged."""
    model = load_trained_model(path, merge=merge, **load_kwargs)
    model.eval()
    return model, load_tokenizer(str(path))
