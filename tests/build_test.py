"""Every Python file belongs to a Bazel target in BUILD, so BUILD cannot rot."""

import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKED_DIRS = ("keras_bert", "examples", "tests", "benchmarks")


def _targets():
    """`{name: (rule, srcs, deps)}`, by evaluating BUILD with recording rules.

    BUILD's Starlark here (calls, lists, `+`, constants, `glob`) is valid Python.
    """
    targets = {}

    def rule(kind):
        def record(name, srcs=(), deps=(), **unused):
            assert name not in targets, f"duplicate target {name}"
            targets[name] = (kind, list(srcs), list(deps))

        return record

    namespace = {kind: rule(kind) for kind in ("py_library", "py_binary", "py_test")}
    namespace["package"] = lambda **unused: None
    namespace["glob"] = lambda patterns, **unused: [
        str(path.relative_to(REPO_ROOT)) for pattern in patterns for path in sorted(REPO_ROOT.glob(pattern))
    ]
    exec(compile((REPO_ROOT / "BUILD").read_text(), "BUILD", "exec"), namespace)
    return targets


def test_every_python_file_is_in_a_target():
    listed = {src for _, srcs, _ in _targets().values() for src in srcs}
    files = {
        str(path.relative_to(REPO_ROOT))
        for folder in CHECKED_DIRS
        for path in (REPO_ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sorted(files - listed) == [], "add these files to a target in BUILD"
    assert sorted(listed - files) == [], "BUILD lists files that do not exist"


def test_every_test_and_script_has_its_own_target_and_deps_exist():
    targets = _targets()
    for name, (rule, srcs, deps) in targets.items():
        if rule in ("py_test", "py_binary"):
            assert len(srcs) == 1, f"{name} should hold one file"
        for dep in deps:
            if dep.startswith(":"):
                assert dep[1:] in targets, f"{name} depends on unknown target {dep}"
    tests = {srcs[0] for rule, srcs, _ in targets.values() if rule == "py_test"}
    assert tests == {str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "tests").rglob("*_test.py")}
