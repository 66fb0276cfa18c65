"""BUILD stays true to the tree: every Python file in one target, every test module run by pytest,
and every import of keras_bert covered by its target's deps. (`bazel build //...` checks the rest.)"""

import ast
import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKED_DIRS = ("keras_bert", "examples", "tests", "benchmarks")
# The interpreter's toolchain: rules with no Python sources.
TOOLCHAIN_RULES = ("py_runtime", "py_runtime_pair", "toolchain")


def _build_file():
    """`({name: (rule, srcs, deps)}, {suite name: tests})`, by evaluating BUILD with recording rules.

    BUILD's Starlark here (calls, lists, `+`, constants, `glob`) is valid Python.
    """
    targets, suites = {}, {}

    def rule(kind):
        def record(name, srcs=(), deps=(), **unused):
            assert name not in targets, f"duplicate target {name}"
            targets[name] = (kind, list(srcs), list(deps))

        return record

    def py_test(name, **unused):
        raise AssertionError(f"{name}: a py_test would run its module as a script, which runs no test; use pytest_test")

    def test_suite(name, tests):
        suites[name] = list(tests)

    namespace = {kind: rule(kind) for kind in ("py_library", "py_binary", "pytest_test")}
    namespace.update({kind: lambda **unused: None for kind in TOOLCHAIN_RULES + ("package",)})
    namespace.update(load=lambda *unused: None, py_test=py_test, test_suite=test_suite)
    namespace["glob"] = lambda patterns, **unused: [
        str(path.relative_to(REPO_ROOT)) for pattern in patterns for path in sorted(REPO_ROOT.glob(pattern))
    ]
    exec(compile((REPO_ROOT / "BUILD").read_text(), "BUILD", "exec"), namespace)
    return targets, suites


def test_every_python_file_is_in_one_target():
    listed = [src for _, srcs, _ in _build_file()[0].values() for src in srcs]
    files = {
        str(path.relative_to(REPO_ROOT))
        for folder in CHECKED_DIRS
        for path in (REPO_ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sorted(files - set(listed)) == [], "add these files to a target in BUILD"
    assert sorted(set(listed) - files) == [], "BUILD lists files that do not exist"
    assert sorted({src for src in listed if listed.count(src) > 1}) == [], "these files are in several targets"


def test_every_test_module_is_run_by_its_own_pytest_target_and_deps_exist():
    targets, suites = _build_file()
    for name, (rule, srcs, deps) in targets.items():
        if rule in ("pytest_test", "py_binary"):
            assert len(srcs) == 1, f"{name} should hold one file"
        for dep in deps:
            assert dep.startswith(":") and dep[1:] in targets, f"{name} depends on unknown target {dep}"
    tests = {srcs[0] for rule, srcs, _ in targets.values() if rule == "pytest_test"}
    assert tests == {str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "tests").rglob("*_test.py")}
    for suite, members in suites.items():
        for member in members:
            assert targets.get(member.lstrip(":"), ("",))[0] == "pytest_test", f"{suite}: {member} is no test"


def _keras_bert_imports(path):
    """The keras_bert modules (as file paths, package or module) that the file at `path` imports."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return {
        candidate
        for name in names
        if name.split(".")[0] == "keras_bert"
        for candidate in (name.replace(".", "/") + ".py", name.replace(".", "/") + "/__init__.py")
        if (REPO_ROOT / candidate).is_file()
    }


def test_each_target_imports_only_what_its_deps_bring():
    """Bazel runs a test on the files its target's deps bring (tools/pytest_main.py drops the
    editable install's hook); this finds a missing dep without running anything. The package's
    library graph (layers <- models <- training, export ...) is held to its imports the same way."""
    targets, _ = _build_file()
    owner = {src: name for name, (_, srcs, _) in targets.items() for src in srcs}

    def reachable(name):
        found, pending = set(), [name]
        while pending:
            current = pending.pop()
            if current not in found:
                found.add(current)
                pending += [dep[1:] for dep in targets[current][2]]
        return found

    for name, (_, srcs, _) in targets.items():
        brought = reachable(name)
        for src in srcs:
            missing = {owner[module] for module in _keras_bert_imports(REPO_ROOT / src)} - brought
            assert not missing, f"{src} imports from targets {sorted(missing)}, which are not deps of :{name}"
