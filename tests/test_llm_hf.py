"""The local transformers backend: batched shared-prefix scoring against the naive reference.

Fast tests use a tiny Llama built here (random weights, a byte-level BPE trained on a few
sentences), saved to a folder and loaded through the normal path. Tests marked ``slow`` load
the embedded SmolLM2-135M.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from robollm.errors import UserError  # noqa: E402
from robollm.llm import hf as hf_module  # noqa: E402
from robollm.llm.examples import saycan_candidates, saycan_prompt  # noqa: E402
from robollm.llm.hf import HFCausalLM  # noqa: E402
from robollm.util.compat import ensure_torchvision  # noqa: E402

ensure_torchvision()

PROMPT = "Objects: red block, blue bowl.\nHuman: put the red block in the blue bowl.\nRobot: 1."
CANDIDATES = [
    " pick up the red block and place it in the blue bowl.",
    " pick up the red block and place it on the table.",
    " pick up the blue bowl.",
    " done.",
    " x",
]


@pytest.fixture(scope="module")
def tiny(tiny_folder: Path) -> HFCausalLM:
    return HFCausalLM.load(tiny_folder, threads=1)


def _assert_close(a: list, b: list, tol: float = 1e-4) -> None:
    for x, y in zip(a, b, strict=True):
        assert x.num_tokens == y.num_tokens
        assert x.logprob == pytest.approx(y.logprob, abs=tol)
        assert x.token_logprobs == pytest.approx(y.token_logprobs, abs=tol)


def test_batched_equals_naive(tiny: HFCausalLM) -> None:
    batched = tiny.score(PROMPT, CANDIDATES)
    naive = tiny.score_naive(PROMPT, CANDIDATES)
    _assert_close(batched, naive)
    assert [s.num_tokens for s in batched] == [len(tiny.encode_candidate(c)) for c in CANDIDATES]
    assert len({round(s.logprob, 3) for s in batched}) == len(CANDIDATES)


@pytest.fixture(scope="module")
def tiny_gemma(tiny: HFCausalLM) -> HFCausalLM:
    """A tiny random Gemma 3: sliding-window layers (window 8) beside full-attention ones."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    config = Gemma3TextConfig(vocab_size=len(tiny.tokenizer), hidden_size=64, intermediate_size=128,
                              num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                              sliding_window=8, layer_types=["sliding_attention", "full_attention"],
                              max_position_embeddings=1024, initializer_range=0.3)
    torch.manual_seed(0)
    return HFCausalLM(Gemma3ForCausalLM(config), tiny.tokenizer)


def test_a_sliding_window_model_scores_as_its_naive_pass(tiny_gemma: HFCausalLM) -> None:
    assert tiny_gemma._window == 8
    _assert_close(tiny_gemma.score(PROMPT, CANDIDATES), tiny_gemma.score_naive(PROMPT, CANDIDATES))
    longer = PROMPT + " pick up the red block."  # reuses the first prompt's keys and values
    _assert_close(tiny_gemma.score(longer, CANDIDATES), tiny_gemma.score_naive(longer, CANDIDATES))
    candidates = saycan_candidates()[:12]
    _assert_close(tiny_gemma.score(saycan_prompt(), candidates), tiny_gemma.score_naive(saycan_prompt(), candidates))


def test_the_equality_check_has_teeth(tiny: HFCausalLM, monkeypatch: pytest.MonkeyPatch) -> None:
    """If candidates could see each other, scores would move far beyond the tolerance."""
    naive = tiny.score_naive(PROMPT, CANDIDATES)

    def leaky(tree, prompt_len, dtype):  # type: ignore[no-untyped-def]
        return torch.zeros((1, 1, len(tree), prompt_len + len(tree)), dtype=dtype)

    monkeypatch.setattr(hf_module, "tree_mask", leaky)
    # A model of its own: answers kept by the shared one would hide the leak, or keep it.
    leaked = HFCausalLM(tiny.model, tiny.tokenizer).score(PROMPT, CANDIDATES)
    assert max(abs(a.logprob - b.logprob) for a, b in zip(leaked, naive, strict=True)) > 1e-2


def test_small_chunks_give_the_same_scores(tiny_folder: Path, tiny: HFCausalLM) -> None:
    chunked = HFCausalLM(tiny.model, tiny.tokenizer, chunk_tokens=5)
    _assert_close(chunked.score(PROMPT, CANDIDATES), tiny.score(PROMPT, CANDIDATES))


def test_prompt_cache_computes_only_the_new_tail(tiny: HFCausalLM) -> None:
    """A prompt that extends a cached one runs only its new tokens, with the same scores."""
    longer = PROMPT + " pick up the red block.\n2."
    lengths: list[int] = []
    hook = tiny.model.register_forward_pre_hook(
        lambda _m, _a, kw: lengths.append(kw["input_ids"].shape[1]), with_kwargs=True
    )
    try:
        tiny.forget_prompts()
        tiny.score(PROMPT, CANDIDATES)
        lengths.clear()
        warm = tiny.score(longer, CANDIDATES)
        tail = lengths[0]
        again = tiny.score(longer, CANDIDATES)
        tiny.forget_prompts()
        lengths.clear()
        cold = tiny.score(longer, CANDIDATES)
    finally:
        hook.remove()
    short_ids, long_ids = tiny.encode_prompt(PROMPT), tiny.encode_prompt(longer)
    common = len(os.path.commonprefix([short_ids, long_ids]))
    assert tail == len(long_ids) - common < lengths[0] == len(long_ids)
    _assert_close(warm, cold)
    assert again == warm  # a prompt seen before is not recomputed


def test_a_step_asked_again_is_answered_without_a_forward_pass(tiny: HFCausalLM) -> None:
    """The physics run of an episode repeats its symbolic run's questions: no compute then."""
    calls: list[int] = []
    hook = tiny.model.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        tiny.forget_prompts()
        first = tiny.score(PROMPT, CANDIDATES)
        computed = len(calls)
        again = tiny.score(PROMPT, CANDIDATES)
        after_again = len(calls)
        other = tiny.score(PROMPT, CANDIDATES[:-1])  # other candidates: computed again
    finally:
        hook.remove()
    assert computed > 0 and after_again == computed and again == first
    assert len(calls) > computed
    _assert_close(other, first[:-1])


def test_prompt_cache_can_be_switched_off(tiny: HFCausalLM) -> None:
    uncached = HFCausalLM(tiny.model, tiny.tokenizer, prompt_cache=0)
    uncached.score(PROMPT, CANDIDATES)
    assert not uncached._prompts and not uncached._answers
    with pytest.raises(UserError, match="prompt_cache"):
        HFCausalLM(tiny.model, tiny.tokenizer, prompt_cache=-1)


def test_saycan_step_and_duplicates(tiny: HFCausalLM) -> None:
    candidates = saycan_candidates()[:20] + [saycan_candidates()[0]]
    scores = tiny.score(saycan_prompt(), candidates)
    _assert_close(scores, tiny.score_naive(saycan_prompt(), candidates))
    assert scores[0] == scores[-1]


def test_prompt_matters_and_scores_are_deterministic(tiny: HFCausalLM) -> None:
    first = tiny.score(PROMPT, CANDIDATES)
    assert tiny.score(PROMPT, CANDIDATES) == first
    other = tiny.score("Human: say something else entirely.\nRobot:", CANDIDATES)
    assert max(abs(a.logprob - b.logprob) for a, b in zip(first, other, strict=True)) > 1e-2


def test_empty_prompt_and_calibration(tiny: HFCausalLM) -> None:
    scores = tiny.score("", CANDIDATES[:2], neutral_prompt="Robot:")
    assert all(s.unconditional_logprob is not None for s in scores)
    _assert_close(scores, tiny.score_naive("", CANDIDATES[:2]))


def test_token_logprobs_match_candidate_scores_at_word_boundaries(tiny: HFCausalLM) -> None:
    tokens = tiny.token_logprobs(PROMPT + CANDIDATES[0])
    assert "".join(t.text for t in tokens) == PROMPT + CANDIDATES[0]
    assert tokens[0].logprob is None
    tail = [t.logprob for t in tokens if t.offset >= len(PROMPT)]
    expected = tiny.score(PROMPT, CANDIDATES[:1])[0]
    assert len(tail) == expected.num_tokens
    assert sum(tail) == pytest.approx(expected.logprob, abs=1e-4)


def test_too_long_prompt_is_a_user_error(tiny: HFCausalLM) -> None:
    with pytest.raises(UserError, match="more than the model's 1024"):
        tiny.score("red block " * 1500, [" done."])


def test_load_errors_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        HFCausalLM.load(tmp_path / "missing")
    with pytest.raises(UserError, match="dtype"):
        HFCausalLM.load(tmp_path, dtype="int3")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UserError, match="cannot load"):
        HFCausalLM.load(tmp_path)


# -- the embedded SmolLM2-135M ---------------------------------------------------------------


@pytest.fixture(scope="module")
def smollm() -> HFCausalLM:
    return HFCausalLM.load(threads=2)


@pytest.mark.slow
def test_smollm_batched_matches_naive_within_1e3(smollm: HFCausalLM) -> None:
    candidates = saycan_candidates()[::6]
    batched = smollm.score(saycan_prompt(), candidates)
    naive = smollm.score_naive(saycan_prompt(), candidates)
    assert max(abs(a.logprob - b.logprob) for a, b in zip(batched, naive, strict=True)) < 1e-3
    best = max(batched, key=lambda s: s.logprob)
    assert best.logprob > -20 and all(s.num_tokens > 0 for s in batched)


@pytest.mark.slow
def test_smollm_over_http_equals_in_process(smollm: HFCausalLM) -> None:
    from robollm.llm import OpenAICompletionsLM
    from robollm.llm.server import start_subprocess

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process, url = start_subprocess("--backend", "hf", "--threads", "1", env=env)
    try:
        candidates = saycan_candidates()[::13]
        remote = OpenAICompletionsLM(url, timeout=120).score(saycan_prompt(), candidates)
    finally:
        process.terminate()
        process.wait(timeout=30)
    _assert_close(remote, smollm.score(saycan_prompt(), candidates), tol=1e-3)


@pytest.mark.slow
def test_cached_load_is_fast() -> None:
    """A fresh process loads the converted copy in well under the 18 s of a GGUF load.

    Python imports (torch, transformers) are paid once per process whatever the model; they
    are done before the clock starts so the check measures loading the model itself.
    """
    HFCausalLM.load()  # make sure the converted copy exists
    code = (
        "import time\n"
        "from robollm.llm.hf import HFCausalLM\n"
        "from robollm.util.compat import ensure_torchvision; ensure_torchvision()\n"
        "import transformers; from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        "t = time.perf_counter(); HFCausalLM.load(); print(time.perf_counter() - t)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert float(result.stdout.strip().splitlines()[-1]) < 5.0
