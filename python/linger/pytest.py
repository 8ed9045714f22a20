"""linger's pytest plugin: which test created each finding.

Use it under linger's shim:

    linger run -- python3 -m pytest -p linger.pytest tests/
    linger report            # findings say "created by tests/test_x.py::test_y"

After each test (its teardown included) the plugin asks the shim for a
snapshot of the object graph labelled with the test's node id; the
analyzer then gives each finding of the exit snapshot the test after which
its object first existed.  A snapshot labelled "<collection>" is taken
before the first test, for what importing the test modules created.

The marker `@pytest.mark.linger(fail_on=["finalizer-keepalive"])` fails
that test when, after its teardown, a finding of one of those kinds (or
severities: "error", "warning", "info"; or "any") was created by it; a
bare `@pytest.mark.linger` means fail_on=["error"].  The test's report
carries the finding.

The snapshot after an unmarked test lists the objects only (which is all
attribution needs: `_linger.snapshot_objects`), the one after a marked
test is a whole one, whose findings the marker asks about.  Each still
pauses the run (about 50 ms for a pytest process of 70,000 objects, a
whole one about 200 ms) and adds to the trace (about 2 MB, a whole one
8 MB).  With `--linger-snapshots=marked` only marked tests are
snapshotted, once just before and once just after: fail_on keeps working,
and only the marked tests get findings attributed.

Without the shim (`_linger` cannot be imported) the plugin does nothing
but say so in the terminal summary: no snapshot, and marked tests pass or
fail on their own.  The garbage collector is never run by the plugin: a
collection would hide the very reference cycles linger reports.
"""

import json
import os
import shutil
import subprocess
import time

import pytest

try:
    import _linger  # registered by the shim at start-up
except ImportError:
    _linger = None

COLLECTION_LABEL = "<collection>"
BEFORE_LABEL = "<before> "

SEVERITIES = {"info": 0, "warning": 1, "error": 2}


def pytest_addoption(parser):
    group = parser.getgroup("linger", "linger (per-test attribution of leaks)")
    group.addoption(
        "--linger-snapshots",
        choices=("each", "marked"),
        default="each",
        help="under linger's shim, snapshot after each test (each, the default) or only "
        "around tests marked linger(fail_on=...) (marked: cheaper, only those are attributed)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "linger(fail_on=[...]): fail the test if, under linger's shim, it created a "
        "finding of one of these kinds (finalizer-keepalive, bound-method-cycle, ...) "
        "or severities (error, warning, info, any)",
    )
    global _STATE
    _STATE = _State(config.getoption("linger_snapshots")) if _linger is not None else None


# The session's state; None without the shim.  pytest_runtest_logfinish
# gets no config to hang it on.
_STATE = None


class _State:
    def __init__(self, mode):
        self.each = mode == "each"
        self.snapshots = 0
        self.seconds = 0.0
        self.checks = 0
        self.check_seconds = 0.0
        self.done = set()  # node ids snapshotted by our own protocol
        self.problems = []

    def snapshot(self, label, whole=False):
        """A labelled snapshot: of the objects only (enough to attribute
        them), or of the whole graph when the findings at this point are
        wanted (after a marked test)."""
        t0 = time.perf_counter()
        if whole or not hasattr(_linger, "snapshot_objects"):
            snapshot_id = _linger.snapshot(label)
        else:
            snapshot_id = _linger.snapshot_objects(label)
        self.seconds += time.perf_counter() - t0
        if snapshot_id:
            self.snapshots += 1
        return snapshot_id


def pytest_unconfigure(config):
    global _STATE
    _STATE = None


def pytest_collection_finish(session):
    if _STATE is not None and _STATE.each:
        _STATE.snapshot(COLLECTION_LABEL)


def pytest_runtest_logfinish(nodeid, location):
    # Called by pytest's own protocol once the teardown report is out, and
    # by ours below (which has snapshotted already).
    if _STATE is None or not _STATE.each or nodeid in _STATE.done:
        return
    _STATE.snapshot(nodeid)


def _fail_on(item):
    marker = item.get_closest_marker("linger")
    if marker is None:
        return None
    kinds = marker.kwargs.get("fail_on", marker.args[0] if marker.args else ["error"])
    if isinstance(kinds, str):
        kinds = [kinds]
    return [str(k) for k in kinds]


def _matches(finding, fail_on):
    for want in fail_on:
        if want == "any" or want == finding.get("kind"):
            return True
        if want in SEVERITIES and SEVERITIES.get(finding.get("severity"), -1) >= SEVERITIES[want]:
            return True
    return False


def _linger_binary():
    """The `linger` command: $LINGER_BIN, else next to the shim (build/linger
    beside build/liblinger.so; <prefix>/bin/linger for an installed
    <prefix>/lib/.../linger/liblinger.so), else PATH."""
    env = os.environ.get("LINGER_BIN")
    if env:
        return env
    shim = _linger.shim_path() if hasattr(_linger, "shim_path") else None
    if shim:
        here = os.path.dirname(shim)
        candidate = os.path.join(here, "linger")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
        parent = here
        for _ in range(4):
            parent = os.path.dirname(parent)
            candidate = os.path.join(parent, "bin", "linger")
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return shutil.which("linger")


def _child_env():
    # `linger report` must not run under the shim itself.
    env = dict(os.environ)
    preload = env.get("LD_PRELOAD", "")
    kept = [p for p in preload.replace(":", " ").split() if "liblinger" not in os.path.basename(p)]
    if kept:
        env["LD_PRELOAD"] = " ".join(kept)
    else:
        env.pop("LD_PRELOAD", None)
    return env


def _findings_of(state, nodeid, fail_on):
    """Findings of the trace so far that `nodeid` created and fail_on
    selects; raises RuntimeError when the trace cannot be read."""
    _linger.flush()
    path = _linger.trace_path()
    if not path:
        raise RuntimeError("the trace file is not known")
    binary = _linger_binary()
    if binary is None:
        raise RuntimeError("the linger command was not found (set LINGER_BIN)")
    t0 = time.perf_counter()
    # The project's .linger-suppressions (in the current directory) apply,
    # as they do to `linger report`.
    proc = subprocess.run(
        [binary, "report", "--format=json", path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_child_env(),
        universal_newlines=True,
    )
    state.checks += 1
    state.check_seconds += time.perf_counter() - t0
    if proc.returncode not in (0, 3):
        raise RuntimeError("linger report failed: " + (proc.stderr.strip() or "exit %d" % proc.returncode))
    report = json.loads(proc.stdout)
    return [f for f in report.get("findings", [])
            if f.get("created_by") == nodeid and _matches(f, fail_on)]


def _describe(finding):
    objects = finding.get("objects") or [{}]
    obj = objects[0]
    text = "%s %s: %d × %s" % (finding.get("severity"), finding.get("kind"),
                               finding.get("count", 1), obj.get("type"))
    if finding.get("state"):
        text += " (%s)" % finding["state"]
    at = obj.get("allocated_at")
    if at and at.get("file"):
        text += "\n    allocated: %s:%s in %s" % (at["file"], at.get("line"), at.get("function"))
    if finding.get("path"):
        text += "\n    path:      " + " → ".join(finding["path"])
    if finding.get("held_by"):
        text += "\n    held by:   " + " → ".join(finding["held_by"])
    if finding.get("hint"):
        text += "\n    hint:      " + finding["hint"]
    return text


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """For a test marked linger(fail_on=...): pytest's own protocol with
    the reports held back until the snapshot after its teardown says
    whether the test created such a finding, so the failure lands in the
    test's own report."""
    state = _STATE
    fail_on = _fail_on(item) if state is not None else None
    if fail_on is None:
        return None
    from _pytest.runner import runtestprotocol

    if not state.each:
        # What came before this test is not its doing.
        state.snapshot(BEFORE_LABEL + item.nodeid)
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    state.done.add(item.nodeid)
    state.snapshot(item.nodeid, whole=True)
    call = next((r for r in reports if r.when == "call"), None)
    if call is not None and call.passed:
        try:
            found = _findings_of(state, item.nodeid, fail_on)
        except (RuntimeError, OSError, ValueError) as e:
            state.problems.append("%s: not checked: %s" % (item.nodeid, e))
            found = []
        if found:
            call.outcome = "failed"
            call.longrepr = "linger: %s created %d finding%s matching fail_on=%s:\n  %s" % (
                item.nodeid, len(found), "" if len(found) == 1 else "s", fail_on,
                "\n  ".join(_describe(f) for f in found))
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = _STATE
    if state is None:
        terminalreporter.write_line("linger: shim not loaded, per-test attribution off")
        return
    path = _linger.trace_path()
    line = "linger: %d snapshots (%.2f s) into %s" % (state.snapshots, state.seconds, path)
    if state.checks:
        line += "; %d fail_on checks (%.2f s)" % (state.checks, state.check_seconds)
    terminalreporter.write_line(line)
    for problem in state.problems:
        terminalreporter.write_line("linger: " + problem)
