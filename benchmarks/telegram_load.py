"""Load on the Telegram bot from many simulated chats (a benchmark, not a test).

The unmodified python-telegram-bot Application runs in polling mode against the fake Bot API
server of the tests (tests/support/fake_bot_api.py, real HTTP on 127.0.0.1) and answers from the real
index. N simulated people, each in a private chat of their own (own chat id, own user id), ask
M questions each from a fixed list; a person asks the next question only once the previous
answer has arrived in full (no new message for READ_PAUSE_S seconds), as a reader would.

    .venv/bin/python -m bot index      # once: the index must already be built
    .venv/bin/python benchmarks/telegram_load.py --chats 200 --questions 3
    .venv/bin/python benchmarks/telegram_load.py --chats 50 --rate 5 --timeout 120

Options: --chats (200), --questions per chat (3), --rate questions injected per second over
all chats (0: every chat asks its first question at once), --data-dir (the repo's .data),
--timeout seconds a person waits for a reply before giving up (300).

Prints questions asked, answered and lost (no reply within --timeout); misrouted replies
(a sendMessage to a chat that was not simulated, or more replies than questions in a chat);
latency from injecting a question to the first message of its answer (p50/p95/max); wall
time and throughput; and the highest send rate to one chat (most sendMessage calls within
any 1-second window, and the smallest gap between two sends to the same chat).

How replies are matched: per chat, the questions (injection times) and the bot's successful
sendChatAction and sendMessage calls (the fake server's arrival times) form one timeline. A
sendMessage that directly follows another sendMessage is a further piece of a split answer;
any other sendMessage starts a reply. The first reply after a question, before the next
question, answers it; every other reply start is misrouted. A late reply counts as lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.adapters.telegram.server import configure_logging, make_application  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.support.fake_bot_api import FakeBotAPI, RecordedCall  # noqa: E402

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
CHAT_ID_BASE = 500_000_000
USER_ID_BASE = 800_000_000
# How often the simulated people look for new messages.
POLL_S = 0.02
# Longer than the bot's 1 s pacing between the pieces of one split answer.
READ_PAUSE_S = 1.5
SEND_WINDOW_S = 1.0
STOP_TIMEOUT_S = 30.0
# Step through the questions with a stride coprime to their number, so a chat's questions differ.
QUESTION_STRIDE = 7

QUESTIONS = (
    "收到短信说我的快递丢了，让我点链接申请理赔，是真的吗？",
    "快递面单上有我的名字和电话，扔之前要怎么处理？",
    "My ID card number was leaked online, what should I do now?",
    "96110是什么电话？打过来的是不是骗子？",
    "有人自称客服，让我把手机收到的验证码告诉他，能给吗？",
    "我爸妈总接到推销保健品的电话，老人怎么防骗？",
    "Why does a flashlight app want access to my contacts and location?",
    "I got a text saying my bank card is frozen and I must click a link to unfreeze it",
    "银行卡号和身份证号都泄露了，会有什么后果？",
    "朋友在微信上找我借钱，怎么确认是不是他本人？",
    "Is it safe to tell a delivery courier the verification code I just received?",
    "手机App老是要定位和通讯录权限，应该关掉吗？",
    "有人打电话说我涉嫌洗钱，要我把钱转到安全账户",
    "How do I report a scam phone call in China?",
    "刷脸认证用的照片被别人拿去用了怎么办？",
    "收到积分兑换现金的短信，里面的链接能点吗？",
    "What should elderly people watch out for at free health talks?",
    "网购后有人打电话说要给我退款，让我提供验证码",
    "How can I tell whether an SMS that looks like it is from my bank is fake?",
    "我的个人信息被公司泄露了，可以去哪里投诉？",
)


@dataclass
class SimulatedChat:
    """One person in a private chat with the bot, and when they asked what."""

    chat_id: int
    user_id: int
    questions: list[str]
    asked: list[float] = field(default_factory=list)  # time.monotonic() of each injection


@dataclass
class Report:
    """What one run measured."""

    asked: int
    not_asked: int
    answered: int
    late: int
    misrouted_unknown: int
    misrouted_extra: int
    latencies: list[float]
    wall_s: float
    max_sends_in_window: int
    busiest_chat: int | None
    min_gap_s: float

    @property
    def lost(self) -> int:
        """Questions without a reply within the timeout (late replies included)."""
        return self.asked - self.answered


class Throttle:
    """Spaces question injections 1/rate seconds apart over all chats; rate 0 never waits."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        """Return at the next free injection slot, and book it."""
        if not self._interval:
            return
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class ReplyWatcher:
    """Follows the fake server's recorded calls: the latest successful sendMessage per chat.

    Reads only the calls added since the last look, so many waiting chats stay cheap.
    """

    def __init__(self, api: FakeBotAPI) -> None:
        self._api = api
        self._cursor = 0
        self._in_flight: list[RecordedCall] = []
        self.last_sent: dict[object, float] = {}

    def poll(self) -> None:
        """Take in the sendMessage calls answered since the last poll."""
        new = self._api.calls[self._cursor :]
        self._cursor += len(new)
        still_open = []
        for call in [*self._in_flight, *new]:
            if not is_send(call):
                continue
            if call.status is None:
                still_open.append(call)
            elif call.status == 200:
                previous = self.last_sent.get(call.chat_id, -math.inf)
                self.last_sent[call.chat_id] = max(previous, call.monotonic)
        self._in_flight = still_open

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            self.poll()
            await asyncio.sleep(POLL_S)

    async def wait_reply(self, chat_id: int, after: float, timeout: float) -> bool:
        """Wait for a message to `chat_id` sent after `after`; False when `timeout` passes first."""
        deadline = after + timeout
        while self.last_sent.get(chat_id, -math.inf) <= after:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(POLL_S)
        return True

    async def wait_quiet(self, chat_id: int, quiet_s: float) -> None:
        """Wait until no message has reached `chat_id` for `quiet_s` seconds (the answer is complete)."""
        while (idle := time.monotonic() - self.last_sent.get(chat_id, -math.inf)) < quiet_s:
            await asyncio.sleep(max(quiet_s - idle, POLL_S))


def is_send(call: RecordedCall) -> bool:
    """Whether a call is a sendMessage."""
    return call.method.lower() == "sendmessage"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200, help="simulated private chats")
    parser.add_argument("--questions", type=int, default=3, help="questions asked in each chat")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="questions per second injected overall (0: all at once)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / ".data", help="data directory with a built index"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for each reply")
    args = parser.parse_args(argv)
    if args.chats < 1 or args.questions < 1 or args.rate < 0 or args.timeout <= 0:
        parser.error("--chats and --questions must be at least 1, --rate at least 0, --timeout positive")
    return args


def make_chats(count: int, questions_per_chat: int) -> list[SimulatedChat]:
    """`count` chats with their own chat and user ids, each with a varied run of questions."""
    return [
        SimulatedChat(
            chat_id=CHAT_ID_BASE + number,
            user_id=USER_ID_BASE + number,
            questions=[
                QUESTIONS[(number + turn * QUESTION_STRIDE) % len(QUESTIONS)]
                for turn in range(questions_per_chat)
            ],
        )
        for number in range(count)
    ]


async def simulate_chat(
    api: FakeBotAPI, chat: SimulatedChat, watcher: ReplyWatcher, throttle: Throttle, timeout: float
) -> None:
    """Ask the chat's questions one after another; give up after a question gets no reply."""
    for text in chat.questions:
        await throttle.wait()
        asked_at = time.monotonic()
        chat.asked.append(asked_at)
        api.inject_message(chat.chat_id, text, user_id=chat.user_id, first_name="Load")
        if not await watcher.wait_reply(chat.chat_id, asked_at, timeout):
            return
        await watcher.wait_quiet(chat.chat_id, READ_PAUSE_S)


async def run_load(args: argparse.Namespace, chats: list[SimulatedChat]) -> list[RecordedCall]:
    """Start the fake server and a polling bot, let every chat ask, stop; return the recorded calls."""
    async with FakeBotAPI(token=TOKEN) as api:
        settings = Settings(
            data_dir=args.data_dir,
            telegram_token=TOKEN,
            telegram_api_base_url=api.base_url,
            user_questions_per_minute=1000,
        )
        started = time.perf_counter()
        application = make_application(settings, build_app(settings))
        print(f"answer service built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        watcher = ReplyWatcher(api)
        throttle = Throttle(args.rate)
        async with application:
            await application.post_init(application)
            await application.start()
            await application.updater.start_polling(poll_interval=0, timeout=1)
            watching = asyncio.create_task(watcher.run())
            try:
                print(f"{len(chats)} chats asking ...", file=sys.stderr)
                await asyncio.gather(
                    *(simulate_chat(api, chat, watcher, throttle, args.timeout) for chat in chats)
                )
            finally:
                watching.cancel()
                await application.updater.stop()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(application.stop(), STOP_TIMEOUT_S)
        return list(api.calls)


def timelines(calls: list[RecordedCall]) -> dict[object, list[tuple[float, str]]]:
    """Successful sendChatAction ("typing") and sendMessage ("send") calls per chat, by arrival."""
    events: dict[object, list[tuple[float, str]]] = defaultdict(list)
    for call in calls:
        if call.status != 200:
            continue
        if is_send(call):
            events[call.chat_id].append((call.monotonic, "send"))
        elif call.method.lower() == "sendchataction":
            events[call.chat_id].append((call.monotonic, "typing"))
    return events


def reply_starts(asked: list[float], bot_events: list[tuple[float, str]]) -> list[float]:
    """Times of the first message of each reply: a sendMessage not directly after another one."""
    starts: list[float] = []
    previous = None
    for moment, kind in sorted([*bot_events, *((t, "ask") for t in asked)]):
        if kind == "send" and previous != "send":
            starts.append(moment)
        previous = kind
    return starts


def match_replies(
    asked: list[float], starts: list[float], timeout: float
) -> tuple[list[tuple[float, float]], int, int]:
    """(asked, replied) times of the questions answered in time, the late replies, the extra starts.

    A question's reply is the first reply start after it and before the next question.
    """
    answered: list[tuple[float, float]] = []
    late = 0
    for asked_at, next_asked in zip(asked, [*asked[1:], math.inf], strict=True):
        inside = [moment for moment in starts if asked_at < moment < next_asked]
        if not inside:
            continue
        if inside[0] - asked_at <= timeout:
            answered.append((asked_at, inside[0]))
        else:
            late += 1
    return answered, late, len(starts) - len(answered) - late


def send_rate(calls: list[RecordedCall]) -> tuple[int, int | None, float]:
    """Most sendMessage calls to one chat within SEND_WINDOW_S, that chat, and the smallest gap."""
    times: dict[object, list[float]] = defaultdict(list)
    for call in calls:
        if is_send(call) and call.status == 200:
            times[call.chat_id].append(call.monotonic)
    most, busiest, min_gap = 0, None, math.inf
    for chat_id, moments in times.items():
        moments.sort()
        first = 0
        for last, moment in enumerate(moments):
            while moment - moments[first] >= SEND_WINDOW_S:
                first += 1
            if last - first + 1 > most:
                most, busiest = last - first + 1, chat_id
            if last:
                min_gap = min(min_gap, moment - moments[last - 1])
    return most, busiest, min_gap


def analyse(chats: list[SimulatedChat], calls: list[RecordedCall], timeout: float) -> Report:
    """Match the recorded calls to the questions and summarise the run."""
    events = timelines(calls)
    simulated = {chat.chat_id for chat in chats}
    unknown = sum(
        1 for call in calls if is_send(call) and call.status == 200 and call.chat_id not in simulated
    )
    answered: list[tuple[float, float]] = []
    late = extra = 0
    for chat in chats:
        starts = reply_starts(chat.asked, events.get(chat.chat_id, []))
        chat_answered, chat_late, chat_extra = match_replies(chat.asked, starts, timeout)
        answered += chat_answered
        late += chat_late
        extra += chat_extra
    all_asked = [moment for chat in chats for moment in chat.asked]
    first_asked = min(all_asked, default=0.0)
    last_reply = max((replied for _, replied in answered), default=first_asked)
    most, busiest, min_gap = send_rate(calls)
    return Report(
        asked=len(all_asked),
        not_asked=sum(len(chat.questions) for chat in chats) - len(all_asked),
        answered=len(answered),
        late=late,
        misrouted_unknown=unknown,
        misrouted_extra=extra,
        latencies=sorted(replied - asked_at for asked_at, replied in answered),
        wall_s=last_reply - first_asked,
        max_sends_in_window=most,
        busiest_chat=busiest,
        min_gap_s=min_gap,
    )


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted `values` (NaN when there are none)."""
    if not values:
        return math.nan
    return values[max(math.ceil(fraction * len(values)) - 1, 0)]


def print_report(report: Report, args: argparse.Namespace) -> None:
    """The results, one measure per line."""
    rate = f"{args.rate:g} questions/s" if args.rate > 0 else "all chats at once"
    print(f"chats {args.chats}, questions per chat {args.questions}, {rate}, timeout {args.timeout:g} s")
    print(f"questions asked:   {report.asked} ({report.not_asked} not asked: their chat gave up)")
    print(f"answered:          {report.answered}")
    print(f"lost:              {report.lost} (no reply within {args.timeout:g} s; {report.late} came later)")
    print(
        f"misrouted replies: {report.misrouted_unknown + report.misrouted_extra} "
        f"({report.misrouted_unknown} to chats that did not ask, "
        f"{report.misrouted_extra} more replies than questions)"
    )
    lat = report.latencies
    print(
        f"latency to first reply message: p50 {percentile(lat, 0.5):.2f} s, "
        f"p95 {percentile(lat, 0.95):.2f} s, max {max(lat, default=math.nan):.2f} s"
    )
    throughput = report.answered / report.wall_s if report.wall_s > 0 else math.nan
    print(f"wall time {report.wall_s:.1f} s (first question to last reply), {throughput:.2f} answers/s")
    gap = f"{report.min_gap_s:.2f} s" if math.isfinite(report.min_gap_s) else "n/a (one send per chat)"
    print(
        f"highest per-chat send rate: {report.max_sends_in_window} sendMessage in any "
        f"{SEND_WINDOW_S:g} s window (chat {report.busiest_chat}); "
        f"smallest gap between sends to one chat: {gap}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the load and print the report."""
    args = parse_args(argv)
    if not (args.data_dir / "index").is_dir():
        print(f"no index in {args.data_dir}; build it first with: python -m bot index", file=sys.stderr)
        return 2
    configure_logging(logging.WARNING)
    chats = make_chats(args.chats, args.questions)
    calls = asyncio.run(run_load(args, chats))
    print_report(analyse(chats, calls, args.timeout), args)
    # Every call spends Telegram's budget of about 30 a second for the whole bot (getUpdates aside).
    by_method = Counter(call.method for call in calls if call.method.lower() != "getupdates")
    print("Bot API calls: " + ", ".join(f"{method} {n}" for method, n in by_method.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
