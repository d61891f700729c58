"""The layers the tree shows, enforced: imports point down, modules stay small, data files are all checked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.data.knowledge import load_knowledge
from bot.data.manifest import DATA_FILES, DOCUMENTATION
from bot.retrieval.backends.base import BackendOptions
from bot.retrieval.backends.registry import BACKENDS
from bot.settings import REPO_ROOT, Settings

PACKAGE = REPO_ROOT / "bot"
# Lowest first: a module may import its own layer and the ones before it.
LAYERS = ("core", "data", "retrieval", "services", "adapters")
# The top level (bot.app, the composition root, and bot.settings) sits above the services: only
# the adapters and the top level may import it. bot.settings may read the backend registry's names.
TOP_LEVEL_IMPORTERS = {"adapters", "top"}
SETTINGS_MAY_IMPORT = {"bot.retrieval.backends.registry"}
MAX_TOP_LEVEL_MODULES = 8
MAX_MODULE_LINES = 400


def layer_of(module: str) -> str:
    """'core', 'data', ... for bot.<layer>.*; 'top' for the modules directly in bot/."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else "top"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every `bot.*` import in a file, including those inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "bot"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found += [(node.lineno, node.module)] if (node.module or "").split(".")[0] == "bot" else []
    return found


def module_name(root: Path, path: Path) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_violations(root: Path) -> list[str]:
    """Every import in the package under `root` that points up a layer, as 'file:line: a -> b'."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        source = module_name(root, path)
        here = layer_of(source)
        for line, target in imported_modules(path):
            there = layer_of(target)
            if there == "top":
                allowed = here in TOP_LEVEL_IMPORTERS
            elif here == "top":
                allowed = source != "bot.settings" or target in SETTINGS_MAY_IMPORT
            else:
                allowed = LAYERS.index(there) <= LAYERS.index(here)
            if not allowed:
                problems.append(f"{path.relative_to(root.parent)}:{line}: {source} -> {target}")
    return problems


def test_imports_only_point_down_the_layers():
    assert layer_violations(PACKAGE) == []


@pytest.mark.parametrize(
    ("module", "imports"),
    [
        ("core/text.py", "from bot.services.answering import Answer"),
        ("services/answering.py", "from bot.adapters.render import plain_answer"),
        ("retrieval/index.py", "import bot.app"),
        ("services/safety.py", "from bot.settings import Settings"),
        ("data/files.py", "def f():\n    from bot.retrieval.index import Index\n"),
    ],
)
def test_the_layer_check_catches_an_upward_import(tmp_path, module, imports):
    root = tmp_path / "bot"
    path = root / module
    path.parent.mkdir(parents=True)
    path.write_text(imports + "\n", encoding="utf-8")
    [problem] = layer_violations(root)
    assert module in problem


def test_the_package_shows_its_layers_and_keeps_modules_small():
    top = [p.name for p in PACKAGE.glob("*.py")]
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"} >= set(LAYERS)
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_every_data_file_is_in_the_manifest_and_has_a_check():
    from bot.adapters.validate import checks

    listed = set()
    for item in DATA_FILES:
        matches = list((REPO_ROOT / item.folder).glob(item.pattern))
        assert matches, f"{item.folder}/{item.pattern} is in the manifest but not on disk"
        listed |= {m.relative_to(REPO_ROOT) for m in matches}
    on_disk = {
        p.relative_to(REPO_ROOT)
        for folder in ("knowledge", "prompts")
        for p in (REPO_ROOT / folder).rglob("*")
        if p.is_file() and p.name not in DOCUMENTATION
    }
    assert on_disk - listed == set(), "data files that `validate` does not load"
    settings = Settings()
    kb = load_knowledge(settings.knowledge_dir)
    assert {item.check for item in DATA_FILES} == set(checks(settings, kb))


def test_every_backend_declares_what_the_bot_relies_on():
    for name, backend in BACKENDS.items():
        assert backend.name == name
        calibration = backend.calibration
        assert 0 < calibration.scope_min_dense < 1 and 0 < calibration.scope_min_lexical <= 1
        assert backend.install_hint
        # The fingerprint is computed without loading a model, and names the backend.
        assert backend.fingerprint(BackendOptions(model="some/model-e5")).startswith(name)


def test_every_telegram_template_the_handlers_render_is_declared():
    """A template used in a handler but not declared would fail in front of a user, not at start-up."""
    import re

    from bot.adapters.telegram.texts import TELEGRAM_VARIABLES

    used = set()
    for path in (PACKAGE / "adapters" / "telegram").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"(?:svc|services)\.texts\.render\(\s*['\"]([a-z_]+)['\"]", text)) - {"risk_"}
    used |= {f"risk_{risk}" for risk in ("high", "medium", "low")}  # rendered as "risk_" + result.risk
    assert len(used) > 10 and used - set(TELEGRAM_VARIABLES) == set()
