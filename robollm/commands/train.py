"""`robollm train planner-lm`: tune the planner's language model on synthetic expert plans.

    robollm train planner-lm --out my-adapter                 # 72 min on the 2-core CPU machine
    robollm train planner-lm --out my-adapter --tasks 300 --sensing-tasks 60   # a small run

It generates tasks (robollm.training.synthetic), none of whose instructions appears in a
shipped or held-out evaluation suite, renders every step of every expert plan with the
prompt the planner will use, fine-tunes LoRA adapters on the base model (default: the
embedded SmolLM2-135M-Instruct) and writes an adapter folder. Point
``planner.llm.adapter`` at that folder to plan with it. The default adapter,
``launch/adapters/saycan-hands-smollm2``, was made by this command with its defaults on the
2-core CPU machine (72 min); the earlier ``saycan-smollm2`` (prompt saycan_tuned, 6000 tasks, two
epochs, on a GPU) ships beside it for comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from robollm.commands.training_options import check_out, pick_device
from robollm.errors import UserError
from robollm.training.task_split import split_tasks, suite_instructions  # noqa: F401 (used by tests)

if TYPE_CHECKING:
    from robollm.llm.model_files import ModelSource
    from robollm.planner.prompt import PromptTemplate

DEFAULT_PROMPT = "saycan_scene"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robollm train planner-lm",
                                description="Fine-tune LoRA adapters of the planner's language model "
                                            "on synthetic expert plans.")
    p.add_argument("--out", required=True, help="folder for the adapter (must not exist, or be empty)")
    p.add_argument("--model", help="base model folder or .gguf (default: the embedded SmolLM2-135M-Instruct)")
    p.add_argument("--prompt", default=DEFAULT_PROMPT,
                   help=f"prompt file or name in launch/prompts (default: {DEFAULT_PROMPT})")
    p.add_argument("--tasks", type=int, default=3500, help="synthetic tasks to generate (default: 3500)")
    p.add_argument("--sensing-tasks", type=int, default=1200,
                   help="extra tasks that sense before acting, with evidence lines from the real "
                        "interpreters (robollm/training/data/sensing_evidence.json); default: 1200")
    p.add_argument("--sense-past", type=float, default=0.0, metavar="P",
                   help="share of the sensing tasks (knock or touch) in which the expert senses the rest "
                        "after finding the one asked for, so the one to take is not always the one sensed "
                        "last (default: 0; 0.3 measured worse on property, see docs/llm.md)")
    p.add_argument("--evidence-style", choices=("beliefs", "adjectives"), default="beliefs",
                   help="how the sensing tasks' evidence lines read; plan with the same sensing.style "
                        "(default: beliefs)")
    p.add_argument("--evidence-bank", metavar="FILE",
                   help="evidence lines for the sensing tasks, from python -m robollm.sim.evidence_bank "
                        "(default: robollm/training/data/sensing_evidence.json)")
    p.add_argument("--family-weights", metavar="FILE.json",
                   help='other weights for the task generator\'s families, as {"except_one": 2.0, ...}; '
                        "the families not named keep theirs (see robollm/training/family_weights.py)")
    p.add_argument("--skills", metavar="LIBRARY",
                   help="skill library the planner will run with, as in a launch file's skills.library "
                        "(default: the default launch file's, robollm.skills.catalog:register_with_hands; with "
                        "it the tasks include requests that name the hand)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--rank", type=int, default=8, help="LoRA rank (default: 8)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default: auto)")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rank-weight", type=float, default=0.0,
                   help="weight of the ranking loss, which sets each expert step against the other "
                        "candidates the planner would score there (default: 0, likelihood only)")
    p.add_argument("--layers", type=int,
                   help="adapt only the top N transformer layers (default: all); the layers below "
                        "then need no gradients, so training is faster")
    p.add_argument("--bf16", action="store_true",
                   help="train under bfloat16 autocast (faster on CPUs with AVX-512 BF16 and on GPUs; "
                        "weights and optimiser stay float32)")
    p.add_argument("--init", metavar="ADAPTER",
                   help="go on training this adapter folder (its LoRA rank holds) instead of new adapters")
    p.add_argument("--dump", metavar="FILE.jsonl", help="also write the training pairs to this file")
    return p


def make_samples(template: PromptTemplate, count: int, seed: int, sensing: int = 0,
                 library: str | None = None, candidates: bool = False, evidence_style: str = "beliefs",
                 evidence_bank: str | None = None, family_weights: dict[str, float] | None = None,
                 sense_past: float = 0.0):
    """(train pairs, validation pairs) rendered with `template`. 3% of tasks are kept for validation.
    `sensing` more tasks need a knock, touch or weighing before acting (real evidence lines).
    `library` is the skill library the planner runs with (default: the built-in one).
    `evidence_style` and `evidence_bank`: the sensing tasks' evidence lines, `sense_past` how
    often they sense past the one asked for, `family_weights` other weights for the
    generator's families (`split_tasks`).
    With `candidates`, also the texts the planner would score at each training step (one
    list per training pair, None where the expert's step is not among them): the
    alternatives that the ranking loss (`--rank-weight`) sets the expert's step against."""
    from robollm.training.lm_temperature import task_steps
    from robollm.training.synthetic import library_skills
    from robollm.training.task_text import hand_notes, step_lines, table_text

    skills = library_skills(library)
    # A prompt that describes the table brings the tasks that need it (and the rest of the
    # wider language of robollm.training.synthetic_language).
    train_tasks, valid_tasks = split_tasks(count, seed, sensing, language=template.uses_scene, library=library,
                                           evidence_style=evidence_style, evidence_bank=evidence_bank,
                                           family_weights=family_weights, sense_past=sense_past)

    def pairs(ts: list) -> list[tuple[str, str]]:
        out = []
        for t in ts:
            objects = [o.replace("_", " ") for o in t.objects]
            table = table_text(t) if template.uses_scene else ("", "")
            for lines, step in step_lines(t, hand_notes(t, skills) if template.tells_hands else None):
                out.append((template.render(objects, t.instruction, lines, None, *table), f" {step}."))
        return out

    if not candidates:
        return pairs(train_tasks), pairs(valid_tasks)
    train: list[tuple[str, str]] = []
    alternatives: list[list[str] | None] = []
    for t in train_tasks:
        own = pairs([t])
        steps = task_steps(t, template, skills)
        same = steps is not None and [(s.prompt, s.candidates[s.target]) for s in steps] == own
        train += own
        alternatives += [s.candidates for s in steps] if same else [None] * len(own)  # type: ignore[union-attr]
    return train, pairs(valid_tasks), alternatives


def adapted_layers(source: ModelSource, layers: int | None) -> list[int] | None:
    """The layer indices `--layers` names for the model at `source` (None: all), read from
    its config before any weights load; a count the model cannot give is a user error."""
    if layers is None:
        return None
    from robollm.util.compat import ensure_torchvision

    ensure_torchvision()  # before transformers, on a CPU torch
    from transformers import AutoConfig

    from robollm.llm.model_files import ensure_converted
    from robollm.training.planner_lm import top_layers

    try:
        return top_layers(AutoConfig.from_pretrained(ensure_converted(source).folder, local_files_only=True), layers)
    except ValueError as error:
        raise UserError(f"--layers {layers}: {error}") from None


def train_planner_lm(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    for name in ("tasks", "epochs", "rank", "batch_size"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.layers is not None and args.layers < 1:
        raise UserError(f"--layers must be at least 1, got {args.layers}")
    if args.layers is not None and args.init:
        raise UserError("--layers applies to new adapters; --init goes on training an adapter's own layers")
    if not args.lr > 0:
        raise UserError(f"--lr must be positive, got {args.lr}")
    if not args.rank_weight >= 0:
        raise UserError(f"--rank-weight must be 0 or more, got {args.rank_weight}")
    if args.sensing_tasks < 0:
        raise UserError(f"--sensing-tasks must be 0 or more, got {args.sensing_tasks}")
    if not 0.0 <= args.sense_past <= 1.0:
        raise UserError(f"--sense-past must be a share from 0 to 1, got {args.sense_past}")
    out = Path(args.out)
    device = pick_device(args.device)
    from robollm.llm.model_files import ensure_converted, resolve_model
    from robollm.planner.prompt import load_prompt

    source = resolve_model(args.model)  # a missing model, prompt or library fails before any work
    template = load_prompt(args.prompt)
    from robollm.config import load_config
    from robollm.training.synthetic import names_hands

    library = args.skills or load_config(None).skills.library  # the default launch file's
    try:
        names_hands(library)
    except (ValueError, ImportError, AttributeError) as error:
        raise UserError(f"--skills {library!r}: expected a skill library such as "
                        f"robollm.skills.catalog:register_with_hands ({error})") from None
    from robollm.llm.adapters import read_meta, resolve_adapter, text_digest

    init, init_meta = None, {}
    if args.init:
        init = resolve_adapter(args.init)
        init_meta = read_meta(init)
        if init_meta.get("prompt_sha256") not in (None, text_digest(template.text)):
            raise UserError(f"--init {args.init!r} was trained with another prompt than {template.source}")
    adapted = adapted_layers(source, args.layers)
    if args.evidence_bank:
        from robollm.training.sensing_tasks import check_bank

        check_bank(args.evidence_bank, "--evidence-bank")
    weights = None
    if args.family_weights:
        if not template.uses_scene:
            raise UserError(f"--family-weights weighs the wider language's families, which prompt "
                            f"{template.source} does not use (it does not describe the table)")
        from robollm.training.family_weights import check_family_weights

        weights = check_family_weights(args.family_weights, names_hands(library))
    check_out(out)

    import torch
    from tqdm import tqdm

    from robollm.llm.hf_loading import load_pretrained
    from robollm.training.planner_lm import save_adapter, train_lora
    from robollm.training.sensing_tasks import BANK_COPY, bank_record

    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.time()
    alternatives = None
    evidence = {"evidence_style": args.evidence_style, "evidence_bank": args.evidence_bank,
                "family_weights": weights, "sense_past": args.sense_past}
    if args.rank_weight > 0:
        train, valid, alternatives = make_samples(template, args.tasks, args.seed, args.sensing_tasks, library,
                                                  candidates=True, **evidence)
    else:
        train, valid = make_samples(template, args.tasks, args.seed, args.sensing_tasks, library, **evidence)
    print(f"{args.tasks} synthetic tasks: {len(train)} training steps, {len(valid)} validation steps; "
          f"prompt {template.source}")
    if args.dump:
        try:
            with open(args.dump, "w") as f:
                for prompt, step in train:
                    f.write(json.dumps({"prompt": prompt, "continuation": step}) + "\n")
        except OSError as error:
            raise UserError(f"--dump {args.dump!r}: cannot write ({error.strerror})") from None
    model, tokenizer = load_pretrained(ensure_converted(source), torch.float32)
    print(f"base model {source.label}; training on {device}")
    bar = tqdm(total=1, desc="training", unit="batch", file=sys.stderr, disable=None)
    trained_from = time.time()

    def progress(step: int, total: int, loss: float) -> None:
        bar.total = total
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
        if bar.disable and (step == 1 or step % max(1, total // 50) == 0 or step == total):
            spent = time.time() - trained_from  # no terminal (a log file): a line every 2%
            print(f"training: batch {step}/{total}, loss {loss:.3f}, {spent / 60:.1f} min, "
                  f"about {spent / step * (total - step) / 60:.0f} min left", flush=True)

    peft_model, losses = train_lora(model, tokenizer, train, valid, rank=args.rank, alpha=2.0 * args.rank,
                                    lr=args.lr, epochs=args.epochs, batch_size=args.batch_size,
                                    seed=args.seed, device=device, alternatives=alternatives,
                                    rank_weight=args.rank_weight, init=init, layers=args.layers,
                                    bf16=args.bf16, progress=progress)
    bar.close()
    meta = {
        "base_model": Path(source.label).name,
        "prompt": Path(template.source).name,
        "prompt_sha256": text_digest(template.text),
        "tasks": args.tasks, "sensing_tasks": args.sensing_tasks, "skill_library": library,
        "evidence_style": args.evidence_style, "sense_past": args.sense_past,
        **({"evidence_bank": bank_record(args.evidence_bank)} if args.evidence_bank else {}),
        **({"family_weights": weights} if weights else {}),
        "seed": args.seed, "epochs": args.epochs, "rank": args.rank if init is None else init_meta.get("rank"),
        "rank_weight": args.rank_weight, **({"init": str(init), "init_meta": init_meta} if init else {}),
        "layers": "all" if adapted is None else f"{adapted[0]}-{adapted[-1]}", "bf16": args.bf16,
        "lr": args.lr, "batch_size": args.batch_size, "device": device,
        "train_steps": len(train), "valid_steps": len(valid),
        "pairs_sha256": text_digest(json.dumps(train)),
        **{k: round(v, 4) for k, v in losses.items()},
        "seconds": round(time.time() - started, 1),
        "command": "robollm train planner-lm " + " ".join(argv),
    }
    save_adapter(peft_model, out, meta)
    if args.evidence_bank:  # the lines it learnt from travel with it (robollm train lm-temperature reads them)
        (out / BANK_COPY).write_text(Path(args.evidence_bank).read_text())
    print(f"validation loss per step token: {losses['valid_nll_before']:.3f} -> {losses['valid_nll_after']:.3f}")
    print(f"adapter written to {out} ({meta['seconds']:.0f} s); plan with it by setting "
          f"planner.llm.adapter: {out} and planner.prompt: {meta['prompt'][:-4]}")
    return 0


def train_command(what: str, rest: list[str]) -> int:
    if what == "planner-lm":
        return train_planner_lm(rest)
    if what == "perception":  # named by entry point: that module uses this one's helpers
        from robollm.registry import load_entry_point

        return load_entry_point("robollm.commands.train_perception:train_perception")(rest)
    if what == "sound":
        from robollm.commands.train_sound import train_sound

        return train_sound(rest)
    if what == "touch":
        from robollm.commands.train_touch import train_touch

        return train_touch(rest)
    if what == "lm-temperature":
        from robollm.commands.train_lm_temperature import train_lm_temperature

        return train_lm_temperature(rest)
    if what == "affordance":
        from robollm.commands.train_affordance import train_affordance

        return train_affordance(rest)
    raise UserError(f"unknown training job {what!r}; expected planner-lm, lm-temperature, perception, sound, "
                    "touch or affordance")
