"""The chat memory keeps a thread: the question that stood alone and the follow-ups after it."""

from bot.core.memory import ChatMemory, is_follow_up


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_follow_up_joins_the_thread_and_a_new_question_starts_another():
    memory = ChatMemory()
    memory.remember("c", "身份证丢了怎么办")
    memory.remember("c", "有人用它办了电话卡", follow_up=True)
    assert memory.previous("c") == "身份证丢了怎么办 有人用它办了电话卡"
    memory.remember("c", "快递面单怎么处理")
    assert memory.previous("c") == "快递面单怎么处理"


def test_a_long_thread_keeps_its_first_question_and_the_latest_follow_ups():
    memory = ChatMemory(max_turns=3)
    memory.remember("c", "快递面单怎么处理")
    for follow_up in ("能举报吗", "那怎么办", "我爸妈呢"):
        memory.remember("c", follow_up, follow_up=True)
    assert memory.previous("c") == "快递面单怎么处理 那怎么办 我爸妈呢"


def test_with_one_turn_only_the_latest_question_is_kept():
    memory = ChatMemory(max_turns=1)
    memory.remember("c", "快递面单怎么处理")
    memory.remember("c", "能举报吗", follow_up=True)
    assert memory.previous("c") == "能举报吗"


def test_chats_are_apart_and_a_thread_is_forgotten_after_its_time():
    clock = Clock()
    memory = ChatMemory(ttl_s=60, clock=clock)
    memory.remember("a", "快递面单怎么处理")
    memory.remember("b", "老是收到垃圾短信")
    assert memory.previous("a") == "快递面单怎么处理" and memory.previous("b") == "老是收到垃圾短信"
    clock.now = 61
    assert memory.previous("a") is None and len(memory) == 0
    memory.remember("a", "能举报吗", follow_up=True)  # nothing left to follow: it stands alone
    assert memory.previous("a") == "能举报吗"
    assert memory.forget("a") and memory.previous("a") is None


def test_a_pronoun_for_what_was_said_marks_a_follow_up():
    assert is_follow_up("有人用它办了电话卡")
    assert not is_follow_up("有人用我的身份证办了电话卡")
    assert is_follow_up("can I report it to the police?")
    assert not is_follow_up("Can I report a stolen ID card to the police?")
