"""The transformers backend: ``model.generate`` on CPU or GPU, N samples per prompt sharing one prompt pass.

Sampling itself is ``jssp_sft.solve.sampling.generate`` (left-padded batches, the prompt's key/value cache repeated for
the N samples); the model is loaded by ``jssp_sft.modeling.loading.load_trained_model``: a base or merged model, or a
base model with a trained LoRA adapter (merged for speed unless the base is quantized), from a directory or a Hub id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...modeling.loading import four_bit_config, load_trained_model
from ..sampling import GenerationOutput, SamplingSettings, generate


if TYPE_CHECKING:
    from ..guaranteed import GuaranteedOutput


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

    def generate(
        self,
        prompts: Sequence[str],
        num_samples: int,
        settings: SamplingSettings,
        seed: int | None = None,
        show_progress: bool = False,
    ) -> GenerationOutput:
        """All ``prompts`` in one batch (the solver chooses the batches), ``num_samples`` answers each; with
        ``show_progress``, a bar of the tokens generated."""
        return self._one_batch(generate, prompts, num_samples, settings, seed, show_progress=show_progress)

    def guaranteed_generate(
        self, prompts: Sequence[str], num_samples: int, settings: SamplingSettings, seed: int | None = None, **options
    ) -> GuaranteedOutput:
        """As ``generate``, decoding guaranteed (``jssp_sft.solve.guaranteed.guaranteed_generate``, which steps the
        model's forward pass itself); ``options`` are its own (the instances, the answer format's)."""
        from ..guaranteed import guaranteed_generate

        return self._one_batch(guaranteed_generate, prompts, num_samples, settings, seed, **options)

    def _one_batch(self, decode, prompts, num_samples, settings, seed, **options):
        """``decode`` (a sampling function of ``jssp_sft.solve``) on this model, all ``prompts`` in one batch."""
        return decode(
            self.model,
            self.tokenizer,
            prompts,
            num_samples,
            settings,
            batch_size=len(prompts),
            seed=seed,
            **options,
        )


def load(spec, **options) -> TransformersBackend:
    """The model of ``spec`` (a ``jssp_sft.solve.backends.ModelSpec``) in eval mode; no backend options."""
    if options:
        raise TypeError(f"the transformers backend takes no options, got {', '.join(sorted(options))}")
    device = resolve_device(spec.device)
    model = load_trained_model(
        spec.name_or_path,
        merge=not spec.load_in_4bit,  # a merged adapter is faster; merging into 4-bit weights would lose precision
        base_model=spec.base_model,
        revision=spec.revision,
        dtype=resolve_dtype(spec.dtype, device),
        quantization_config=four_bit_config() if spec.load_in_4bit else None,
        device_map=None if device == "cpu" else device,
        attn_implementation=spec.attn_implementation,
        trust_remote_code=spec.trust_remote_code,
    )
    model.eval()
    return TransformersBackend(model, spec.tokenizer)
