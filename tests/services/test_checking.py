"""The scam checker: each warning sign, negations, legitimate look-alikes, masking, the CLI contract."""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest
import yaml

from bot.adapters.cli import main
from bot.core.masking import mask
from bot.services.check_rules import CheckRulesError, load_check_rules
from bot.settings import REPO_ROOT
from tests.support.knowledge import DATA

CONTRACT = {"risk", "score", "signs", "topic", "match", "advice", "latency_ms"}

SIGN_EXAMPLES = [
    ("impersonation", "【中国移动】您的号码将被停机"),
    ("impersonation", "爸，我换了新号码，存一下"),
    ("link", "详情请看 https://example.org/news"),
    ("suspicious_link", "点击 t.cn/A6xyz 领取"),
    ("suspicious_link", "登录 http://203.0.113.7/login 核实"),
    ("suspicious_link", "请访问 icbc-95588.com 办理"),
    ("suspicious_link", "visit secure-bank.xyz to continue"),
    # Written right against Chinese, as SMS and OCR give it (NFKC turns "，" into ",").
    ("suspicious_link", "您的积分将于今日清零,请登录cmb-jf.top兑换礼品。"),
    ("suspicious_link", "点击http://dwz.cn/2wztgb,查看成绩单"),
    ("lure", "您的积分即将清零，请尽快兑换"),
    ("lure", "Your credit limit can be raised to 50,000"),
    ("credential_request", "请回复短信验证码完成认证"),
    ("credential_request", "Please send me the code you just received"),
    ("credential_request", "不好意思把 验 证 码 发到你手机上了，麻烦告诉我一下"),
    ("safe_account", "请将资金转入安全账户配合调查"),
    ("safe_account", "You must pay a processing fee before the loan is released"),
    ("remote_app", "请下载会议App并开启屏幕共享"),
    ("remote_app", "Install this app so our agent can help you by remote control"),
    ("urgency", "您的账户将于24小时内冻结"),
    ("urgency", "Your account will be suspended within 24 hours"),
    ("loan_credit", "无抵押低息贷款，秒批秒到账"),
    ("loan_credit", "We can remove overdue records from your credit report"),
    ("pretext", "您的包裹因地址不详无法派送，请联系客服处理"),
    ("pretext", "尊敬的车主，您的ETC卡已失效"),
    ("pretext", "Your parcel could not be delivered because the address is incomplete."),
    # Sent "to the website" with no link a warning could quote.
    ("tap_link", "请于3月5日前至网站完善信息"),
    # A full account number to pay into; a real notice shows only the last digits.
    ("safe_account", "钱打到这个卡上，账号是6228481190465076519"),
    ("safe_account", "请交3000元到刘警官卡上"),
    # Amounts in 万, 千 or Chinese numerals.
    ("safe_account", "你先转3万到这个账户，我开会不方便接电话"),
    ("safe_account", "马上打两万给我，回头还你"),
    ("suspicious_link", "Please follow http://bit.do/cgjK to re-activate"),
    # Pretexts quoted in real warnings (tests/data/real_messages_new_sources.jsonl).
    ("pretext", "【交管12123】尊敬的车主您的ETC显示禁用状态,请于X月X日前往恢复使用"),
    ("pretext", "速遞員正在配送,由於您的地址不正確,派送失敗,發貨已暫停。請確認您的地址"),
    ("pretext", "你有一个包裹在邮局被查获,经过查证,里面藏有毒品。"),
    ("pretext", "有人跟我們報案,說用你的電話號碼發送詐騙簡訊,你要不要說明一下?"),
    ("pretext", "Unpaid tolls in September lead to serious fines if overdue"),
    ("pretext", "Sorry we missed you, our driver will redeliver tomorrow. Cover the £1.45 fee here."),
    ("impersonation", "Hi Mum, I've had to get a new phone. Please save this new number"),
]


@pytest.mark.parametrize(("sign", "message"), SIGN_EXAMPLES)
def test_each_warning_sign_is_found_with_its_evidence(app, sign, message):
    result = app.checker.check(message)
    found = {s.id: s for s in result.signs}
    assert sign in found, (message, list(found))
    assert found[sign].evidence and found[sign].label


@pytest.mark.parametrize(
    "message",
    [
        "【京东】验证码：482910，5分钟内有效。请勿将验证码告知他人，客服不会向您索取。",
        "Your verification code is 482910. Do not share this code with anyone.",
        "【建设银行】我行工作人员不会以任何理由向您索要短信验证码、密码。",
    ],
)
def test_safety_notices_are_not_requests(app, message):
    result = app.checker.check(message)
    assert "credential_request" not in {s.id for s in result.signs}
    assert result.risk == "low"


@pytest.mark.parametrize(
    "message",
    [
        "【招商银行】您尾号1234的信用卡11月28日消费人民币328.00元。如非本人交易，请致电您卡片背面的客服电话。",
        "【菜鸟驿站】您的包裹已到东门驿站，取件码 6-3-2108，请凭取件码领取。",
        "【工商银行】验证码 583920，您正在登录手机银行，切勿泄露。",
        "Your parcel is at the locker, pick-up code 2281.",
        "【顺丰速运】您的快件已由快递员签收代收，如有疑问请拨打95338。",
        "Sorry we missed you today. Your parcel is at the local depot, bring photo ID to collect it.",
        "【交管12123】您的机动车于11月2日在XX路有一条交通违法记录，请登录交管12123 App查询处理。",
    ],
)
def test_legitimate_look_alikes_are_not_high(app, message):
    assert app.checker.check(message).risk != "high"


def test_low_never_says_safe(app):
    result = app.checker.check("今晚回家吃饭吗")
    assert result.risk == "low"
    assert "不代表一定安全" in result.advice
    assert "not prove it is safe" in app.checker.check("see you at dinner").advice


def test_a_full_scam_is_high_with_a_matching_scheme_and_next_steps(app):
    result = app.checker.check(
        "【工商银行】您的信用卡可提额至5万，请于今日内登录 icbc-95588.top 填写卡号和验证码"
    )
    assert result.risk == "high"
    assert {"impersonation", "lure", "suspicious_link", "credential_request"} <= {s.id for s in result.signs}
    assert result.match and result.match["source"]["url"].startswith("http")
    assert result.topic in {"fake_sms", "unknown_links", "telecom_fraud"}
    assert "110" in result.advice and "96110" in result.advice


def test_personal_numbers_are_masked_in_everything_echoed(app):
    message = (
        "请把身份证110101199003077777和卡号6222021234567890123告诉我，电话13812345678，立即转账到安全账户"
    )
    data = app.checker.check(message).to_dict()
    dumped = json.dumps(data, ensure_ascii=False)
    for raw in ("110101199003077777", "6222021234567890123", "13812345678"):
        assert raw not in dumped
    assert data["risk"] == "high"


def test_masking_keeps_text_readable():
    masked = mask("身份证110101199003077777 电话 138-1234-5678 a.b@example.com")
    assert "110101199003077777" not in masked and "138-1234-5678" not in masked
    assert masked.startswith("身份证110") and "@example.com" in masked


def test_development_set_targets(app):
    """Scam recall (high or medium) at least 0.95; legitimate messages rated high at most 0.05."""
    items = [json.loads(line) for line in (DATA / "check_messages.jsonl").open(encoding="utf-8")]
    assert len(items) >= 80
    counts = Counter((d["label"], app.checker.check(d["text"]).risk) for d in items)
    scams = sum(v for (label, _), v in counts.items() if label == "scam")
    legit = sum(v for (label, _), v in counts.items() if label == "legit")
    recall = (counts[("scam", "high")] + counts[("scam", "medium")]) / scams
    legit_high = counts[("legit", "high")] / legit
    assert recall >= 0.95, counts
    assert legit_high <= 0.05, counts


def test_check_json_contract(env):
    out = io.StringIO()
    assert (
        main(["check", "--json", "【银行】您的积分今日清零，点击 t.cn/abc 兑换"], environ=env, stdout=out)
        == 0
    )
    data = json.loads(out.getvalue())
    assert set(data) >= CONTRACT
    assert data["risk"] in ("high", "medium", "low") and isinstance(data["score"], int)
    assert all(set(s) == {"id", "label", "evidence"} for s in data["signs"])
    assert data["match"] is None or set(data["match"]) >= {"id", "title", "source"}


def test_check_jsonl_reads_plain_and_json_lines(env):
    lines = "\n".join(
        ["Your code is 123456, do not share it", json.dumps({"text": "请将资金转入安全账户"}), ""]
    )
    out = io.StringIO()
    assert main(["check", "--jsonl"], environ=env, stdin=io.StringIO(lines), stdout=out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 2 and rows[0]["risk"] == "low" and rows[1]["risk"] in ("high", "medium")


def test_check_plain_output_and_empty_message(env, capsys):
    out = io.StringIO()
    assert main(["check", "请下载会议App共享屏幕，配合警方资金核查"], environ=env, stdout=out) == 0
    assert out.getvalue().startswith("risk: HIGH")
    assert main(["check", "  "], environ=env, stdout=io.StringIO()) == 2
    assert "empty" in capsys.readouterr().err


def test_signs_file_with_a_broken_label_is_a_clear_error(tmp_path):
    # What an unquoted comma in a flow mapping ({zh: ..., en: a, b}) turns into.
    data = yaml.safe_load((REPO_ROOT / "knowledge" / "scam_signs.yaml").read_text(encoding="utf-8"))
    data["signs"]["link"]["label"] = {"zh": "含有链接", "en": "Contains", "a link": None}
    (tmp_path / "scam_signs.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CheckRulesError, match="link"):
        load_check_rules(tmp_path, REPO_ROOT / "prompts")


# Written for these tests (not in any training file): chat-style scams and ordinary family chat.
CHAT_SCAMS = [
    "妈，我换新号码了，旧手机摔坏了。你先转5000到这个账户，别跟爸说，晚点我再跟你解释",
    "Hi mum, it's me, lost my phone so this is my new number. Can you send me 300 pounds for rent today?",
    "我是你们班主任，请家长今天下午前把资料费每人380元转到下面这个账户，逾期影响孩子分班。",
    "王总，我是李总，刚开会不方便接电话，加我这个新微信，有笔款需要你先帮我转给合作方。",
    "我是你们王总，现在有个急事，你先转3万到这个账户，我开会不方便接电话",
]
FAMILY_CHAT = [
    "爸，周六我带孩子回来看你们，想吃什么提前说一声",
    "【顺丰速运】您的快件已由驿站代收，凭取件码8-2-1034领取，有疑问请致电95338。",
    "你到公司了吗？钥匙我放门口鞋柜里了",
    "Dad, the train is delayed, I'll be home around nine.",
    "晚上的火锅钱一共三百六，我们四个人平摊，回头我发个群收款",
]


@pytest.mark.parametrize("message", CHAT_SCAMS)
def test_chat_style_scams_are_caught(app, message):
    assert app.checker.check(message).risk in ("medium", "high")


@pytest.mark.parametrize("message", FAMILY_CHAT)
def test_ordinary_family_chat_is_not_flagged(app, message):
    assert app.checker.check(message).risk == "low"


def test_a_caught_message_names_its_scheme_with_why_and_the_entry_with_advice(app):
    result = app.checker.check(
        "【高速ETC】您的ETC认证已失效，请于今日内点击 etc-renzheng.top 重新认证，逾期将无法通行。"
    )
    assert result.risk == "high" and result.scheme == "etc"
    scheme = app.checker.rules.schemes["etc"]
    assert result.scheme_why == scheme.why["zh"] and result.match["id"] == scheme.entry
    data = result.to_dict()
    assert data["scheme"] == {"id": "etc", "name": scheme.name["zh"], "why": scheme.why["zh"]}
    assert 0.99 <= data["probability"] <= 1.0


# Written for these tests: posing as someone known. A relative (kin, a new number, a child
# writing to a parent) is the "Hi Mum" variant; a boss, official or teacher is its parent scheme.
KNOWN_PERSON = [
    (
        "我是你孙子，在外面跟人打架被扣下了，急需两万私了，千万别告诉我爸妈，转到这个卡上",
        "relative_new_number",
    ),
    ("爸，我手机进水了，用同学手机发的，学校要交培训费2600，今天就截止，你先转给我", "relative_new_number"),
    (
        "Hello mum, I've got a new phone, can you send 400 pounds to my friend's account for rent today?",
        "relative_new_number",
    ),
    (
        "我是张局长，明天上午来我办公室一趟，先加我这个新微信，有笔款急需你先帮我转给合作方",
        "leader_acquaintance",
    ),
    (
        "This is your director, I'm in a meeting. Buy five 100-dollar gift cards now and send me the codes.",
        "leader_acquaintance",
    ),
]


@pytest.mark.parametrize(("message", "scheme"), KNOWN_PERSON)
def test_a_relative_is_told_from_a_boss_by_the_variants_marks(app, message, scheme):
    result = app.checker.check(message)
    assert result.risk in ("medium", "high") and result.scheme == scheme


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda raw: raw.pop("marks"), "variant_of and marks"),
        (lambda raw: raw.update(variant_of="no_such_scheme"), "no_such_scheme"),
    ],
)
def test_a_broken_variant_is_a_clear_error(tmp_path, change, problem):
    for name in ("scam_signs.yaml", "scam_schemes.yaml"):
        (tmp_path / name).write_text(
            (REPO_ROOT / "knowledge" / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    data = yaml.safe_load((tmp_path / "scam_schemes.yaml").read_text(encoding="utf-8"))
    change(data["schemes"]["relative_new_number"])
    (tmp_path / "scam_schemes.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CheckRulesError, match=problem):
        load_check_rules(tmp_path, REPO_ROOT / "prompts")


def test_every_scheme_points_to_an_entry_and_has_examples_in_both_languages(app):
    schemes = app.checker.rules.schemes
    assert len(schemes) >= 18
    for scheme in schemes.values():
        assert scheme.entry in app.kb.entries, scheme.id
        assert any(ch >= "\u4e00" for e in scheme.examples for ch in e), scheme.id
        assert any(e.isascii() for e in scheme.examples), scheme.id


def test_a_low_verdict_that_shows_a_sign_never_says_there_are_none(app):
    messages = [
        "【物业】明天上午9点到12点停水，请尽快储水",
        "会议改到明天下午三点，请立即通知组里其他同事",
        "Reminder: your library books are due today, renew in the library app.",
    ]
    low_with_signs = [r for r in map(app.checker.check, messages) if r.risk == "low" and r.signs]
    assert low_with_signs  # the case this test is about does occur
    for result in low_with_signs:
        assert result.advice == app.checker.rules.advice["low_signs"][result.lang]
        assert "没有发现" not in result.advice and "No known warning signs" not in result.advice


def test_a_link_to_the_senders_own_domain_is_not_a_sign_but_a_look_alike_is(app):
    official = app.checker.check("【中国联通】您本月流量已用完80%，详情访问 u.10010.cn 查询。")
    assert "link" not in {s.id for s in official.signs}
    fake = app.checker.check("【中国联通】您的积分即将清零，访问 u.10010.cn.jifen-dh.top 兑换。")
    assert {"link", "suspicious_link"} <= {s.id for s in fake.signs}


# Real dev-part texts (tests/data/real_messages.jsonl) whose words once raised a sign they do not show.
NOT_A_SIGN = [
    ("link", "Going for dinner.msg you after."),
    ("link", "Dear, will call Tmorrow.pls accomodate."),
    ("link", "Your acct SB **7667 has Credit txn via Transfer of amt 84.00 with remark 304000717667:Int.Pd"),
    ("link", "【G.CN】“G-000000”是您的 Google 验证码。"),
    ("link", "This is a test of Emergency Alerts, a UK government service. Find out more at gov.uk/alerts"),
    ("safe_account", "您尾号9354卡人民币活期14:12转入14,242.67元[工资],可用余额64,030.33元。【浦发银行】"),
    ("safe_account", "Your Account XXXXX27311 had a credit DEPOSIT TRANSFER transaction of Rs. 123.00"),
]


@pytest.mark.parametrize(("sign", "message"), NOT_A_SIGN)
def test_words_that_only_look_like_a_sign_are_not_one(app, sign, message):
    assert sign not in {s.id for s in app.checker.check(message).signs}


@pytest.mark.parametrize(
    ("sign", "message"),
    [
        # Warnings mask a scam's address with made-up names: still a link.
        ("link", "您的社会保障卡未上传电子版个人信息,请于X月X日前打开shjk.hfoi.phf点击在线办理"),
        ("link", "您有包裹未取,將於明日退回。確認取件:xxx.tw"),
        ("link", "Your parcel is on hold, confirm your address at royalmail-redeliver.com"),
        ("safe_account", "我们需要通过这个流程将赔偿金额转入指定的账户内"),
        ("safe_account", "Pay a deposit by bank transfer to reserve yours."),
    ],
)
def test_the_narrowed_signs_still_find_what_scams_say(app, sign, message):
    assert sign in {s.id for s in app.checker.check(message).signs}


def test_the_grouped_estimate_rates_each_trained_message_with_its_site_left_out(app):
    from bot.app import checker_examples
    from bot.services import check_eval

    messages = check_eval.load_messages(REPO_ROOT / "tests" / "data" / "real_messages.jsonl")
    examples = checker_examples(app.index)
    grouped = check_eval.grouped_estimate(app.checker, examples, messages)
    trained = {"".join(t.split()) for kind in ("scam_message", "legit_message") for t in examples[kind][0]}
    inside = [m for m in messages if m.split == "dev" and "".join(m.text.split()) in trained]
    assert grouped["sites_left_out"]["scam_n"] == sum(m.label == "scam" for m in inside) > 0
    assert (
        grouped["never_trained"]["scam_n"]
        == sum(m.label == "scam" and m.split == "dev" for m in messages) - grouped["sites_left_out"]["scam_n"]
    )
    # Trained on, the same scams look easier than when their site is left out.
    seen = check_eval.message_metrics(check_eval.run_messages(app.checker, inside), set())
    assert grouped["sites_left_out"]["scam_recall"] < seen["scam_recall"]


def test_english_advice_names_channels_outside_mainland_china_too(app):
    # An English reader is often abroad, where 110 and 96110 do not help.
    result = app.checker.check(
        "USPS: your parcel could not be delivered, the address is incomplete. Pay at usps-redeliver.top"
    )
    assert result.risk == "high" and result.lang == "en"
    assert (
        "mainland China call 110" in result.advice
        and "18222" in result.advice
        and "local police" in result.advice
    )
    zh = app.checker.check("【顺丰】您的包裹因地址不详无法派送，请登录 sf-redeliver.top 补填地址并支付运费")
    assert "110" in zh.advice and "18222" not in zh.advice
