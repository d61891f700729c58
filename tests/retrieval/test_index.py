"""Building the index: incremental, forced rebuilds, a changed model, damaged and missing stores."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import yaml
from langchain_core.embeddings import Embeddings

from bot.adapters.cli import main
from bot.app import build_app, sync_index
from bot.data.knowledge import load_knowledge
from bot.retrieval.index import Index, IndexUnavailable, open_client
from bot.settings import Settings


class HashEmbeddings(Embeddings):
    """A deterministic stand-in model: similar only when the words are the same."""

    def __init__(self, dims: int = 64, salt: str = ""):
        self.dims, self.salt = dims, salt
        self.calls = 0

    def _vector(self, text: str) -> list[float]:
        self.calls += 1
        vec = [0.0] * self.dims
        for word in text.split() or [text]:
            digest = hashlib.sha256((self.salt + word).encode()).digest()
            vec[digest[0] % self.dims] += 1.0
        norm = sum(v * v for v in vec) ** 0.5 or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def test_second_build_embeds_nothing_and_changes_embed_only_the_changed_entry(tmp_path, small_knowledge):
    kb = load_knowledge(small_knowledge)
    embeddings = HashEmbeddings()
    index = Index(open_client(tmp_path / "index"), embeddings, "hash:1")

    first = index.sync(kb)
    assert (first.embedded_entries, first.unchanged_entries) == (3, 0)
    assert first.vectors == sum(1 + len(e.questions) for e in kb.entries.values())

    calls = embeddings.calls
    second = index.sync(load_knowledge(small_knowledge))
    assert second.embedded_entries == 0 and embeddings.calls == calls
    assert index.is_current(kb)

    path = small_knowledge / "entries" / "fake_sms.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries[0]["answer"]["en"] += " Only the answer changed: its vectors stay valid."
    entries[1]["questions"].append("is a text about my credit limit real?")
    removed_id = entries[2]["id"]
    path.write_text(yaml.safe_dump(entries[:2], allow_unicode=True), encoding="utf-8")
    third = index.sync(load_knowledge(small_knowledge))
    assert (third.embedded_entries, third.removed_entries, third.unchanged_entries) == (1, 1, 1)
    stored = {m["entry_id"] for m in index._open(create=False).get(include=["metadatas"])["metadatas"]}
    assert removed_id not in stored and len(stored) == 2


def test_rebuild_embeds_everything_again(tmp_path, small_knowledge):
    kb = load_knowledge(small_knowledge)
    index = Index(open_client(tmp_path / "index"), HashEmbeddings(), "hash:1")
    index.sync(kb)
    report = index.sync(kb, rebuild=True)
    assert report.rebuilt and report.embedded_entries == 3


def test_another_model_rebuilds_instead_of_mixing_vectors(tmp_path, small_knowledge):
    kb = load_knowledge(small_knowledge)
    client = open_client(tmp_path / "index")
    Index(client, HashEmbeddings(), "hash:1").sync(kb)
    other = Index(client, HashEmbeddings(salt="x"), "hash:2")
    assert not other.is_current(kb)
    report = other.sync(kb)
    assert report.rebuilt and report.embedded_entries == 3
    assert other.stored_fingerprint() == "hash:2"
    total = other._open(create=False)._collection.count()
    assert total == sum(1 + len(e.questions) for e in kb.entries.values())


def test_search_points_back_to_entries(tmp_path, small_knowledge):
    kb = load_knowledge(small_knowledge)
    embeddings = HashEmbeddings()
    index = Index(open_client(tmp_path / "index"), embeddings, "hash:1")
    index.sync(kb)
    entry = next(iter(kb.entries.values()))
    hits = index.search(embeddings.embed_query(entry.questions[0]), k=3)
    assert hits[0].entry_id == entry.id and hits[0].similarity == pytest.approx(1.0, abs=1e-4)


def test_entry_vectors_are_every_entrys_passage_and_questions_and_no_example(tmp_path, small_knowledge):
    kb = load_knowledge(small_knowledge)
    embeddings = HashEmbeddings()
    index = Index(open_client(tmp_path / "index"), embeddings, "hash:1")
    index.sync(kb)
    ids, vectors = index.entry_vectors()
    assert sorted(set(ids)) == sorted(kb.entries)
    for entry in kb.entries.values():
        assert ids.count(entry.id) == 1 + len(entry.questions)
    assert vectors.shape == (len(ids), embeddings.dims)


def test_damaged_index_gives_a_clear_error_naming_the_directory_and_the_fix(tmp_path, small_knowledge):
    settings = Settings(knowledge_dir=small_knowledge, data_dir=tmp_path)
    index = Index(open_client(settings.index_dir), HashEmbeddings(), "hash:1")
    sync_index(index, load_knowledge(small_knowledge))
    (settings.index_dir / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexUnavailable) as caught:
        build_app(settings, embeddings=HashEmbeddings())
    assert "index --rebuild" in str(caught.value)


def test_cli_reports_a_damaged_index_and_rebuild_repairs_it(
    tmp_path, small_knowledge, bundled_embeddings, capsys
):
    env = {"BOT_KNOWLEDGE_DIR": str(small_knowledge), "BOT_DATA_DIR": str(tmp_path)}
    assert main(["index"], environ=env, stdout=io.StringIO()) == 0
    (tmp_path / "index" / "chroma.sqlite3").write_bytes(b"garbage" * 500)

    code = main(["ask", "--json", "提额短信是真的吗"], environ=env, stdout=io.StringIO())
    err = capsys.readouterr().err
    assert code == 1 and str(tmp_path / "index") in err and "index --rebuild" in err
    assert "Traceback" not in err

    out = io.StringIO()
    assert main(["index", "--rebuild"], environ=env, stdout=out) == 0
    assert "3 entries embedded" in out.getvalue()
    out = io.StringIO()
    assert main(["ask", "--json", "提额短信是真的吗"], environ=env, stdout=out) == 0
    assert json.loads(out.getvalue())["topic"] == "fake_sms"


def test_missing_index_is_built_on_first_use_with_progress(tmp_path, small_knowledge, capsys):
    env = {"BOT_KNOWLEDGE_DIR": str(small_knowledge), "BOT_DATA_DIR": str(tmp_path / "fresh")}
    out = io.StringIO()
    assert main(["ask", "--json", "银行短信说能提额 真的假的"], environ=env, stdout=out) == 0
    assert "indexing [" in capsys.readouterr().err
    assert json.loads(out.getvalue())["in_scope"] is True
