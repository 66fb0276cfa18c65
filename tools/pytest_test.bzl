"""`pytest_test`: a native py_test whose main runs pytest on its test modules."""

def pytest_test(name, srcs, data = [], **kwargs):
    """A py_test running pytest on `srcs` (test modules), with pytest.ini in its runfiles."""
    native.py_test(
        name = name,
        srcs = srcs + ["tools/pytest_main.py"],
        main = "tools/pytest_main.py",
        args = ["$(rootpath %s)" % src for src in srcs],
        data = data + ["pytest.ini"],
        **kwargs
    )
