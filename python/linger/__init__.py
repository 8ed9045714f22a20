"""linger: a leak and lifetime profiler for CPython.

The profiler itself is the `linger` command and its preloaded shim
(`linger run -- python3 ...`).  This package holds what runs inside the
profiled program: the pytest plugin, `pytest -p linger.pytest`, which
labels a snapshot after each test so that `linger report` can say which
test created each finding.
"""

__all__ = ["shim_loaded"]


def shim_loaded():
    """True if this process runs under linger's shim (the built-in
    `_linger` module exists)."""
    try:
        import _linger  # noqa: F401  (registered by the shim at start-up)
    except ImportError:
        return False
    return True
