"""Guaranteed decoding: every output of an untrained model is a complete, feasible solution with the right makespan,
for three kinds of tokenizer built offline and the three prompt formats of training."""

import json
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from jssp_sft import Instance, verify
from jssp_sft.benchmarks.instances import load_benchmark
from jssp_sft.core.builder import ScheduleBuilder
from jssp_sft.core.codec import parse_solution, scan_solution
from jssp_sft.data.templates import CHAT_TEMPLATE, PromptFormat
from jssp_sft.modeling.loading import load_model, load_tokenizer
from jssp_sft.modeling.tiny import EOS_TOKEN, IM_START_TOKEN, PAD_TOKEN, SPECIAL_TOKENS, build_model, starjob_corpus
from jssp_sft.solve.guaranteed import GuaranteedOutput, SolutionWriter, TokenVocabulary, guaranteed_generate
from jssp_sft.solve.sampling import SamplingSettings, encode_prompts


GREEDY = SamplingSettings(do_sample=False)
HOT = SamplingSettings(temperature=1.5)


# ------------------------------------------------------------------------------------------- tokenizers, models


def _wrap(backend, **extra):
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        additional_special_tokens=[IM_START_TOKEN],
        **extra,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def merged_digits_bpe():
    """Byte-level BPE without pre-splitting: merges span digits, punctuation and spaces (``', J1'``, ``'4 -> 15'``)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1000,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
        max_token_length=8,
    )
    backend.train_from_iterator(starjob_corpus(80, seed=1), trainer)
    return _wrap(backend)


def sentencepiece_unigram():
    """A Unigram model in the style of Llama/Gemma SentencePiece: ``▁`` for spaces, ``<0x..>`` byte fallback (the
    newline exists only as ``<0x0A>``), and a decoder that strips the text's leading space."""
    from tokenizers import Tokenizer, decoders, models, normalizers, trainers

    normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trained = Tokenizer(models.Unigram())
    trained.normalizer = normalizer
    trainer = trainers.UnigramTrainer(
        vocab_size=500,
        special_tokens=["<unk>", *SPECIAL_TOKENS],
        unk_token="<unk>",
        show_progress=False,
        max_piece_length=8,
    )
    trained.train_from_iterator((text.replace("\n", " ") for text in starjob_corpus(80, seed=2)), trainer)
    pieces = [(piece, score) for piece, score in json.loads(trained.to_str())["model"]["vocab"] if "\n" not in piece]
    pieces += [(f"<0x{b:02X}>", -30.0) for b in range(256)]
    backend = Tokenizer(models.Unigram(pieces, unk_id=0, byte_fallback=True))
    backend.normalizer = normalizer
    backend.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    backend.add_special_tokens(["<unk>", *SPECIAL_TOKENS])
    return _wrap(backend, unk_token="<unk>")


def small_model(tokenizer):
    return build_model(
        tokenizer,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=1024,
    ).eval()


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    """The project's tiny tokenizer (byte-level BPE, single digits) and its untrained model, loaded from disk."""
    return load_model(str(tiny_model_dir)).eval(), load_tokenizer(str(tiny_model_dir))


@pytest.fixture(scope="module")
def merged_bpe():
    tokenizer = merged_digits_bpe()
    return small_model(tokenizer), tokenizer


@pytest.fixture(scope="module")
def unigram():
    tokenizer = sentencepiece_unigram()
    return small_model(tokenizer), tokenizer


@pytest.fixture(params=["tiny", "merged_bpe", "unigram"])
def model_and_tokenizer(request):
    return request.getfixturevalue(request.param)


def random_instance(rng: random.Random, jobs: int, machines: int) -> Instance:
    routes = [[(m, rng.randint(1, 120)) for m in rng.sample(range(machines), machines)] for _ in range(jobs)]
    return Instance(tuple(tuple(route) for route in routes), machines)


def assert_all_valid(output: GuaranteedOutput, instances, tokenizer) -> None:
    """Every sample verifies (feasible, every operation, declared makespan right) and its tokens spell its text."""
    for instance, texts, schedules, ids_of, counts in zip(
        instances, output.texts, output.schedules, output.token_ids, output.num_tokens
    ):
        for text, schedule, ids, count in zip(texts, schedules, ids_of, counts):
            report = verify(instance, text)
            assert report.feasible and report.makespan_matches, (instance.name, report.violations[:3], text[:200])
            assert report.num_operations == instance.num_operations
            assert sorted(parse_solution(text).operations) == sorted(schedule.operations)
            assert schedule.declared_makespan == report.makespan
            assert ids[-1] == tokenizer.eos_token_id and count == len(ids)
            assert tokenizer.decode(ids, skip_special_tokens=True) == text


# ------------------------------------------------------------------------------------------------ feasibility


@pytest.mark.parametrize("name", ["ft06", "la01", "ta01"])
def test_untrained_model_solves_benchmarks(tiny, name):
    model, tokenizer = tiny
    instance, _ = load_benchmark(name)
    output = guaranteed_generate(
        model,
        tokenizer,
        [PromptFormat().prompt_text(instance)],
        num_samples=2,
        settings=HOT,
        seed=0,
        instances=[instance],
    )
    assert_all_valid(output, [instance], tokenizer)
    assert output.finished == [[True, True]]
    # Only job choices are sampled: most tokens are forced, and there are fewer forward passes than operations x 2.
    assert output.forced_fraction > 0.8
    assert output.forward_passes <= 2 * instance.num_operations


@pytest.mark.parametrize("template", ["prompt_completion", "messages", "alpaca"])
def test_every_tokenizer_and_prompt_format(model_and_tokenizer, template):
    model, tokenizer = model_and_tokenizer
    rng = random.Random(template)
    instances = [load_benchmark("ft06")[0], random_instance(rng, 12, 4), random_instance(rng, 3, 5)]
    prompt_format = PromptFormat(template)
    prompts = [prompt_format.prompt_text(instance, tokenizer) for instance in instances]
    output = guaranteed_generate(model, tokenizer, prompts, num_samples=2, settings=HOT, batch_size=3, seed=1)
    assert_all_valid(output, instances, tokenizer)  # instances parsed from the prompts


def test_token_surfaces_of_each_tokenizer(tiny, merged_bpe, unigram):
    surfaces = TokenVocabulary.of(unigram[1]).surfaces
    vocab = unigram[1].get_vocab()
    assert surfaces[vocab["<0x0A>"]] == "\n" and surfaces[vocab["<0x4A>"]] == "J"
    spaced = [piece for piece in vocab if piece.startswith("▁") and len(piece) > 1 and set(piece[1:]) <= set("J->")]
    assert spaced and all(surfaces[vocab[piece]] == " " + piece[1:] for piece in spaced)
    byte_level = TokenVocabulary.of(tiny[1]).surfaces
    assert byte_level[tiny[1].convert_tokens_to_ids("Ġ")] == " "
    assert all(token not in byte_level for token in tiny[1].all_special_ids)
    assert any(len(s) > 3 and any(c.isdigit() for c in s) for s in TokenVocabulary.of(merged_bpe[1]).surfaces.values())


def test_spelling_prefers_the_tokenizers_own_encoding(tiny, unigram):
    text = "-M3: 120+34 -> 154, J"
    tokenizer = tiny[1]
    assert TokenVocabulary.of(tokenizer).spell(text) == tokenizer.encode(text, add_special_tokens=False)
    # The Unigram encoder prepends "▁" to any text: its own encoding decodes to " -M3...", so the fewest tokens win.
    vocabulary = TokenVocabulary.of(unigram[1])
    ids = vocabulary.spell(text)
    assert "".join(vocabulary.surfaces[i] for i in ids) == text
    assert ids != unigram[1].encode(text, add_special_tokens=False)


def test_tokens_that_merge_a_separator_with_a_job_number_stay_choosable(merged_bpe):
    """With a BPE that has tokens like ', J1', the forced ', J' is held back so the model can pick the merged token."""
    model, tokenizer = merged_bpe
    vocabulary = TokenVocabulary.of(tokenizer)
    instance = random_instance(random.Random(3), 12, 3)
    writer = SolutionWriter(instance, vocabulary, tokenizer.eos_token_id)
    writer.start()
    spanning = set()
    while not writer.finished:
        spanning |= {vocabulary.surfaces[t] for t, _ in writer.allowed if "J1" in vocabulary.surfaces[t]}
        # Always take the longest allowed token: the most merged spelling.
        writer.choose(max(writer.allowed, key=lambda pair: pair[1])[0])
    assert any(len(surface) > 2 for surface in spanning), spanning
    assert verify(instance, writer.text).valid


# ------------------------------------------------------------------------------------------- sampling, batching


def test_greedy_is_deterministic_and_independent_of_batching(tiny):
    model, tokenizer = tiny
    rng = random.Random(5)
    instances = [load_benchmark("ft06")[0], random_instance(rng, 11, 3), random_instance(rng, 4, 6)]
    prompts = [PromptFormat().prompt_text(instance) for instance in instances]
    together = guaranteed_generate(model, tokenizer, prompts, settings=GREEDY, batch_size=3, instances=instances)
    again = guaranteed_generate(model, tokenizer, prompts, settings=GREEDY, batch_size=3, instances=instances)
    alone = guaranteed_generate(model, tokenizer, prompts, settings=GREEDY, batch_size=1, instances=instances)
    assert together.texts == again.texts == alone.texts
    assert together.token_ids == alone.token_ids
    assert_all_valid(together, instances, tokenizer)


def test_choices_are_the_models_argmax_under_a_full_forward(model_and_tokenizer):
    """Ragged batches, the shared cache and per-row positions give the same choices as one uncached forward pass."""
    model, tokenizer = model_and_tokenizer
    rng = random.Random(7)
    instances = [random_instance(rng, 11, 3), random_instance(rng, 3, 4), load_benchmark("ft06")[0]]
    prompts = [PromptFormat("alpaca").prompt_text(instance) for instance in instances]
    vocabulary = TokenVocabulary.of(tokenizer)
    writers = [SolutionWriter(instance, vocabulary, tokenizer.eos_token_id) for instance in instances]
    from jssp_sft.solve.guaranteed import _decode_batch

    class _NoProgress:
        def update(self, n):
            pass

    with torch.inference_mode():
        _decode_batch(model, tokenizer, prompts, writers, 1, GREEDY, tokenizer.pad_token_id, _NoProgress())
        for prompt, writer in zip(prompts, writers):
            prompt_ids = encode_prompts(tokenizer, [prompt])["input_ids"][0].tolist()
            logits = model(input_ids=torch.tensor([prompt_ids + writer.ids])).logits[0]
            assert writer.choices
            for position, allowed in writer.choices:
                scores = logits[len(prompt_ids) + position - 1, list(allowed)]
                assert allowed[int(scores.argmax())] == writer.ids[position]


def test_best_of_n_samples_differ_and_are_reproducible(tiny):
    model, tokenizer = tiny
    instance, _ = load_benchmark("la01")
    prompt = PromptFormat().prompt_text(instance)
    first = guaranteed_generate(model, tokenizer, [prompt], num_samples=4, settings=HOT, seed=11, instances=[instance])
    second = guaranteed_generate(
        model, tokenizer, [prompt], num_samples=4, settings=HOT, seed=11, instances=[instance]
    )
    assert first.texts == second.texts
    assert len(set(first.texts[0])) == 4
    assert_all_valid(first, [instance], tokenizer)
    # The four samples share one prompt pass: one pass for the prompt, then one per decoding step.
    single = guaranteed_generate(
        model, tokenizer, [prompt], num_samples=1, settings=HOT, seed=11, instances=[instance]
    )
    assert first.forward_passes < 4 * single.forward_passes


def test_top_k_1_and_a_tiny_top_p_sample_the_greedy_choice(tiny):
    model, tokenizer = tiny
    instance = random_instance(random.Random(9), 12, 4)
    prompt = PromptFormat().prompt_text(instance)
    greedy = guaranteed_generate(model, tokenizer, [prompt], settings=GREEDY, instances=[instance])
    top_k = SamplingSettings(temperature=3.0, top_k=1)
    top_p = SamplingSettings(temperature=3.0, top_p=1e-6)
    for sampling in (top_k, top_p):
        sampled = guaranteed_generate(
            model, tokenizer, [prompt], num_samples=2, settings=sampling, seed=0, instances=[instance]
        )
        assert sampled.texts[0] == greedy.texts[0] * 2


def test_monotone_rule_keeps_the_text_sorted_by_start(tiny):
    model, tokenizer = tiny
    instance, _ = load_benchmark("la01")
    prompt = PromptFormat().prompt_text(instance)
    outputs = {
        rule: guaranteed_generate(
            model, tokenizer, [prompt], num_samples=3, settings=HOT, seed=2, instances=[instance], start_rule=rule
        )
        for rule in ("append", "monotone")
    }
    for output in outputs.values():
        assert_all_valid(output, [instance], tokenizer)
    for text in outputs["monotone"].texts[0]:
        starts = scan_solution(text).entries[:, 2]
        assert (starts[1:] >= starts[:-1]).all()
    append_starts = [scan_solution(text).entries[:, 2] for text in outputs["append"].texts[0]]
    assert any((starts[1:] < starts[:-1]).any() for starts in append_starts), (
        "an untrained model's append-rule text is almost never sorted by start"
    )


def test_bad_arguments_are_named(tiny):
    model, tokenizer = tiny
    instance, _ = load_benchmark("ft06")
    prompt = PromptFormat().prompt_text(instance)
    with pytest.raises(ValueError, match="start rule"):
        guaranteed_generate(model, tokenizer, [prompt], instances=[instance], start_rule="late")
    with pytest.raises(ValueError, match="1 prompts but 2 instances"):
        guaranteed_generate(model, tokenizer, [prompt], instances=[instance, instance])


# ---------------------------------------------------------------------------------------------- solve, evaluate


def test_solve_and_evaluate_with_guaranteed_decoding_and_repair(tiny_model_dir, tmp_path, capsys):
    from jssp_sft.cli.main import main as cli_main
    from jssp_sft.solve import read_results

    path = tmp_path / "guaranteed.jsonl"
    assert (
        cli_main(
            [
                "solve",
                "--model",
                str(tiny_model_dir),
                "--benchmark",
                "ft06,la01",
                "--decoding",
                "guaranteed",
                "--num_samples",
                "2",
                "--output",
                str(path),
            ]
        )
        == 0
    )
    lines, _ = read_results(path)
    assert [line["best_source"] for line in lines] == ["written", "written"]
    assert all(s["feasible"] and s["makespan_matches"] for line in lines for s in line["samples"])

    output_dir = tmp_path / "eval"
    assert (
        cli_main(
            [
                "evaluate",
                "--model",
                str(tiny_model_dir),
                "--benchmark",
                "ft06",
                "--num_samples",
                "2",
                "--max_new_tokens",
                "40",
                "--compare_decodings",
                "--output_dir",
                str(output_dir),
                "--cpsat_baseline",
                "false",
                "--rule_variants",
                "non_delay",
            ]
        )
        == 0
    )
    report = json.loads((output_dir / "report.json").read_text())
    rows = {label: data["sizes"]["all"] for label, data in report["groups"]["ft"]["methods"].items()}
    (free,) = [row for label, row in rows.items() if "(free," in label]
    (repaired,) = [row for label, row in rows.items() if "free+repair" in label]
    (guaranteed,) = [row for label, row in rows.items() if "guaranteed" in label]
    # 40 tokens cannot hold a 36-operation answer: free decoding answers nothing, repair answers everything.
    assert free["answered_rate"] == 0 and repaired["answered_rate"] == repaired["repaired_rate"] == 1
    assert guaranteed["feasible_rate"] == guaranteed["valid_rate"] == 1 and guaranteed["repaired_rate"] == 0
    assert "3 method(s)" in capsys.readouterr().out


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**9), jobs=st.integers(1, 8), machines=st.integers(1, 6))
def test_insert_starts_every_operation_no_later_than_append_and_append_than_monotone(seed, jobs, machines):
    """Why "insert" is the default start rule: for the same job choices, it never starts an operation later."""
    rng = random.Random(seed)
    instance = random_instance(rng, jobs, machines)
    order = [j for j, route in enumerate(instance.jobs) for _ in route]
    rng.shuffle(order)
    starts = {}
    for rule in ("insert", "append", "monotone"):
        builder = ScheduleBuilder(instance)
        starts[rule] = [builder.append(job, rule).start for job in order]
    assert all(i <= a <= m for i, a, m in zip(starts["insert"], starts["append"], starts["monotone"]))
