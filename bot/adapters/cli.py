"""The command-line adapter: `python -m bot validate|index|ask|chat|eval|doctor|quiz|demo|stats`.

It only translates between the terminal and the services; `bot.app` builds them.
Every command is one `cmd_*` function; the parser below is their table of contents.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.adapters.eval_report import DEV_SET, MESSAGE_SET, REAL_SET
from bot.adapters.render import plain_answer, plain_check, plain_image_check
from bot.adapters.terminal.demo import DemoScriptError
from bot.app import build_app, build_quiz, index_knowledge, open_store, open_usage_stats
from bot.core.commands import bot_command
from bot.core.knowledge import KnowledgeError
from bot.data.templates import PromptError
from bot.retrieval.index import IndexUnavailable, print_progress
from bot.services.answering import EmptyQuestion
from bot.services.check_rules import CheckRulesError
from bot.services.images import ImageError, decode_image
from bot.services.llm import ModelUnavailable
from bot.services.quiz import QuizError
from bot.services.safety import SafetyRulesError
from bot.services.stats import StatsUnavailable
from bot.settings import Settings, SettingsError, TelegramUnavailable, read_environment

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
DEFAULT_QUESTIONS = 5


def main(
    argv: Sequence[str] | None = None, environ=None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """Run one command; return the process exit code."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    args = _parser().parse_args(argv)
    args.environ = environ  # for `doctor`, which also reads variables of features it does not import
    try:
        settings = Settings.from_env(environ)
        return args.run(args, settings, stdin, stdout)
    except (
        SettingsError,
        ModelUnavailable,
        PromptError,
        SafetyRulesError,
        CheckRulesError,
        QuizError,
        DemoScriptError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KnowledgeError as exc:
        print(f"the knowledge base is invalid ({len(exc.problems)} problem(s)):\n{exc}", file=sys.stderr)
        return EXIT_FAIL
    except (IndexUnavailable, StatsUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except TelegramUnavailable as exc:
        # The token was rejected or Telegram is out of reach (bot/adapters/telegram/connect.py):
        # one sentence, never PTB's message, which may carry the token.
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `python -m bot ... | head`: the reader left, nothing to report
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=bot_command(""), description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check the knowledge base and print a summary")
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("index", help="build or update the search index")
    p.add_argument("--rebuild", action="store_true", help="embed every entry again from scratch")
    p.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="S",
        help="with CHROMA_HOST: wait up to S seconds for the server",
    )
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("ask", help="answer a question")
    p.add_argument("question", nargs="?", help="the question (omit with --jsonl)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--jsonl", action="store_true", help="read questions from standard input, one per line")
    p.add_argument("--lang", choices=("zh", "en"), help="answer in this language")
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("check", help="is this message a scam? warning signs, risk and what to do")
    p.add_argument("text", nargs="?", help="the message (omit with --jsonl or --image)")
    p.add_argument("--image", metavar="PATH", help="a screenshot or photo: read its text and QR codes")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--jsonl", action="store_true", help="read messages from standard input, one per line")
    p.add_argument("--lang", choices=("zh", "en"), help="explain in this language")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("chat", help="interactive terminal chat for demos")
    p.set_defaults(run=cmd_chat)

    p = sub.add_parser("telegram", help="run the Telegram bot (TELEGRAM_BOT_TOKEN, BOT_MODE=polling|webhook)")
    p.set_defaults(run=cmd_telegram)

    p = sub.add_parser("doctor", help="check the configuration, each problem with its fix (exit 1 if any)")
    p.set_defaults(run=cmd_doctor)
    # Community-worker demo kit.
    p = sub.add_parser("quiz", help="the scam-spotting quiz in the terminal")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS, help="how many questions")
    p.add_argument("--seed", type=int, help="the same questions in the same order every time")
    p.set_defaults(run=cmd_quiz)

    p = sub.add_parser("demo", help="the guided demo for a projector (Enter between steps)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the narration")
    p.add_argument("--no-pause", action="store_true", help="run straight through")
    p.add_argument("--script", type=Path, help="another demo script (default prompts/demo.yaml)")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("stats", help="usage counts (no message text, no user ids)")
    p.add_argument("--days", type=int, help="only the last N days with activity")
    p.add_argument("--chart", type=Path, metavar="FILE", help="also draw the chart as a PNG")
    p.set_defaults(run=cmd_stats)

    p = sub.add_parser("eval", help="measure retrieval and scope on the development set")
    p.add_argument("--dev-set", type=Path, default=DEV_SET)
    p.add_argument("--real-set", type=Path, default=REAL_SET, help="real questions, split dev/holdout")
    p.add_argument(
        "--safety-set",
        type=Path,
        action="append",
        help="a harmful-request set (default: three)",
    )
    p.add_argument("--message-set", type=Path, default=MESSAGE_SET, help="real messages, split dev/holdout")
    p.add_argument("--messages-only", action="store_true", help="only the scam checker on real messages")
    p.add_argument(
        "--grouped",
        action="store_true",
        help="with --messages-only: also the development part's estimate with each trained site left out",
    )
    p.add_argument("--calibrate", action="store_true", help="also search scope thresholds")
    p.add_argument("--fusion", action="store_true", help="compare fusion against each retriever alone")
    p.add_argument("--misses", action="store_true", help="list every question answered wrongly")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(run=cmd_eval)
    return parser


def cmd_validate(args, settings: Settings, stdin, stdout) -> int:
    """Validate every data file (bot/data/manifest.py); print entries per topic and per kind."""
    from bot.adapters.validate import validate

    return validate(settings, stdout, sys.stderr)


def cmd_index(args, settings: Settings, stdin, stdout) -> int:
    """Build the index incrementally, or from scratch with --rebuild."""
    if args.wait and settings.chroma_host:
        _wait_for_chroma(settings, args.wait, stdout)
    report = index_knowledge(settings, rebuild=args.rebuild, progress=print_progress)
    print(
        f"index {'rebuilt' if report.rebuilt or args.rebuild else 'updated'} in {report.seconds:.1f}s: "
        f"{report.embedded_entries} entries embedded, {report.unchanged_entries} unchanged, "
        f"{report.removed_entries} removed"
        + (f"; {report.vectors} vectors" if report.vectors >= 0 else "")
        + f" in {settings.index_location}",
        file=stdout,
    )
    return EXIT_OK


def _wait_for_chroma(settings: Settings, seconds: float, stdout: TextIO) -> None:
    """Until the Chroma server answers (a container started with it may still be starting);
    after `seconds`, its last error (`IndexUnavailable`)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            open_store(settings)
            return
        except IndexUnavailable:
            if time.monotonic() >= deadline:
                raise
            print(f"waiting for the Chroma server at {settings.index_location} ...", file=stdout, flush=True)
            time.sleep(2)


def cmd_ask(args, settings: Settings, stdin, stdout) -> int:
    """Answer one question, or one per line of standard input with --jsonl."""
    if not args.jsonl and (args.question is None or not args.question.strip()):
        print(f'error: the question is empty. Usage: {bot_command("ask")} "your question"', file=sys.stderr)
        return EXIT_USAGE
    app = build_app(settings, progress=print_progress)
    service = app.answerer
    if args.jsonl:
        for line in stdin:
            question = _question_of(line)
            if question is None:
                continue
            try:
                out = service.ask(question, lang=args.lang).to_dict()
            except EmptyQuestion:
                out = {"question": "", "error": "empty question"}
            print(json.dumps(out, ensure_ascii=False), file=stdout, flush=True)
        return EXIT_OK
    try:
        answer = service.ask(args.question, lang=args.lang)
    except EmptyQuestion:
        print("error: the question is empty once cleaned. " + service.empty_reply("en"), file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False), file=stdout)
    else:
        print(plain_answer(answer, service.replies), file=stdout)
    return EXIT_OK


def cmd_check(args, settings: Settings, stdin, stdout) -> int:
    """Check one message, one per line of standard input with --jsonl, or a picture with --image."""
    if args.image is not None:
        return check_image(args, settings, stdout)
    if not args.jsonl and (args.text is None or not args.text.strip()):
        print(f'error: the message is empty. Usage: {bot_command("check")} "message text"', file=sys.stderr)
        return EXIT_USAGE
    checker = build_app(settings, progress=print_progress).checker
    if args.jsonl:
        for line in stdin:
            text = _question_of(line, key="text")
            if text is None:
                continue
            try:
                out = checker.check(text, lang=args.lang).to_dict()
            except ValueError:
                out = {"error": "empty message"}
            print(json.dumps(out, ensure_ascii=False), file=stdout, flush=True)
        return EXIT_OK
    try:
        result = checker.check(args.text, lang=args.lang)
    except ValueError:
        print("error: the message is empty once cleaned", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False), file=stdout)
        return EXIT_OK
    print(f"risk: {result.risk.upper()} (score {result.score})", file=stdout)
    print(plain_check(result), file=stdout)
    return EXIT_OK


def _question_of(line: str, key: str = "q") -> str | None:
    line = line.strip()
    if not line:
        return None
    if line.startswith("{"):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            return line
        if isinstance(data, dict):
            return str(data.get(key) or "")
    return line


def check_image(args, settings: Settings, stdout) -> int:
    """`check --image PATH`: exit 2 with one line for a file that is not a picture we can read."""
    if args.text or args.jsonl:
        print("error: --image checks a picture; give no message text or --jsonl with it", file=sys.stderr)
        return EXIT_USAGE
    path = Path(args.image)
    try:
        if path.stat().st_size > settings.image_max_bytes:
            raise ImageError("too_large", f"the picture is larger than {settings.image_max_mb:g} MB")
        data = path.read_bytes()
        decode_image(data, settings.image_max_bytes)  # before any model loads
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except ImageError as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    images = build_app(settings, progress=print_progress).image_checker
    try:
        result = images.check(data, lang=args.lang)
    except ImageError as exc:  # OCR missing on this machine
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False), file=stdout)
        return EXIT_OK
    if result.risk:
        print(f"risk: {result.risk.upper()}", file=stdout)
    print(plain_image_check(result, images.text), file=stdout)
    return EXIT_OK


def cmd_chat(args, settings: Settings, stdin, stdout) -> int:
    """The interactive terminal chat."""
    from bot.adapters.terminal.chat import run_chat

    app = build_app(settings, progress=print_progress)
    return run_chat(app.answerer, stdin, stdout, context_ttl_s=settings.context_ttl_s, stats=app.stats)


def cmd_quiz(args, settings: Settings, stdin, stdout) -> int:
    """Play the quiz in the terminal: numbered choices, an explanation and the source, a score."""
    import random

    from bot.adapters.terminal.quiz import run_quiz
    from bot.services.quiz import QuizGame

    if args.questions < 1:
        print("error: --questions must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    bank = build_quiz(settings)
    game = QuizGame(bank.pick(args.questions, random.Random(args.seed)), args.lang)
    return run_quiz(bank, game, stdin, stdout, stats=open_usage_stats(settings))


def cmd_demo(args, settings: Settings, stdin, stdout) -> int:
    """The scripted walkthrough; pauses for Enter only when standard input is a terminal."""
    from bot.adapters.terminal.demo import load_demo, run_demo

    script = load_demo(args.script or settings.prompts_dir / "demo.yaml")
    app = build_app(settings, progress=print_progress)
    pause = not args.no_pause and stdin.isatty()
    return run_demo(
        script,
        app.answers,
        app.checker,
        stdin,
        stdout,
        lang=args.lang,
        pause=pause,
        stats=app.stats,
        images=app.image_checker,
    )


def cmd_stats(args, settings: Settings, stdin, stdout) -> int:
    """Print the usage table; with --chart FILE, also draw the chart."""
    from bot.adapters.charts import HEIGHT_PX, WIDTH_PX, write_chart
    from bot.services.stats import format_table

    if args.days is not None and args.days < 1:
        print("error: --days must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    summary = open_usage_stats(settings).summary(args.days)
    print(format_table(summary), file=stdout)
    if args.chart:
        from bot.data.knowledge import load_topics

        topics = load_topics(settings.knowledge_dir / "TOPICS.md")
        try:
            write_chart(summary, args.chart, {t.id: t.en for t in topics.values()})
        except OSError as exc:
            print(f"error: the chart could not be written to {args.chart} ({exc.strerror})", file=sys.stderr)
            return EXIT_FAIL
        print(f"\nchart ({WIDTH_PX}x{HEIGHT_PX} PNG) written to {args.chart}", file=stdout)
    return EXIT_OK


def cmd_telegram(args, settings: Settings, stdin, stdout) -> int:
    """Run the Telegram bot until SIGINT or SIGTERM."""
    from bot.settings import check_telegram

    check_telegram(settings)  # before any loading: a bad token is exit code 2 at once
    from bot.adapters.telegram.server import run

    return run(settings)


def cmd_doctor(args, settings: Settings, stdin, stdout) -> int:
    """Check token, data directory, knowledge, Chroma server, index, model and LLM endpoint."""
    from bot.adapters.doctor import diagnose, print_findings

    return print_findings(diagnose(settings, read_environment(args.environ)), stdout)


def cmd_eval(args, settings: Settings, stdin, stdout) -> int:
    """Print hit@1, hit@3, MRR and refusal rates, per language; and the checker on real messages."""
    from bot.adapters.eval_report import report

    return report(args, build_app(settings, progress=print_progress), stdout)
