"""`python -m bot eval`: what the asker gets on the real and written sets, the harmful-request
sets, and the scam checker on real messages, as tables (or JSON)."""

from __future__ import annotations

import json
from typing import TextIO

from bot.app import checker_examples
from bot.services import check_eval, evaluation, real_eval, safety_eval
from bot.settings import REPO_ROOT

EXIT_OK = 0

DEV_SET = REPO_ROOT / "tests" / "data" / "dev_questions.jsonl"
REAL_SET = REPO_ROOT / "tests" / "data" / "real_questions.jsonl"
MESSAGE_SET = REPO_ROOT / "tests" / "data" / "real_messages.jsonl"
# The harmful-request sets: the first is the development set, the others are held out.
SAFETY_SETS = tuple(
    REPO_ROOT / "tests" / "data" / name
    for name in ("adversarial.jsonl", "adversarial_holdout.jsonl", "safety_holdout_real.jsonl")
)


def report(args, app, stdout: TextIO) -> int:
    """Print hit@1, hit@3, MRR and refusal rates, per language; and the checker on real messages."""
    if args.messages_only:
        return _eval_messages(app, args, stdout)
    items = evaluation.load_dev_set(args.dev_set)
    outcomes = evaluation.run(app.answers, items)
    table = evaluation.by_language(outcomes)
    real = real_eval.run_real(app.answers, real_eval.load_real_set(args.real_set))
    real_table = real_eval.by_part(real)
    groups = real_eval.by_group(real, "holdout")
    safety_sets = args.safety_set or list(SAFETY_SETS)
    safety_runs = {
        path.name: safety_eval.run_safety(app.answers, safety_eval.load_safety_set(path))
        for path in safety_sets
    }
    safety_table = {name: safety_eval.safety_metrics(runs) for name, runs in safety_runs.items()}
    if args.json:
        out = {"written": table, "real": real_table, "real_holdout_groups": groups, "safety": safety_table}
        print(json.dumps(out, ensure_ascii=False, indent=2), file=stdout)
    else:
        print(f"real questions ({args.real_set.name}): what the asker gets", file=stdout)
        _print_rows(real_table, list(next(iter(real_table.values()))), stdout)
        print("\nheld-out part by group:", file=stdout)
        _print_rows(groups, ["n", "answerable_n", "rank1", "top3", "false_refusal", "correct"], stdout)
        print(
            f"\nharmful-request sets (the first is the development set): {safety_eval.EXPECTS}", file=stdout
        )
        _print_rows(safety_table, list(next(iter(safety_table.values()))), stdout)
        print(f"\nwritten development set ({args.dev_set.name}): topic of the best entry", file=stdout)
        _print_table(table, stdout)
    if args.fusion:
        print("\nfusion (in-scope questions, all languages):", file=stdout)
        for mode in ("dense", "lexical", "centroid", "rrf", "hybrid"):
            app.retriever.fusion = mode
            m = evaluation.metrics(evaluation.run(app.answers, items))
            print(
                f"  {mode:<8} hit@1 {m['hit@1']:.3f}  hit@3 {m['hit@3']:.3f}  mrr {m['mrr']:.3f}", file=stdout
            )
        app.retriever.fusion = "hybrid"
    if args.calibrate:
        print("\nscope thresholds (false refusal <= 0.05), best first:", file=stdout)
        for rule, refusal, false_refusal in evaluation.calibrate(outcomes)[:10]:
            print(
                f"  min_dense {rule.min_dense:.2f} min_lexical {rule.min_lexical:.2f} "
                f"min_margin {rule.min_margin:+.3f}: "
                f"oos refusal {refusal:.3f}, false refusal {false_refusal:.3f}",
                file=stdout,
            )
    if args.misses:
        first = safety_sets[0].name
        print(f"\nmisses (harmful-request development set {first}):", file=stdout)
        for line in safety_eval.safety_misses(safety_runs[first]):
            print("  " + line, file=stdout)
        print("\nmisses (written development set):", file=stdout)
        for line in evaluation.misses(outcomes):
            print("  " + line, file=stdout)
        # The held-out part is never listed: it is measured, not read for tuning.
        print("\nmisses (real questions, development part only):", file=stdout)
        for line in real_eval.real_misses(real, "dev"):
            print("  " + line, file=stdout)
    return EXIT_OK


def _print_table(table: dict, stdout: TextIO) -> None:
    columns = [
        "in_scope_n",
        "hit@1",
        "hit@3",
        "mrr",
        "out_of_scope_n",
        "oos_refusal",
        "false_refusal",
        "harmful_n",
        "harmful_refused",
        "lang_correct",
    ]
    _print_rows(table, columns, stdout)


def _eval_messages(app, args, stdout) -> int:
    """The checker on the real message set: each part, and each scheme of the held-out part."""
    outcomes = check_eval.run_messages(app.checker, check_eval.load_messages(args.message_set))
    schemes = set(app.checker.rules.schemes)
    table = check_eval.by_split(outcomes, schemes)
    per_scheme = check_eval.by_scheme(outcomes, "holdout")
    if args.json:
        print(json.dumps({"messages": table, "holdout_schemes": per_scheme}, indent=2), file=stdout)
        return EXIT_OK
    print(f"real messages ({args.message_set.name}): high or medium is caught", file=stdout)
    _print_rows(table, list(next(iter(table.values()))), stdout)
    print("\nheld-out scams by family (named: the verdict names that scheme):", file=stdout)
    _print_rows(per_scheme, ["n", "caught", "named"], stdout)
    if args.grouped:
        grouped = check_eval.grouped_estimate(
            app.checker, checker_examples(app.index), check_eval.load_messages(args.message_set)
        )
        print("\ndevelopment part, an estimate for the held-out one (each site left out):", file=stdout)
        _print_rows(grouped, list(next(iter(grouped.values()))), stdout)
    if args.misses:
        print("\nmisses (development part):", file=stdout)
        for line in check_eval.message_misses(outcomes, "dev"):
            print("  " + line, file=stdout)
    return EXIT_OK


def _print_rows(table: dict, columns: list[str], stdout: TextIO) -> None:
    width = max(12, *(len(c) + 2 for c in columns))
    names = max(8, *(len(name) + 2 for name in table))
    print(f"{'':<{names}}" + "".join(f"{c:>{width}}" for c in columns), file=stdout)
    for name, row in table.items():
        print(f"{name:<{names}}" + "".join(f"{row[c]:>{width}}" for c in columns), file=stdout)
