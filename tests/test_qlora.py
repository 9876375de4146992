"""QLoRA on CPU: the tiny model loaded in 4-bit nf4 by bitsandbytes, a LoRA adapter trained for a few steps."""

import json

import pytest
from conftest import TINY_LORA_ARGS, build_quantizable_tiny


pytest.importorskip("bitsandbytes")


def test_qlora_trains_in_4bit_on_cpu(tmp_path):
    import torch
    from bitsandbytes.nn import Linear4bit
    from test_sft import sft_args

    from jssp_sft.data.generator import ensure_default_dataset
    from jssp_sft.sft import train

    tiny_model_dir = build_quantizable_tiny(tmp_path / "model")

    data = ensure_default_dataset(tmp_path / "data", progress=False, num_instances=24, sizes="2x2")
    trainer = train(
        *sft_args(
            tiny_model_dir,
            data,
            tmp_path / "run",
            "--max_steps",
            "3",
            "--eval_split_size",
            "4",
            "--generation_eval_problems",
            "1",
            "--generation_eval_max_new_tokens",
            "8",
            "--load_in_4bit",
            "--bnb_4bit_quant_type",
            "nf4",
            "--use_bnb_nested_quant",
            *TINY_LORA_ARGS,
            "--use_rslora",
            "--activation_checkpointing",
            "true",
        )
    )
    base = trainer.model.get_base_model()
    quantized = [m for m in base.modules() if isinstance(m, Linear4bit)]
    assert quantized and all(m.weight.quant_state.quant_type == "nf4" for m in quantized)
    assert getattr(base, "is_loaded_in_4bit", False)
    trainable = {n: p for n, p in trainer.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(loss)) for loss in losses)
    assert all(e["grad_norm"] > 0 for e in trainer.state.log_history if "loss" in e)
    assert any("eval_parse_rate" in e for e in trainer.state.log_history)  # generation works on the 4-bit model
    config = json.loads((tmp_path / "run" / "adapter_config.json").read_text())
    assert config["use_rslora"] and config["r"] == 4
