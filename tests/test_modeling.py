"""Loading tokenizers and models: our tiny tokenizer keeps its class, adapters load and merge, chat templates."""

import json
import shutil

import pytest
import torch
from conftest import build_quantizable_tiny

from jssp_sft.data.templates import CHAT_TEMPLATE
from jssp_sft.modeling.loading import (
    adapter_base_model,
    ensure_training_chat_template,
    is_adapter_dir,
    load_for_generation,
    load_model,
    load_tokenizer,
    load_trained_model,
)
from jssp_sft.modeling.tiny import TOKENIZER_MARKER_KEY, is_tiny_tokenizer


def test_tiny_tokenizer_keeps_its_class_beside_a_qwen2_config(tiny_model_dir):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    assert json.loads((tiny_model_dir / "config.json").read_text())["model_type"] == "qwen2"
    tokenizer = load_tokenizer(str(tiny_model_dir))
    assert type(tokenizer) is PreTrainedTokenizerFast and is_tiny_tokenizer(tokenizer)
    # what the marker protects against: AutoTokenizer picks the model family's class
    assert type(AutoTokenizer.from_pretrained(tiny_model_dir)) is not PreTrainedTokenizerFast


def test_other_tokenizers_go_through_auto_tokenizer(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    shutil.copytree(tiny_model_dir, tmp_path / "other")
    config_path = tmp_path / "other" / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    del config[TOKENIZER_MARKER_KEY]
    config_path.write_text(json.dumps(config))
    tokenizer = load_tokenizer(str(tmp_path / "other"))
    assert type(tokenizer) is type(AutoTokenizer.from_pretrained(tmp_path / "other"))
    assert not is_tiny_tokenizer(tokenizer)


def test_training_chat_template(tiny_model_dir):
    from trl.chat_template_utils import has_generation_markers, qwen2_5_chat_template

    tokenizer = load_tokenizer(str(tiny_model_dir))
    assert ensure_training_chat_template(tokenizer) == CHAT_TEMPLATE  # already has markers: kept

    tokenizer.chat_template = None  # ChatML tokens but no template: ours
    assert ensure_training_chat_template(tokenizer) == CHAT_TEMPLATE

    tokenizer.chat_template = qwen2_5_chat_template  # a known family without markers: TRL's training version
    patched = ensure_training_chat_template(tokenizer)
    assert patched != qwen2_5_chat_template and has_generation_markers(patched)

    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    with pytest.raises(ValueError, match="generation"):
        ensure_training_chat_template(tokenizer)


def test_adapter_loads_and_merges(tiny_model_dir, tmp_path):
    from peft import LoraConfig, PeftModel, get_peft_model

    base = load_model(str(tiny_model_dir))
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    with torch.no_grad():  # move the adapter away from its zero init so that merging matters
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    peft_model.save_pretrained(tmp_path / "run")
    load_tokenizer(str(tiny_model_dir)).save_pretrained(tmp_path / "run")
    assert is_adapter_dir(tmp_path / "run") and not is_adapter_dir(tiny_model_dir)
    assert adapter_base_model(tmp_path / "run") == str(tiny_model_dir)

    ids = torch.tensor([[5, 6, 7, 8]])
    expected = peft_model(input_ids=ids).logits
    adapter = load_trained_model(tmp_path / "run")
    assert isinstance(adapter, PeftModel)
    assert torch.allclose(adapter(input_ids=ids).logits, expected, atol=1e-5)
    merged, tokenizer = load_for_generation(tmp_path / "run")
    assert not hasattr(merged, "peft_config") and not merged.training and is_tiny_tokenizer(tokenizer)
    assert torch.allclose(merged(input_ids=ids).logits, expected, atol=1e-4)
    assert not torch.allclose(load_model(str(tiny_model_dir))(input_ids=ids).logits, expected, atol=1e-3)


def test_an_adapter_without_a_tokenizer_uses_its_bases(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model

    from jssp_sft.modeling.loading import tokenizer_source

    get_peft_model(load_model(str(tiny_model_dir)), LoraConfig(r=4, target_modules="all-linear")).save_pretrained(
        tmp_path / "adapter"
    )
    assert not (tmp_path / "adapter" / "tokenizer_config.json").exists()
    assert tokenizer_source(tmp_path / "adapter") == (str(tiny_model_dir), None)
    assert tokenizer_source(tmp_path / "adapter", base_model="elsewhere") == ("elsewhere", None)
    assert tokenizer_source(tiny_model_dir) == (str(tiny_model_dir), None)
    assert is_tiny_tokenizer(load_tokenizer(tmp_path / "adapter"))
    with pytest.raises(ValueError, match="base_model is for adapters"):
        load_trained_model(tiny_model_dir, base_model=str(tiny_model_dir))


def test_the_transformers_backend_merges_an_adapter_unless_the_base_is_4bit(tmp_path):
    """Through the backend registry: a LoRA run is merged on a full-precision base, kept as an adapter on a 4-bit one
    (bitsandbytes nf4 on CPU), and both sample an answer."""
    import bitsandbytes as bnb
    from peft import LoraConfig, PeftModel, get_peft_model

    from jssp_sft.solve.backends import ModelSpec, load_backend
    from jssp_sft.solve.sampling import SamplingSettings

    base = build_quantizable_tiny(tmp_path / "base")
    lora = LoraConfig(r=4, target_modules="all-linear")
    get_peft_model(load_model(str(base)), lora).save_pretrained(tmp_path / "run")
    tokenizer = load_tokenizer(tmp_path / "run")
    settings = SamplingSettings(max_new_tokens=4, temperature=0)
    for four_bit in (False, True):
        spec = ModelSpec(str(tmp_path / "run"), tokenizer, str(base), str(base), device="cpu", load_in_4bit=four_bit)
        backend = load_backend("transformers", spec)
        assert isinstance(backend.model, PeftModel) == four_bit
        quantized = any(isinstance(m, bnb.nn.Linear4bit) for m in backend.model.modules())
        assert quantized == four_bit and not backend.model.training
        output = backend.generate(["J0: M0:1\nSolution:\n"], 1, settings, seed=0)
        assert len(output.texts) == 1 and output.num_tokens[0][0] >= 1
    with pytest.raises(TypeError, match="no options"):
        load_backend("transformers", spec, gpu_memory_utilization=0.5)
