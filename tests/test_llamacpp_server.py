"""The HTTP backend against llama-cpp-python's server (opt-in: ROBOLLM_SLOW=1, and
llama-cpp-python with its server extra installed; it is not a dependency of robollm).

What was found with llama-cpp-python 0.3.16 and the embedded SmolLM2 GGUF: the log-prob of a
generated token agrees with the hf backend, but echoed prompt log-probs do not belong to
the tokens they are reported for, so the alignment check must refuse the server. If a later
version is aligned, the scores must then match the hf backend's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("ROBOLLM_SLOW") != "1", reason="set ROBOLLM_SLOW=1"),
]
pytest.importorskip("llama_cpp")
pytest.importorskip("llama_cpp.server")

from robollm.errors import UserError  # noqa: E402
from robollm.llm import OpenAICompletionsLM  # noqa: E402
from robollm.llm.model_files import embedded_model  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llamacpp() -> Iterator[str]:
    source = embedded_model()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(source.folder / source.gguf_file),
         "--logits_all", "true", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 180
    try:
        while True:
            try:
                with opener.open(url + "/models", timeout=5) as response:
                    json.loads(response.read())
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama_cpp.server did not start")
                time.sleep(1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_llamacpp_server_is_refused_or_matches_hf(llamacpp: str) -> None:
    remote = OpenAICompletionsLM(llamacpp, timeout=600)
    prompt = "Human: put the red block in the green bowl.\nRobot: 1."
    candidates = [" pick up the red block.", " pick up the green bowl.", " done."]
    try:
        got = remote.score(prompt, candidates)
    except UserError as error:
        message = str(error)
        assert "misaligned prompt log-probabilities" in message and "\n" not in message
        return
    from robollm.llm.hf import HFCausalLM

    want = HFCausalLM.load(adapter=None).score(prompt, candidates)
    assert [g.num_tokens for g in got] == [w.num_tokens for w in want]
    # Q4_1 run natively versus de-quantised to float32: close, not equal
    assert max(abs(g.logprob - w.logprob) for g, w in zip(got, want, strict=True)) < 0.5
    assert max(got, key=lambda s: s.logprob).text == max(want, key=lambda s: s.logprob).text
