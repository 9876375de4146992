"""The vLLM backend (optional: ``pip install "jssp-sft[vllm]"``): ``LLM.generate`` with ``SamplingParams(n=N)``.

Prompts go in as token ids made by the run's own tokenizer, and answers are decoded by it too, so a prompt and an
answer are the same tokens as with the transformers backend (vLLM's own tokenizer loading may pick another class for
a custom tokenizer). A LoRA adapter is served with ``enable_lora`` and a ``LoRARequest`` rather than merged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

from ..sampling import GenerationOutput, SamplingSettings, eos_token_ids, prompt_token_ids


logger = logging.getLogger(__name__)

VLLM_EXTRA_HINT = 'the vLLM backend needs vLLM, an optional extra: pip install "jssp-sft[vllm]"'
# Ranks vLLM accepts for max_lora_rank.
_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


def import_vllm():
    """The ``vllm`` module, or an ``ImportError`` saying how to install it."""
    try:
        import vllm
    except ImportError as err:
        raise ImportError(VLLM_EXTRA_HINT) from err
    return vllm


def _lora_rank(adapter_dir: str) -> int:
    rank = int(json.loads((Path(adapter_dir) / "adapter_config.json").read_text()).get("r", 16))
    return next((r for r in _LORA_RANKS if r >= rank), rank)


class VLLMBackend:
    """Samples with vLLM; ``lora_request`` serves a trained adapter on the base model."""

    name = "vllm"

    def __init__(self, llm, tokenizer, eos_token_ids: list[int], lora_request=None):
        self.llm = llm
        self.tokenizer = tokenizer
        self.eos_token_ids = eos_token_ids
        self.lora_request = lora_request
        model_config = getattr(getattr(llm, "llm_engine", None), "model_config", None)
        self.context_length: int | None = getattr(model_config, "max_model_len", None)

    def sampling_params(self, num_samples: int, settings: SamplingSettings, seed: int | None = None):
        """vLLM's ``SamplingParams`` for ``settings`` (greedy: temperature 0; no detokenization, we decode)."""
        from vllm import SamplingParams

        return SamplingParams(
            n=num_samples,
            temperature=0.0 if settings.greedy else settings.temperature,
            top_p=1.0 if settings.greedy else settings.top_p,
            top_k=0 if settings.greedy or settings.top_k is None else settings.top_k,
            max_tokens=settings.max_new_tokens,
            seed=seed,
            stop_token_ids=list(self.eos_token_ids),
            detokenize=False,
        )

    def generate(
        self,
        prompts: Sequence[str],
        num_samples: int,
        settings: SamplingSettings,
        seed: int | None = None,
        show_progress: bool = False,
    ) -> GenerationOutput:
        """All ``prompts`` in one ``LLM.generate`` call; vLLM schedules the sequences itself."""
        # Greedy decoding gives N identical answers: ask for one and repeat it (vLLM may refuse n > 1 when greedy).
        n = 1 if settings.greedy else num_samples
        params = self.sampling_params(n, settings, seed)
        requests = [{"prompt_token_ids": ids} for ids in prompt_token_ids(self.tokenizer, prompts)]
        outputs = self.llm.generate(requests, params, use_tqdm=show_progress, lora_request=self.lora_request)
        result = GenerationOutput()
        eos = set(self.eos_token_ids)
        for request_output in outputs:
            texts, counts, finished = [], [], []
            for completion in request_output.outputs:
                ids = list(completion.token_ids)
                cut = next((i for i, t in enumerate(ids) if t in eos), None)
                done = cut is not None or completion.finish_reason == "stop"
                texts.append(self.tokenizer.decode(ids[:cut], skip_special_tokens=True))
                # vLLM leaves a special stop token out of token_ids; count it, as the transformers backend does
                counts.append(cut + 1 if cut is not None else len(ids) + int(done))
                finished.append(done)
            if n != num_samples:
                texts, counts, finished = texts * num_samples, counts * num_samples, finished * num_samples
            result.texts.append(texts)
            result.num_tokens.append(counts)
            result.finished.append(finished)
        return result


def load(spec, **llm_kwargs) -> VLLMBackend:
    """A vLLM engine on the model of ``spec`` (a ``jssp_sft.solve.backends.ModelSpec``), or on its base model with the
    adapter served through a ``LoRARequest`` (a Hub adapter is fetched to a local copy); ``llm_kwargs`` go to
    ``vllm.LLM`` (``gpu_memory_utilization``, ``tensor_parallel_size``, ...)."""
    vllm = import_vllm()
    from transformers import GenerationConfig

    kwargs = {
        "dtype": spec.dtype,
        "seed": spec.seed,
        "trust_remote_code": spec.trust_remote_code,
        "tokenizer": spec.tokenizer_name_or_path,
    }
    lora_request = None
    if spec.base_model is None:
        kwargs.update(model=spec.name_or_path, revision=spec.revision)
        config_source = spec.name_or_path
    else:
        from vllm.lora.request import LoRARequest

        adapter_dir = spec.name_or_path
        if not Path(adapter_dir).is_dir():
            from huggingface_hub import snapshot_download

            adapter_dir = snapshot_download(spec.name_or_path, revision=spec.revision)
        kwargs.update(model=spec.base_model, enable_lora=True, max_lora_rank=_lora_rank(adapter_dir))
        lora_request = LoRARequest("jssp-sft-adapter", 1, adapter_dir)
        config_source = spec.base_model
    llm = vllm.LLM(**kwargs, **llm_kwargs)
    try:
        generation_config = GenerationConfig.from_pretrained(config_source)
    except OSError:
        generation_config = GenerationConfig()
    eos = eos_token_ids(SimpleNamespace(generation_config=generation_config), spec.tokenizer)
    return VLLMBackend(llm, spec.tokenizer, eos, lora_request)
