"""The documentation stays true to the package: every public name in the API reference, a short README,
and relative links that resolve. (`mkdocs build --strict` in .ci/run checks the rendered site.)"""

import importlib
import re

import pytest

from conftest import REPO_ROOT

SUBPACKAGES = ("checkpoints", "data", "export", "layers", "losses", "metrics", "models", "presets", "text", "training")
# Inline links and images, `[text](target)`, outside code; the target up to a space, `)` or `#`.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s#]*)(?:#[^)\s]*)?(?:\s+\"[^\"]*\")?\)")


def _public_names(module):
    """`__all__`, or the names without a leading underscore that the module's `__init__` binds."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name in vars(module) if not name.startswith("_")]


def _api_text():
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted((REPO_ROOT / "docs/api").glob("*.md")))


def _relative_links(path):
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)  # Code blocks hold no links.
    text = re.sub(r"`[^`\n]*`", "", text)
    return [target for target in _LINK.findall(text) if target and not re.match(r"[a-z][a-z0-9+.-]*:", target)]


@pytest.mark.parametrize("package", ["keras_bert"] + [f"keras_bert.{name}" for name in SUBPACKAGES])
def test_every_public_name_is_in_the_api_reference(package):
    module = importlib.import_module(package)
    text = _api_text()
    page = REPO_ROOT / "docs/api" / f"{package.rsplit('.', 1)[-1]}.md"
    assert page.exists(), f"no API page {page.relative_to(REPO_ROOT)} for {package}"
    missing = [name for name in _public_names(module) if not re.search(rf"\b{package}\.{name}\b", text)]
    assert not missing, f"{package}: add `::: {package}.NAME` (or a link) to docs/api for {missing}"


def test_every_api_page_is_in_the_navigation():
    nav = (REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in (REPO_ROOT / "docs/api").glob("*.md"):
        assert f"api/{page.name}" in nav, page.name


def test_the_readme_is_short():
    lines = (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move the detail into docs/ or reports/"


def test_the_readme_keeps_its_two_commands():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert ('python3 -m venv .venv && .venv/bin/pip install -e ".[demo]" && '
            ".venv/bin/python examples/run_classifier.py") in text
    assert "\n.ci/run\n" in text


# docs/reports links to reports/, whose pages `mkdocs build --strict` checks.
@pytest.mark.parametrize("path", ["README.md"] + sorted(
    str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "docs").rglob("*.md")
    if p.relative_to(REPO_ROOT).parts[1] != "reports"))
def test_relative_links_point_to_existing_files(path):
    source = REPO_ROOT / path
    broken = [target for target in _relative_links(source) if not (source.parent / target).exists()]
    assert not broken, f"{path} links to missing files: {broken}"


def test_the_link_checker_sees_links():
    assert "docs/guides/getting-started.md" in _relative_links(REPO_ROOT / "README.md")
