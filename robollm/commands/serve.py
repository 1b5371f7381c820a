"""`robollm serve`: a language model as an OpenAI-compatible scoring server on loopback."""

from __future__ import annotations

import argparse

from robollm.errors import UserError
from robollm.llm.factory import create_language_model, read_scores
from robollm.llm.server import MAX_PROMPTS, MAX_TOKENS_PER_PROMPT, make_server

DESCRIPTION = f"""\
Serve a language model as OpenAI /v1/completions (scoring only: requests send echo=true and
get the prompt's per-token log-probabilities; nothing is generated).

Limits: one model serves all clients, one prompt at a time, in the order prompts were asked
for, so a request of many prompts takes turns with other requests prompt by prompt. A
request may hold at most --max-prompts prompts (default {MAX_PROMPTS}) of at most
--max-tokens-per-prompt tokens each (default {MAX_TOKENS_PER_PROMPT}); more is refused with
HTTP 413 saying the limit. The body may be at most 16 MiB. A request whose client has hung
up is dropped before its next prompt."""


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise UserError(f"--port must be a whole number from 0 to 65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise UserError(f"--port must be from 0 to 65535 (0 picks a free port), got {port}")
    return port


def _at_least_one(flag: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise UserError(f"{flag} must be at least 1, got {value}")


def serve_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="robollm serve", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backend", choices=("hf", "fake"), default="hf")
    parser.add_argument("--model", help="model folder or .gguf file (default: embedded SmolLM2)")
    parser.add_argument("--adapter", help="hf backend: LoRA adapter folder or name in launch/adapters "
                        "(e.g. saycan-smollm2); clients must then send that adapter's prompt")
    parser.add_argument("--threads", type=int, help="torch threads for the hf backend")
    parser.add_argument("--dtype", default="float32", help="hf weights: float32 or bfloat16")
    parser.add_argument("--fake-scores", help="fake backend: JSON object or file")
    parser.add_argument("--fake-default", type=float, default=-20.0)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", default="8000", help="0 to 65535; 0 picks a free port")
    parser.add_argument("--max-prompts", type=int, default=MAX_PROMPTS,
                        help=f"prompts one request may hold (default {MAX_PROMPTS})")
    parser.add_argument("--max-tokens-per-prompt", type=int, default=MAX_TOKENS_PER_PROMPT,
                        help=f"tokens one prompt may have (default {MAX_TOKENS_PER_PROMPT})")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    port = _port(args.port)  # checked before the model loads, which takes seconds
    _at_least_one("--max-prompts", args.max_prompts)
    _at_least_one("--max-tokens-per-prompt", args.max_tokens_per_prompt)
    _at_least_one("--threads", args.threads)
    if args.backend == "hf":
        options = dict(model=args.model, threads=args.threads, dtype=args.dtype, adapter=args.adapter)
    else:
        if args.adapter:
            raise UserError("--adapter works with the hf backend only (a LoRA adapter is merged "
                            "into a local model's weights)")
        options = dict(scores=read_scores(args.fake_scores) if args.fake_scores else None,
                       default=args.fake_default)
    model = create_language_model(args.backend, source="robollm serve", **options)
    try:
        server = make_server(model, args.host, port, args.verbose, max_prompts=args.max_prompts,
                             max_tokens_per_prompt=args.max_tokens_per_prompt)
    except OSError as error:
        model.close()
        reason = error.strerror or str(error)
        raise UserError(f"cannot listen on {args.host}:{port}: {reason}") from None
    host, bound = server.server_address[:2]
    print(f"robollm serve: listening on http://{host}:{bound}/v1 model={model.name} "
          f"(at most {args.max_prompts} prompts per request, {args.max_tokens_per_prompt} tokens "
          "per prompt)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        model.close()
    return 0
