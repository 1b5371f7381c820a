"""Score candidates with an OpenAI-compatible completions server (robollm serve, vLLM).

Such servers report prompt log-probabilities when asked to echo the prompt
(``echo: true, logprobs: 1``). Each candidate is sent as ``prompt + candidate``, up to
``batch_size`` of a step's candidates in one request, and the candidate's tokens are the
returned tokens whose characters (``text_offset``) overlap the candidate. A token that
straddles the boundary counts as a candidate token, because it carries candidate text.

Servers differ in ways that silently change the numbers, so the backend checks before it
trusts one: on first use it compares the log-prob of a token the server generates with the
log-prob the server reports for the same token when it is echoed back, and refuses a server
whose echoed log-probs are shifted. A server that takes one prompt per request is detected
on the first refused list and sent one prompt at a time from then on.

A request is sent again only when the server cannot have started on it (connection refused,
HTTP 429 or 503). A request that times out is never re-sent, since a single-worker server
would still be computing the first copy.

Only the standard library is used, so this backend works in a minimal install.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from robollm.errors import LanguageModelUnavailable, UserError
from robollm.llm.base import CandidateScore, LanguageModel

log = logging.getLogger(__name__)

_RETRY_STATUS = {429, 503}  # the server says it did not take the request on
# Statuses that say nothing about lists of prompts: no point in retrying one by one.
_NOT_ABOUT_LISTS = {401, 403, 404, 405, 429, 503}
# A refused generation request on a server that can only score (robollm serve).
_NO_GENERATION = {400, 422, 501}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# The alignment probe: the model's greedy next token after it is asked for a completion,
# then the same token echoed back. A planner-like text, so the token is an ordinary word.
ALIGNMENT_PROBE = (
    "Human: put the red block in the green bowl.\n"
    "Robot: 1. pick up the red block and place it in the"
)
ALIGNMENT_TOLERANCE = 0.25  # nats; a shifted server is off by several


class _StatusError(UserError):
    """The server answered with an HTTP error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _NoAnswer(UserError):
    """The server could not be reached, timed out or dropped the connection."""


def _server_went_away(error: UserError) -> bool:
    """Failures that say the server stopped serving, not that a request was wrong: a 4xx
    answer to a prompt (too long, say) stays the user's problem even in the middle of a run."""
    if isinstance(error, _StatusError):
        return error.status >= 500 or error.status in (408, 429)
    return isinstance(error, _NoAnswer)


class OpenAICompletionsLM(LanguageModel):
    """A remote model behind ``/v1/completions``.

    ``retries`` more attempts (after ``backoff``, ``2 * backoff``, ... seconds, or the
    server's ``Retry-After``) are made only when the connection is refused or the server
    answers 429/503. Every other failure is a one-line :class:`UserError` naming the
    server and, for an HTTP error, its status and message. Once the server has answered a
    scoring request, later failures that say it went away (no answer, a dropped connection,
    HTTP 5xx or 429) raise :class:`LanguageModelUnavailable` instead: the model stopped in
    the middle of a run. A 4xx answer stays a :class:`UserError`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_tokens: int = 1,
        batch_size: int = 16,
        api_key: str | None = None,
        check_alignment: bool = True,
    ) -> None:
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UserError(f"LLM server URL must look like http://host:port, got {base_url!r}")
        if not (timeout > 0 and math.isfinite(timeout)):
            raise UserError(f"LLM server timeout must be a positive number of seconds, got {timeout}")
        if batch_size < 1:
            raise UserError(f"LLM batch_size must be at least 1, got {batch_size}")
        root = base_url.rstrip("/")
        self.base = root if root.endswith("/v1") else root + "/v1"
        self.model = model
        self.name = model or self.base
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        # Servers compute prompt log-probs only while generating; llama-cpp-python reads
        # max_tokens <= 0 as "until the context is full", so at least one is asked for.
        self.max_tokens = max(1, max_tokens)
        self.batch_size = batch_size
        self.api_key = api_key
        self.check_alignment = check_alignment
        self.alignment: str | None = None  # what the check found, once it ran
        self._lists_work = False  # a list of prompts was answered
        self._answered = False  # a scoring request was answered
        handlers = [urllib.request.ProxyHandler({})] if parsed.hostname in _LOOPBACK else []
        self._opener = urllib.request.build_opener(*handlers)

    # -- transport ---------------------------------------------------------------------------

    def _request(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        url = self.base + path
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = None if payload is None else json.dumps(payload).encode()
        problem, wait = "", self.backoff
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(wait)
                wait = self.backoff * 2**attempt
            request = urllib.request.Request(url, data=data, headers=headers)
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    body = response.read()
            except urllib.error.HTTPError as error:
                message = _server_message(_read_quietly(error))
                if error.code in _RETRY_STATUS:
                    problem = f"HTTP {error.code}: {message}"
                    wait = max(wait, _retry_after(error.headers.get("Retry-After")))
                    continue
                raise _StatusError(
                    f"LLM server {url} answered HTTP {error.code}: {message}", error.code
                ) from None
            except urllib.error.URLError as error:  # raised before the request was sent
                reason = error.reason
                if isinstance(reason, ConnectionRefusedError):
                    problem = "connection refused"
                    continue
                if isinstance(reason, TimeoutError):
                    reason = f"no connection within {self.timeout:g} s"
                raise _NoAnswer(f"cannot reach LLM server {url}: {reason}") from None
            except TimeoutError:
                raise _NoAnswer(
                    f"LLM server {url} sent no answer within {self.timeout:g} s; it may still be "
                    "computing the request, so it is not sent again; give planner.llm a larger "
                    f"timeout than {self.timeout:g}"
                ) from None
            except (OSError, http.client.HTTPException) as error:
                detail = str(error) or type(error).__name__
                raise _NoAnswer(
                    f"LLM server {url} closed the connection without answering ({detail}); "
                    "it may have stopped"
                ) from None
            try:
                return json.loads(body)
            except ValueError:
                raise UserError(f"LLM server {url} sent a non-JSON answer: {_short(body)}") from None
        tries = self.retries + 1
        if problem == "connection refused":
            raise _NoAnswer(f"cannot reach LLM server {url} ({tries} attempts): {problem}")
        raise _NoAnswer(f"LLM server {url} is not taking requests ({tries} attempts): {problem}")

    def _models(self) -> list[dict[str, Any]]:
        listing = self._request("/models")
        data = listing.get("data") if isinstance(listing, dict) else None
        return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []

    def _model_name(self) -> str:
        """vLLM insists on a model name; ask the server when none was given."""
        if self.model is None:
            models = self._models()
            if not models or "id" not in models[0]:
                raise UserError(f"LLM server {self.base} lists no model; pass one")
            self.model = str(models[0]["id"])
        return self.model

    def _complete(self, texts: list[str], *, echo: bool = True) -> list[dict[str, Any]]:
        """One request; the choices in prompt order. A single prompt goes as a string,
        since some servers (llama-cpp-python) take a list for token ids."""
        payload = {
            "model": self._model_name(),
            "prompt": texts[0] if len(texts) == 1 else texts,
            "echo": echo,
            "logprobs": 1,
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
        }
        return self._choices(self._request("/completions", payload), len(texts))

    def generate(self, prompt: str, max_tokens: int = 256) -> str:
        payload = {"model": self._model_name(), "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0}
        choice = self._choices(self._request("/completions", payload), 1)[0]
        text = choice.get("text") if isinstance(choice, dict) else None
        if not isinstance(text, str):
            raise UserError(f"{self.base}: the completion carries no text")
        return text

    # -- alignment ---------------------------------------------------------------------------

    def _check_alignment(self) -> None:
        """Refuse a server whose echoed log-probs belong to other tokens than they say.

        The server generates one token after a probe text; echoing probe + token back must
        give that token the log-prob it was generated with. Servers that only score (robollm
        serve, whose echo is tested against the in-process model) cannot be probed this way.
        """
        try:
            generated = self._complete([ALIGNMENT_PROBE], echo=False)[0]
        except _StatusError as error:
            if error.status not in _NO_GENERATION:
                raise
            if any(m.get("owned_by") == "robollm" for m in self._models()):
                self.alignment = "robollm serve (scores only; not probed)"
            else:
                self.alignment = "not checked: the server does not generate"
                log.warning("cannot check the alignment of LLM server %s, it refused to "
                            "generate a token (%s); its scores are used unchecked",
                            self.base, error)
            return
        token, value = _last_token(generated)
        if token is None or value is None:
            self.alignment = "not checked: no log-prob for a generated token"
            log.warning("cannot check the alignment of LLM server %s: its answer has no "
                        "log-prob for the generated token", self.base)
            return
        echoed = self._complete([ALIGNMENT_PROBE + token])[0]
        tokens, values, offsets = self._logprob_lists(echoed)
        found = [values[k] for k in range(len(tokens))
                 if offsets[k] == len(ALIGNMENT_PROBE) and tokens[k] == token]
        if not found or not isinstance(found[0], (int, float)):
            self.alignment = "not checked: the echoed text is tokenised differently"
            log.warning("cannot check the alignment of LLM server %s: echoing %r did not "
                        "return that token", self.base, token)
            return
        if abs(found[0] - value) > ALIGNMENT_TOLERANCE:
            raise UserError(
                f"LLM server {self.base} reports misaligned prompt log-probabilities: the "
                f"token {token!r} it generated had log-prob {value:.3f}, but echoed back it "
                f"gets {found[0]:.3f}, so echoed log-probs belong to other tokens (llama-cpp-"
                "python's server does this for models without a beginning-of-text token); "
                "use a server listed in docs/llm.md"
            )
        self.alignment = f"ok (generated token {token!r}: {value:.4f} vs echoed {found[0]:.4f})"

    # -- scoring -----------------------------------------------------------------------------

    def _score(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        try:
            if self.check_alignment and self.alignment is None:
                self._check_alignment()
            results = self._score_batches(prompt, candidates)
        except UserError as error:
            if self._answered and _server_went_away(error):  # the model went away mid-run
                raise LanguageModelUnavailable(str(error)) from None
            raise
        self._answered = True
        return results

    def _score_batches(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        results: list[CandidateScore] = []
        start = 0
        while start < len(candidates):
            chunk = candidates[start : start + self.batch_size]
            try:
                choices = self._complete([prompt + c for c in chunk])
            except _StatusError as error:
                if len(chunk) == 1 or self._lists_work or error.status in _NOT_ABOUT_LISTS:
                    raise
                chunk = chunk[:1]
                choices = self._complete([prompt + chunk[0]])  # its own error if it fails too
                log.warning("LLM server %s refused a list of prompts (%s); sending one "
                            "prompt per request", self.base, error)
                self.batch_size = 1
            else:
                self._lists_work = self._lists_work or len(chunk) > 1
            results += [
                self._candidate(prompt, candidate, choice)
                for candidate, choice in zip(chunk, choices, strict=True)
            ]
            start += len(chunk)
        return results

    def _choices(self, answer: Any, expected: int) -> list[dict[str, Any]]:
        choices = answer.get("choices") if isinstance(answer, dict) else None
        if not isinstance(choices, list) or len(choices) != expected:
            got = len(choices) if isinstance(choices, list) else "no"
            raise UserError(
                f"bad answer from LLM server {self.base}: expected {expected} choices, got {got}"
            )
        if all(isinstance(c, dict) and isinstance(c.get("index"), int) for c in choices):
            choices = sorted(choices, key=lambda c: c["index"])
        return choices

    def _logprob_lists(self, choice: Any) -> tuple[list[str], list[Any], list[int]]:
        try:
            logprobs = choice["logprobs"]
            tokens = [str(t) for t in logprobs["tokens"]]
            values = list(logprobs["token_logprobs"])
            offsets = logprobs.get("text_offset")
        except (KeyError, TypeError):
            raise UserError(
                f"bad answer from LLM server {self.base}: no echoed log-probs "
                "(does it support echo=true with logprobs?)"
            ) from None
        if offsets is None:  # derive them when the server omits them
            offsets, position = [], 0
            for token in tokens:
                offsets.append(position)
                position += len(token)
        if not (len(tokens) == len(values) == len(offsets)):
            raise UserError(f"bad answer from LLM server {self.base}: log-prob lists differ")
        return tokens, values, list(offsets)

    def _candidate(self, prompt: str, candidate: str, choice: Any) -> CandidateScore:
        tokens, values, offsets = self._logprob_lists(choice)
        begin, end = len(prompt), len(prompt) + len(candidate)
        picked = [
            values[k]
            for k in range(len(tokens))
            if offsets[k] < end and offsets[k] + len(tokens[k]) > begin
        ]
        if not picked or any(not isinstance(v, (int, float)) for v in picked):
            raise UserError(
                f"bad answer from LLM server {self.base}: no log-probs for candidate "
                f"{candidate!r} (is the prompt empty, or the echo missing?)"
            )
        lps = tuple(float(v) for v in picked)
        return CandidateScore(candidate, sum(lps), len(lps), token_logprobs=lps)


def _last_token(choice: Any) -> tuple[str | None, float | None]:
    """The generated token of a one-token completion and its log-prob."""
    try:
        logprobs = choice["logprobs"]
        token, value = logprobs["tokens"][-1], logprobs["token_logprobs"][-1]
    except (KeyError, IndexError, TypeError):
        return None, None
    if not isinstance(token, str) or not token or not isinstance(value, (int, float)):
        return None, None
    return token, float(value)


def _read_quietly(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read()
    except (OSError, http.client.HTTPException):
        return b""


def _server_message(body: bytes) -> str:
    """The error text of an OpenAI-style (``error.message``), FastAPI-style (``detail``) or
    plain answer."""
    try:
        data = json.loads(body)
    except ValueError:
        return _short(body) or "(no message)"
    found: Any = data
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and "message" in error:
            found = error["message"]
        elif isinstance(error, str):
            found = error
        elif "detail" in data:
            found = data["detail"]
        elif "message" in data:
            found = data["message"]
    text = found if isinstance(found, str) else json.dumps(found)
    return _short(text.encode())


def _retry_after(value: str | None) -> float:
    try:
        return min(30.0, max(0.0, float(value))) if value else 0.0
    except ValueError:
        return 0.0


def _short(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip().replace("\n", " ")
    return text[:300] + ("..." if len(text) > 300 else "")
