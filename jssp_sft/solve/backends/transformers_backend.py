"""The transformers backend: ``model.generate`` on CPU or GPU, N samples per prompt sharing one prompt pass.

Sampling itself is ``jssp_sft.solve.sampling.generate`` (left-padded batches, the prompt's key/value cache repeated for
the N samples); this module loads the model: a base or merged model, or a base model with a trained LoRA adapter
(merged for speed unless the base is quantized), from a directory or a Hub id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..sampling import GenerationOutput, SamplingSettings, generate


logger = logging.getLogger(__name__)


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; anything else is kept."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str, device: str) -> str:
    """``"auto"`` -> the checkpoint's dtype on a GPU, float32 on the CPU (bf16 matmuls are slow there)."""
    if dtype == "auto" and not device.startswith("cuda"):
        return "float32"
    return dtype


class TransformersBackend:
    """Samples with ``transformers``; ``batch`` prompts per call, each with its N samples."""

    name = "transformers"

    def __init__(self, model, tokenizer):
        self.model = model
        self.tokenizer = tokenizer
        # the longest sequence (prompt + answer) the model was built for
        self.context_length: int | None = getattr(model.config, "max_position_embeddings", None)

    @classmethod
    def load(
        cls,
        model_name_or_path: str,
        tokenizer,
        adapter_base_model: str | None = None,
        revision: str | None = None,
        dtype: str = "auto",
        device: str = "auto",
        attn_implementation: str | None = None,
        load_in_4bit: bool = False,
        trust_remote_code: bool = False,
    ) -> TransformersBackend:
        """Load a model; with ``adapter_base_model`` set, ``model_name_or_path`` is a LoRA adapter on that base."""
        from ...modeling.loading import load_model

        device = resolve_device(device)
        quantization_config = None
        if load_in_4bit:
            from transformers import BitsAndBytesConfig

            quantization_config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
        load_kwargs = {
            "dtype": resolve_dtype(dtype, device),
            "quantization_config": quantization_config,
            "device_map": None if device == "cpu" else device,
            "attn_implementation": attn_implementation,
            "trust_remote_code": trust_remote_code,
        }
        if adapter_base_model is None:
            model = load_model(model_name_or_path, revision=revision, **load_kwargs)
        else:
            from peft import PeftModel

            logger.info("loading the adapter %s on its base model %s", model_name_or_path, adapter_base_model)
            base = load_model(adapter_base_model, **load_kwargs)
            model = PeftModel.from_pretrained(base, model_name_or_path, revision=revision)
            if quantization_config is None:
                model = model.merge_and_unload()
        model.eval()
        return cls(model, tokenizer)

    def generate(
        self, prompts: Sequence[str], num_samples: int, settings: SamplingSettings, seed: int | None = None
    ) -> GenerationOutput:
        """All ``prompts`` in one batch (the solver chooses the batches), ``num_samples`` answers each."""
        return generate(self.model, self.tokenizer, prompts, num_samples, settings, batch_size=len(prompts), seed=seed)
