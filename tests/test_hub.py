"""Pushing runs to the Hub: only the network is faked (huggingface_hub's HTTP client gets a mock transport that plays
the Hub's API); the run, the card, the merge and huggingface_hub's upload logic are real."""

import base64
import json

import httpx2
import pytest
import yaml
from conftest import TINY_LORA_ARGS
from huggingface_hub import constants
from huggingface_hub.utils import _http

from jssp_sft.data.templates import SETTINGS_FILE, PromptFormat
from jssp_sft.modeling.loading import load_model
from jssp_sft.training.hub import push_run


class FakeHub:
    """Answers the Hub endpoints an upload uses and records what was created and committed."""

    def __init__(self):
        self.requests: list[tuple[str, str]] = []
        self.created: list[dict] = []
        self.branches: list[str] = []
        self.commits: list[dict] = []  # {"revision", "summary", "files": {path: bytes}}

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        self.requests.append((request.method, path))
        if path == "/api/repos/create":
            body = json.loads(request.content)
            self.created.append(body)
            repo_id = f"{body.get('organization') or 'me'}/{body['name']}"
            return httpx2.Response(200, json={"url": f"https://huggingface.co/{repo_id}", "name": body["name"]})
        if path == "/api/validate-yaml":
            metadata = json.loads(request.content)["content"].split("---")[1]
            if not isinstance(yaml.safe_load(metadata), dict):
                return httpx2.Response(400, json={"error": "Invalid YAML"})
            return httpx2.Response(200, json={"warnings": []})
        if "/branch/" in path:
            self.branches.append(path.rsplit("/", 1)[-1])
            return httpx2.Response(200, json={})
        if "/preupload/" in path:
            files = json.loads(request.content)["files"]
            return httpx2.Response(
                200,
                json={"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]},
            )
        if "/commit/" in path:
            lines = [json.loads(line) for line in request.content.decode().splitlines()]
            files = {
                line["value"]["path"]: base64.b64decode(line["value"]["content"])
                for line in lines
                if line["key"] == "file"
            }
            header = next(line["value"] for line in lines if line["key"] == "header")
            self.commits.append({"revision": path.rsplit("/", 1)[-1], "summary": header["summary"], "files": files})
            url = f"https://huggingface.co{path.split('/commit/')[0].replace('/api/models', '')}/commit/{'a' * 40}"
            return httpx2.Response(200, json={"commitUrl": url, "commitOid": "a" * 40, "pullRequestUrl": None})
        return httpx2.Response(404, json={"error": f"{path} is not part of the fake Hub"})


@pytest.fixture
def fake_hub(monkeypatch):
    hub = FakeHub()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token_for_tests")
    _http.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(hub)))
    yield hub
    _http.set_client_factory(_http.default_client_factory)


@pytest.fixture(scope="module")
def lora_run(tiny_model_dir, tmp_path_factory):
    """A real LoRA training run of two steps (tests/test_sft.py covers training itself)."""
    from test_sft import sft_args

    from jssp_sft.data.generator import ensure_default_dataset
    from jssp_sft.sft import train

    data = ensure_default_dataset(tmp_path_factory.mktemp("data"), progress=False, num_instances=24, sizes="2x2")
    output_dir = tmp_path_factory.mktemp("lora-run")
    train(
        *sft_args(
            tiny_model_dir,
            data,
            output_dir,
            "--max_steps",
            "2",
            "--eval_split_size",
            "4",
            *TINY_LORA_ARGS,
            "--generation_eval_problems",
            "2",
        )
    )
    return output_dir


def card_metadata(readme: str) -> dict:
    return yaml.safe_load(readme.split("---")[1])


def test_push_adapter_with_card(fake_hub, lora_run, tiny_model_dir):
    url = push_run(lora_run, "me/tiny-jssp", private=True)
    assert url.startswith("https://huggingface.co/me/tiny-jssp/commit/")
    (created,) = fake_hub.created
    assert created["name"] == "tiny-jssp" and created["organization"] == "me" and created["visibility"] == "private"
    (commit,) = fake_hub.commits
    files = set(commit["files"])
    assert {
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
        "tokenizer.json",
        SETTINGS_FILE,
        "jssp_sft_run.json",
        "eval_results.json",
        "train_results.json",
    } <= files
    assert not any(f.startswith(("checkpoint-", "generations/")) for f in files)  # nothing local-only
    assert "model.safetensors" not in files
    assert commit["files"]["adapter_model.safetensors"] == (lora_run / "adapter_model.safetensors").read_bytes()

    readme = commit["files"]["README.md"].decode()
    metadata = card_metadata(readme)
    assert metadata["library_name"] == "peft" and "jssp-sft" in metadata["tags"]
    eval_results = json.loads((lora_run / "eval_results.json").read_text())
    assert f"`{tiny_model_dir}`" in readme  # the base model
    assert ".jsonl`" in readme and "recipes/tiny/sft/config.yaml" in readme  # dataset and recipe
    assert f"| feasible rate | {eval_results['eval_feasible_rate']:.4g} |" in readme
    assert f"| eval loss | {eval_results['eval_loss']:.4g} |" in readme
    assert (lora_run / "README.md").read_text() == readme


def test_push_merged_model(fake_hub, lora_run, tmp_path):
    import torch

    push_run(lora_run, "me/tiny-jssp-merged", merge=True, revision="v1")
    (commit,) = fake_hub.commits
    assert commit["revision"] == "v1" and fake_hub.branches == ["v1"]
    files = commit["files"]
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md", SETTINGS_FILE} <= set(files)
    assert "adapter_config.json" not in files and "adapter_model.safetensors" not in files
    assert card_metadata(files["README.md"].decode())["library_name"] == "transformers"
    assert "a merged fine-tune of" in files["README.md"].decode()
    # the uploaded weights are the merged model: they give the adapter's outputs
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    assert PromptFormat.from_pretrained(tmp_path) == PromptFormat()
    from jssp_sft.modeling.loading import load_trained_model

    ids = torch.tensor([[5, 6, 7, 8, 9]])
    expected = load_trained_model(lora_run)(input_ids=ids).logits
    assert torch.allclose(load_model(str(tmp_path))(input_ids=ids).logits, expected, atol=1e-4)


def test_push_command_and_errors(fake_hub, lora_run, tmp_path, capsys):
    from jssp_sft.cli.main import main

    assert main(["push", str(lora_run), "--repo-id", "org/run", "--commit_message", "first"]) == 0
    assert capsys.readouterr().out.strip().startswith("https://huggingface.co/org/run/commit/")
    assert fake_hub.commits[0]["summary"] == "first"
    with pytest.raises(ValueError, match="no adapter_config.json"):
        push_run(tmp_path, "me/x", merge=True)
    with pytest.raises(FileNotFoundError):
        push_run(tmp_path / "missing", "me/x")


def test_train_pushes_when_the_recipe_says_so(fake_hub, tiny_model_dir, tmp_path):
    from test_sft import sft_args

    from jssp_sft.data.generator import ensure_default_dataset
    from jssp_sft.sft import train

    data = ensure_default_dataset(tmp_path / "data", progress=False, num_instances=12, sizes="2x2")
    train(
        *sft_args(
            tiny_model_dir,
            data,
            tmp_path / "run",
            "--max_steps",
            "1",
            "--eval_split_size",
            "2",
            "--generation_eval_problems",
            "1",
            "--push_to_hub",
            "true",
            "--hub_model_id",
            "me/pushed",
            "--hub_private_repo",
            "true",
        )
    )
    (commit,) = fake_hub.commits
    assert "model.safetensors" in commit["files"] and "README.md" in commit["files"]
    assert fake_hub.created[0]["visibility"] == "private"
    assert not any(method == "POST" and "/commit/" in path for method, path in fake_hub.requests[:-1])  # one push
