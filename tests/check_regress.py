#!/usr/bin/python3
"""Regression-test features of linger, end to end (stdlib only; run with
Debian's /usr/bin/python3):

    check_regress.py --linger build/linger --python /usr/bin/python3 --samples samples/python

Traces are made by `linger run` of real samples (samples/python/*.py,
with -S like check_sample.py), then judged by the built `linger`:

  fail-on      `linger report --fail-on=KIND[,KIND...]`: 3 when a finding
               of a listed kind or at or above a listed severity remains,
               0 otherwise, the report printed either way (text and
               JSON); an unknown kind is a usage error (2) naming the
               valid ones.
  suppress     suppressions files: by kind, type, site and path, '*',
               one-line and block forms, comments; parse errors name
               FILE:LINE (exit 1); unused entries are reported (stderr in
               text, "unused_suppressions" in JSON); ./.linger-suppressions
               is read unless --no-default-suppressions;
               --generate-suppressions round trip: the generated entries,
               saved as .linger-suppressions, suppress every finding
               (--fail-on=any exits 0) and nothing else.
  baseline     --baseline=OLD.json: a second run of the same program has no
               new finding; a program with one more finding reports only
               that one; reports without fingerprints still match; a bad
               baseline is an error (exit 1).
  run          `linger run --fail-on`: 3 when the program exits 0 and a
               finding matches, 0 when none does, the program's own status
               (5, 128+signal) passed through whatever the findings;
               --suppressions and --baseline apply.

Each group can be run alone with --only GROUP.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

FAILURES = []
CHECKS = 0


def check(cond, what, detail=""):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(what + (": " + detail if detail else ""))
        print("FAIL: " + what + (("\n    " + detail.replace("\n", "\n    ")) if detail else ""))


class Env:
    def __init__(self, linger, python, samples, tmp):
        self.linger = os.path.abspath(linger)
        self.python = python
        self.samples = os.path.abspath(samples)
        self.tmp = tmp

    def sample(self, name):
        return os.path.join(self.samples, name + ".py")

    def linger_cmd(self, args, cwd=None):
        """Runs linger; returns (status, stdout, stderr)."""
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        p = subprocess.run([self.linger] + args, cwd=cwd or self.tmp, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def trace(self, name, program_args):
        """A trace of `linger run -o NAME.trace -- PY -S ARGS`."""
        path = os.path.join(self.tmp, name + ".trace")
        status, out, err = self.linger_cmd(["run", "-o", path, "--", self.python, "-S"] + program_args)
        if status != 0 or not os.path.exists(path):
            raise SystemExit("cannot make trace %s: status %d\n%s" % (name, status, err))
        return path

    def report_json(self, args, cwd=None):
        status, out, err = self.linger_cmd(["report", "--format=json"] + args, cwd=cwd)
        try:
            data = json.loads(out)
        except ValueError as e:
            check(False, "report %s prints JSON" % " ".join(args), "%s\n%s" % (e, err))
            data = None
        return status, data, err


def kinds_of(report):
    return sorted(f["kind"] for f in report["findings"])


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# --- traces ----------------------------------------------------------------

def make_traces(env):
    both = os.path.join(env.tmp, "both.py")
    # Two samples in one program: every finding of the first, one more of
    # the second (the sites stay the samples' own files and lines).
    write(both, "import runpy, sys\n"
                "for path in sys.argv[1:]:\n"
                "    runpy.run_path(path, run_name='__main__')\n")
    return {
        "fk": env.trace("fk", [env.sample("finalize_keepalive")]),
        "fk2": env.trace("fk2", [env.sample("finalize_keepalive")]),
        "bm": env.trace("bm", [env.sample("bound_method_cycle_live")]),
        "wr": env.trace("wr", [env.sample("weakref_callback_keepalive_closure")]),
        "clean": env.trace("clean", [env.sample("hello_clean")]),
        "rc": env.trace("rc", [env.sample("reference_cycle_garbage")]),
        "both": env.trace("both", [both, env.sample("finalize_keepalive"),
                                   env.sample("bound_method_cycle_live")]),
    }


# --- fail-on ---------------------------------------------------------------

def check_fail_on(env, t):
    status, base, err = env.report_json([t["fk"]])
    check(status == 0 and base is not None and kinds_of(base) == ["finalizer-keepalive"],
          "finalize_keepalive.py has exactly one finding, a finalizer-keepalive",
          "status %d, %s" % (status, base and kinds_of(base)))
    _, bm, _ = env.report_json([t["bm"]])
    check(bm is not None and kinds_of(bm) == ["bound-method-cycle"],
          "bound_method_cycle_live.py has one finding, a bound-method-cycle", str(bm and kinds_of(bm)))

    cases = [
        # trace, --fail-on, expected exit status
        ("fk", "finalizer-keepalive", 3),
        ("fk", "bound-method-cycle", 0),
        ("fk", "closure-cycle,finalizer-keepalive", 3),
        ("fk", "closure-cycle, uncollectable", 0),
        ("fk", "error", 3),
        ("fk", "warning", 3),
        ("fk", "info", 3),
        ("fk", "any", 3),
        ("bm", "error", 0),
        ("bm", "warning", 3),
        ("bm", "info", 3),
        ("bm", "bound-method-cycle", 3),
        ("bm", "finalizer-keepalive,uncollectable,leak", 0),
        ("wr", "weakref-callback-keepalive", 3),
        ("wr", "error", 0),
        ("clean", "any", 0),
    ]
    for trace, fail_on, want in cases:
        for fmt in ("text", "json"):
            status, out, err = env.linger_cmd(["report", "--format=" + fmt, "--fail-on=" + fail_on, t[trace]])
            check(status == want, "%s: report --format=%s --fail-on=%s exits %d" % (trace, fmt, fail_on, want),
                  "exit %d\n%s" % (status, err))
            # The report is printed whatever the verdict.
            if fmt == "json":
                try:
                    data = json.loads(out)
                    check(len(data["findings"]) == (0 if trace == "clean" else 1),
                          "%s: the JSON report is complete with --fail-on=%s" % (trace, fail_on))
                except ValueError:
                    check(False, "%s: JSON report printed with --fail-on=%s" % (trace, fail_on), out[:200])
            else:
                check(out.startswith("linger report:") and ("No findings." in out) == (trace == "clean"),
                      "%s: the text report is printed with --fail-on=%s" % (trace, fail_on), out[:300])
            if want == 3:
                check("match" in err and "--fail-on=" + fail_on in err,
                      "%s: stderr says which findings matched --fail-on=%s" % (trace, fail_on), err)

    # --fail-on given twice: the last one counts, like every option.
    for bad in ("bogus", "finalizer-keepalive,nope", "", "Error"):
        status, out, err = env.linger_cmd(["report", "--fail-on=" + bad, t["fk"]])
        check(status == 2, "--fail-on=%r is a usage error (exit 2)" % bad, "exit %d\n%s" % (status, err))
        check(err.startswith("linger: error:") and "finalizer-keepalive" in err and "gc-collected" in err
              and "warning" in err and "any" in err,
              "--fail-on=%r names the valid kinds" % bad, err)
        check(out == "", "--fail-on=%r prints no report" % bad, out[:200])

    status, out, err = env.linger_cmd(["report", "--diff", "--fail-on=any", t["fk"], t["fk2"]])
    check(status == 2, "--fail-on with --diff is a usage error", "exit %d %s" % (status, err))

    status, out, err = env.linger_cmd(["--help"])
    check(status == 0 and "Exit status" in out and "--fail-on" in out,
          "linger --help documents the exit codes", out[-600:])
    status, out, err = env.linger_cmd(["report", "--help"])
    check(status == 0 and "--fail-on" in out and "--baseline" in out
          and "--generate-suppressions" in out and "--no-default-suppressions" in out,
          "linger report --help documents --fail-on, suppressions and baseline", out[-600:])
    status, out, err = env.linger_cmd(["run", "--help"])
    check(status == 0 and "--fail-on" in out and "--suppressions" in out and "--baseline" in out,
          "linger run --help documents --fail-on, suppressions and baseline", out[-600:])


# --- suppressions ----------------------------------------------------------

def first_site(report):
    """The allocated_at file and line of the first finding's object."""
    at = report["findings"][0]["objects"][0]["allocated_at"]
    return at["file"], at["line"]


def check_suppress(env, t):
    _, fk, _ = env.report_json([t["fk"]])
    fk_file, fk_line = first_site(fk)
    fk_type = fk["findings"][0]["objects"][0]["type"]
    check(fk_file == env.sample("finalize_keepalive") and fk_type == "__main__.ExpensiveObject",
          "the finalizer's object is allocated in the sample", "%s %s" % (fk_file, fk_type))
    d = os.path.join(env.tmp, "supp")
    os.makedirs(d, exist_ok=True)

    def judge(name, text, trace, fail_on, want_status, want_suppressed, want_unused=()):
        path = os.path.join(d, name)
        write(path, text)
        status, out, err = env.linger_cmd(["report", "--no-default-suppressions", "--suppressions=" + path,
                                           "--fail-on=" + fail_on, t[trace]], cwd=d)
        check(status == want_status, "suppressions %s on %s: --fail-on=%s exits %d" % (name, trace, fail_on,
                                                                                     want_status),
              "exit %d\n%s\n%s" % (status, err, text))
        check("%d finding%s suppressed (%s)" % (want_suppressed, "" if want_suppressed == 1 else "s", path) in out,
              "suppressions %s: the text header says %d suppressed" % (name, want_suppressed), out[:1500])
        for line in want_unused:
            check("unused suppression %s:%d" % (path, line) in err,
                  "suppressions %s: the entry at line %d is reported unused" % (name, line), err)
        unused_lines = [l for l in err.splitlines() if "unused suppression" in l]
        check(len(unused_lines) == len(want_unused), "suppressions %s: %d unused entries" % (name, len(want_unused)),
              err)
        status, data, err = env.report_json(["--no-default-suppressions", "--suppressions=" + path, t[trace]], cwd=d)
        if data is not None:
            sup = data.get("suppressed", {})
            check(sup.get("count") == want_suppressed and len(sup.get("findings", [])) == want_suppressed,
                  "suppressions %s: JSON \"suppressed\" has count and list" % name, json.dumps(sup)[:500])
            check(sorted(u["line"] for u in data.get("unused_suppressions", [])) == sorted(want_unused)
                  and all(u["file"] == path for u in data.get("unused_suppressions", [])),
                  "suppressions %s: JSON \"unused_suppressions\" lists file and line" % name,
                  json.dumps(data.get("unused_suppressions")))
            check("unused suppression" not in err, "suppressions %s: JSON mode keeps stderr quiet" % name, err)
            for s in sup.get("findings", []):
                check(s["suppressed_by"].startswith(path + ":") and s["finding"]["kind"],
                      "suppressions %s: each suppressed finding names its entry" % name, json.dumps(s)[:300])

    judge("kind", "suppress finalizer-keepalive\n", "fk", "any", 0, 1)
    judge("kind-other", "suppress bound-method-cycle\n", "fk", "any", 3, 0, want_unused=(1,))
    judge("star", "# everything\n*\n", "fk", "any", 0, 1)
    judge("type", "finalizer-keepalive type=__main__.Expensive*\n", "fk", "finalizer-keepalive", 0, 1)
    judge("type-other", "finalizer-keepalive type=mypkg.*\n", "fk", "finalizer-keepalive", 3, 0, want_unused=(1,))
    judge("site-file-line", "finalizer-keepalive site=*/finalize_keepalive.py:%d\n" % fk_line, "fk", "any", 0, 1)
    judge("site-wrong-line", "finalizer-keepalive site=*/finalize_keepalive.py:%d\n" % (fk_line + 1000),
          "fk", "any", 3, 0, want_unused=(1,))
    judge("site-function", "finalizer-keepalive site=<module>\n", "fk", "any", 0, 1)
    judge("site-file", 'finalizer-keepalive site="%s"\n' % fk_file, "fk", "any", 0, 1)
    judge("path", "finalizer-keepalive path=\"weakref.finalize → *\"\n", "fk", "any", 0, 1)
    judge("path-other", "finalizer-keepalive path=*kwargs*\n", "fk", "any", 3, 0, want_unused=(1,))
    # Every key must match: a right type with a wrong site is no match.
    judge("all-keys", "finalizer-keepalive type=__main__.ExpensiveObject site=*nothere.py*\n", "fk", "any",
          3, 0, want_unused=(1,))
    # The block form, comments (also inside a block and indented), blank
    # lines ending a block, two entries used, one not (line 12).
    judge("block", "# why: the cache keeps its entries on purpose\n"
                   "\n"
                   "suppress finalizer-keepalive\n"
                   "  # the object of the sample\n"
                   "  type: __main__.ExpensiveObject\n"
                   "\tsite: *finalize_keepalive.py:*\n"
                   "\n"
                   "   # an indented comment between blocks\n"
                   "suppress bound-method-cycle\n"
                   "  type: __main__.HealthMonitor\n"
                   "\n"
                   "suppress closure-cycle\n"
                   "  type: nothing.*\n",
          "both", "finalizer-keepalive,bound-method-cycle", 0, 2, want_unused=(12,))
    judge("cycle-type", "suppress bound-method-cycle\n  type: builtins.method\n", "bm", "warning", 0, 1)

    # Parse errors name FILE:LINE, exit 1, no report.
    errors = [
        ("bad-kind", "# ok\nsuppress finalizer-keepalive\n\nsuppress no-such-kind\n", 4, "no-such-kind"),
        ("bad-key", "suppress finalizer-keepalive\n  type: x\n  color: red\n", 3, "color"),
        ("outside", "# c\n  type: x\n", 2, "outside"),
        ("no-value", "finalizer-keepalive type=\n", 1, "needs a value"),
        ("twice", "suppress leak\n  site: a\n  site: b\n", 3, "twice"),
        ("unclosed", 'leak site="abc\n', 1, "not closed"),
        ("no-kind", "suppress\n", 1, "kind"),
    ]
    for name, text, line, word in errors:
        path = os.path.join(d, name)
        write(path, text)
        status, out, err = env.linger_cmd(["report", "--no-default-suppressions", "--suppressions=" + path, t["fk"]])
        check(status == 1 and err.startswith("linger: error: %s:%d:" % (path, line)) and word in err
              and len(err.splitlines()) == 1 and out == "",
              "suppressions %s: the error names %s:%d" % (name, name, line), "exit %d\n%s" % (status, err))
    status, out, err = env.linger_cmd(["report", "--suppressions=" + os.path.join(d, "missing"), t["fk"]])
    check(status == 1 and "missing" in err and err.startswith("linger: error:"),
          "a missing suppressions file is an error naming it", err)

    # ./.linger-suppressions is read from the current directory.
    auto = os.path.join(env.tmp, "auto")
    os.makedirs(auto, exist_ok=True)
    write(os.path.join(auto, ".linger-suppressions"), "# ours\nsuppress finalizer-keepalive\n")
    status, out, err = env.linger_cmd(["report", "--fail-on=any", t["fk"]], cwd=auto)
    check(status == 0 and "1 finding suppressed (.linger-suppressions)" in out,
          ".linger-suppressions in the current directory is read", "exit %d\n%s\n%s" % (status, out[:1200], err))
    status, out, err = env.linger_cmd(["report", "--fail-on=any", "--no-default-suppressions", t["fk"]], cwd=auto)
    check(status == 3 and "suppressed" not in out,
          "--no-default-suppressions ignores .linger-suppressions", "exit %d\n%s" % (status, err))
    # Both a named file and the default one; the default one unused here.
    status, out, err = env.linger_cmd(["report", "--fail-on=any", "--suppressions=" + os.path.join(d, "kind"),
                                       t["fk"]], cwd=auto)
    check(status == 0 and "unused suppression" not in err
          and "1 finding suppressed (%s, .linger-suppressions)" % os.path.join(d, "kind") in out,
          "--suppressions and .linger-suppressions together; every entry matching a finding counts as used",
          "exit %d\n%s\n%s" % (status, out[:1500], err))

    # Round trip: generated entries, saved as .linger-suppressions,
    # suppress every finding and nothing else.
    for trace in ("fk", "bm", "wr", "both"):
        _, before, _ = env.report_json(["--no-default-suppressions", t[trace]])
        status, gen, err = env.linger_cmd(["report", "--no-default-suppressions", "--generate-suppressions",
                                           t[trace]])
        check(status == 0 and gen.count("\nsuppress ") + gen.startswith("suppress ") >= 1
              and gen.lstrip().startswith("#"),
              "%s: --generate-suppressions prints commented entries" % trace, "exit %d\n%s\n%s" % (status, gen, err))
        for f in before["findings"]:
            check("# %s (" % f["kind"] in gen, "%s: a generated comment names the %s finding" % (trace, f["kind"]),
                  gen)
        rt = os.path.join(env.tmp, "roundtrip-" + trace)
        os.makedirs(rt, exist_ok=True)
        write(os.path.join(rt, ".linger-suppressions"), gen)
        status, out, err = env.linger_cmd(["report", "--fail-on=any", t[trace]], cwd=rt)
        check(status == 0 and "unused suppression" not in err,
              "%s: the generated suppressions suppress every finding (--fail-on=any exits 0), none unused" % trace,
              "exit %d\n%s\n%s" % (status, err, gen))
        status, data, err = env.report_json([t[trace]], cwd=rt)
        if data is not None:
            check(data["findings"] == [] and data["suppressed"]["count"] == len(before["findings"]),
                  "%s: JSON: no finding left, %d suppressed" % (trace, len(before["findings"])),
                  json.dumps(data["suppressed"])[:300])
    # Exactly them: without any one entry, exactly its finding comes back
    # (a reference cycle's entry does not also hide a larger cycle through
    # one of its types, two gc-collected groups of one site and type share
    # an entry).
    for trace in ("rc", "both"):
        _, before, _ = env.report_json(["--no-default-suppressions", t[trace]])
        status, gen, err = env.linger_cmd(["report", "--no-default-suppressions", "--generate-suppressions",
                                           t[trace]])
        blocks = [b for b in gen.split("\n\n") if b.strip()]
        check(len(blocks) >= 2, "%s: several generated entries" % trace, gen)
        for i, block in enumerate(blocks):
            path = os.path.join(env.tmp, "without-%s-%d" % (trace, i))
            write(path, "\n\n".join(b for j, b in enumerate(blocks) if j != i) + "\n")
            status, data, err = env.report_json(["--no-default-suppressions", "--suppressions=" + path, t[trace]])
            if data is None:
                continue
            kind = block.split("\n")[0].split(" ")[1]
            back = data["findings"]
            check(len(back) >= 1 and all(f["kind"] == kind for f in back)
                  and data["suppressed"]["count"] == len(before["findings"]) - len(back)
                  and data["unused_suppressions"] == [],
                  "%s: without generated entry #%d only its own %s finding(s) come back" % (trace, i + 1, kind),
                  "%s\n%s" % ([(f["kind"], f.get("fingerprint")) for f in back], block))
            if kind != "gc-collected":
                check(len(back) == 1, "%s: entry #%d is for one finding" % (trace, i + 1), block)

    # Exactly them: the entries of one program do not hide another's.
    status, out, err = env.linger_cmd(["report", "--fail-on=warning", t["bm"]], cwd=os.path.join(env.tmp, "roundtrip-fk"))
    check(status == 3 and "unused suppression .linger-suppressions:" in err,
          "finalize_keepalive's generated entries leave bound_method_cycle_live's finding alone (and are unused)",
          "exit %d\n%s" % (status, err))
    status, out, err = env.linger_cmd(["report", "--fail-on=any", t["wr"]], cwd=os.path.join(env.tmp, "roundtrip-fk"))
    check(status == 3, "finalize_keepalive's generated entries leave the weakref finding alone", err)


# --- baseline --------------------------------------------------------------

def strip_fingerprints(value):
    if isinstance(value, dict):
        return {k: strip_fingerprints(v) for k, v in value.items() if k != "fingerprint"}
    if isinstance(value, list):
        return [strip_fingerprints(v) for v in value]
    return value


def check_baseline(env, t):
    base = os.path.join(env.tmp, "baseline.json")
    status, out, err = env.linger_cmd(["report", "--format=json", "--no-default-suppressions", t["fk"]])
    check(status == 0, "the baseline report", err)
    write(base, out)
    fk = json.loads(out)
    for f in fk["findings"]:
        check(isinstance(f.get("fingerprint"), str) and len(f["fingerprint"]) == 16,
              "every finding has a 16-digit fingerprint", json.dumps(f)[:200])
    _, fk2, _ = env.report_json(["--no-default-suppressions", t["fk2"]])
    check([f["fingerprint"] for f in fk["findings"]] == [f["fingerprint"] for f in fk2["findings"]],
          "two runs of one program give the same fingerprints",
          "%s / %s" % ([f["fingerprint"] for f in fk["findings"]], [f["fingerprint"] for f in fk2["findings"]]))
    check(fk["trace"]["pid"] != fk2["trace"]["pid"], "the two runs are two processes")

    # Same program again: nothing new.
    for fail_on in ("any", "finalizer-keepalive"):
        status, out, err = env.linger_cmd(["report", "--no-default-suppressions", "--baseline=" + base,
                                           "--fail-on=" + fail_on, t["fk2"]])
        check(status == 0 and "No findings." in out and "1 finding already in the baseline " + base in out,
              "a second run against its baseline: no new finding (--fail-on=%s exits 0)" % fail_on,
              "exit %d\n%s\n%s" % (status, out[:1500], err))
    status, data, err = env.report_json(["--no-default-suppressions", "--baseline=" + base, t["fk2"]])
    check(data is not None and data["findings"] == []
          and data["baseline"] == {"file": base, "findings": 1, "known": 1},
          "JSON: \"baseline\" has the file and the known count", json.dumps(data and data.get("baseline")))
    _, plain, _ = env.report_json(["--no-default-suppressions", t["fk2"]])
    check(plain["baseline"] is None and plain["suppressed"]["count"] == 0 and plain["unused_suppressions"] == [],
          "JSON without --baseline: \"baseline\": null, nothing suppressed")

    # One more finding: only it is new.
    _, both_all, _ = env.report_json(["--no-default-suppressions", t["both"]])
    check("finalizer-keepalive" in kinds_of(both_all) and "bound-method-cycle" in kinds_of(both_all),
          "the two-sample program has both findings", str(kinds_of(both_all)))
    status, data, err = env.report_json(["--no-default-suppressions", "--baseline=" + base, t["both"]])
    if data is not None:
        check("bound-method-cycle" in kinds_of(data) and "finalizer-keepalive" not in kinds_of(data)
              and data["baseline"]["known"] == 1 and len(data["findings"]) == len(both_all["findings"]) - 1,
              "against the first program's baseline, only the new findings are reported",
              "%s known %s" % (kinds_of(data), data["baseline"]))
    for fail_on, want in (("finalizer-keepalive", 0), ("bound-method-cycle", 3), ("error", 0), ("warning", 3)):
        status, out, err = env.linger_cmd(["report", "--no-default-suppressions", "--baseline=" + base,
                                           "--fail-on=" + fail_on, t["both"]])
        check(status == want, "new findings only: --fail-on=%s exits %d" % (fail_on, want), "exit %d %s" % (status, err))
        check("1 finding already in the baseline" in out, "the text report counts the known finding", out[:1500])

    # A report without fingerprints (an older linger) matches the same.
    old = os.path.join(env.tmp, "baseline-old.json")
    write(old, json.dumps(strip_fingerprints(json.loads(open(base, encoding="utf-8").read())), indent=1))
    check("fingerprint" not in open(old, encoding="utf-8").read(), "the old-style baseline has no fingerprint")
    for trace, want_known in (("fk2", 1), ("both", 1)):
        status, data, err = env.report_json(["--no-default-suppressions", "--baseline=" + old, t[trace]])
        check(data is not None and data["baseline"]["known"] == want_known
              and "finalizer-keepalive" not in kinds_of(data),
              "%s: a baseline without fingerprints matches by the findings' fields" % trace,
              "%s\n%s" % (data and data["baseline"], err))
    # A baseline of the two-sample program covers the reference cycles and
    # gc-collected groups too, whatever their addresses.
    base2 = os.path.join(env.tmp, "baseline-both.json")
    write(base2, json.dumps(both_all))
    status, out, err = env.linger_cmd(["report", "--no-default-suppressions", "--baseline=" + base2,
                                       "--fail-on=any", t["both"]])
    check(status == 0, "a trace against its own baseline has no new finding", "exit %d %s" % (status, err))

    # Bad baselines: exit 1, one line naming the file.
    bad = [
        ("missing.json", None, "cannot read"),
        ("garbage.json", "{not json", "not valid JSON at line 1"),
        ("empty.json", "", "not valid JSON"),
        ("array.json", "[1, 2]", "not a linger JSON report"),
        ("nofindings.json", '{"linger_version": "0.1.0"}', "findings"),
        ("nokind.json", '{"linger_version": "0.1.0", "findings": [{"type": "x"}]}', "kind"),
        ("trace.json", None, "not valid JSON"),
    ]
    for name, text, word in bad:
        path = os.path.join(env.tmp, name)
        if text is not None:
            write(path, text)
        elif name == "trace.json":
            shutil.copy(t["fk"], path)
        status, out, err = env.linger_cmd(["report", "--baseline=" + path, t["fk"]])
        check(status == 1 and err.startswith("linger: error: " + path) and word in err
              and len(err.splitlines()) == 1 and out == "",
              "bad baseline %s: one error line naming it (exit 1)" % name, "exit %d\n%s" % (status, err))


# --- linger run --fail-on --------------------------------------------------

def check_run(env, t):
    fk = env.sample("finalize_keepalive")
    d = os.path.join(env.tmp, "run")
    os.makedirs(d, exist_ok=True)

    def run(name, linger_args, program, want, stderr_has=(), stderr_not=()):
        out_trace = os.path.join(d, name + ".trace")
        status, out, err = env.linger_cmd(["run"] + linger_args + ["-o", out_trace, "--", env.python, "-S"]
                                          + program, cwd=d)
        check(status == want, "run %s exits %d" % (name, want), "exit %d\n%s" % (status, err))
        for s in stderr_has:
            check(s in err, "run %s: stderr says %r" % (name, s), err)
        for s in stderr_not:
            check(s not in err, "run %s: stderr does not say %r" % (name, s), err)
        return out, err

    bare = subprocess.run([env.python, "-S", fk], stdout=subprocess.PIPE, timeout=120)
    out, err = run("fk-match", ["--fail-on=finalizer-keepalive"], [fk], 3,
                   ("finalizer-keepalive (error): 1 × __main__.ExpensiveObject", "finalize_keepalive.py:",
                    "1 finding matches --fail-on=finalizer-keepalive"))
    check(out.encode() == bare.stdout, "run --fail-on leaves the program's output alone")
    run("fk-nomatch", ["--fail-on=bound-method-cycle"], [fk], 0, (), ("matches",))
    run("fk-severity", ["--fail-on", "error"], [fk], 3, ("1 finding matches --fail-on=error",))
    run("clean", ["--fail-on=any"], [env.sample("hello_clean")], 0)
    run("bm-warning", ["--fail-on=warning"], [env.sample("bound_method_cycle_live")], 3,
        ("bound-method-cycle (warning)",))

    # The program's own status wins, with or without matching findings.
    exit5 = ["-c", "import runpy, sys; runpy.run_path(%r, run_name='__main__'); sys.exit(5)" % fk]
    run("exit5-match", ["--fail-on=finalizer-keepalive"], exit5, 5, ("finalizer-keepalive (error)",))
    run("exit5-nomatch", ["--fail-on=bound-method-cycle"], exit5, 5)
    killed = ["-c", "import os, runpy, signal; runpy.run_path(%r, run_name='__main__'); "
                    "os.kill(os.getpid(), signal.SIGTERM)" % fk]
    run("sigterm", ["--fail-on=any"], killed, 128 + signal.SIGTERM)

    # Suppressions and baselines apply to run too.
    supp = os.path.join(d, "fk.supp")
    write(supp, "suppress finalizer-keepalive\n  type: __main__.ExpensiveObject\n")
    run("suppressed", ["--fail-on=any", "--suppressions=" + supp], [fk], 0)
    run("suppressed-unused", ["--fail-on=any", "--suppressions", supp], [env.sample("hello_clean")], 0,
        ("unused suppression %s:1" % supp,))
    base = os.path.join(d, "fk.json")
    status, out, err = env.linger_cmd(["report", "--format=json", "--no-default-suppressions", t["fk"]])
    write(base, out)
    run("baseline-known", ["--fail-on=any", "--baseline=" + base], [fk], 0)
    run("baseline-new", ["--fail-on=any", "--baseline", base], [env.sample("bound_method_cycle_live")], 3,
        ("bound-method-cycle",), ("finalizer-keepalive",))
    write(os.path.join(d, ".linger-suppressions"), "finalizer-keepalive\n")
    run("default-suppressions", ["--fail-on=any"], [fk], 0)
    run("no-default-suppressions", ["--fail-on=any", "--no-default-suppressions"], [fk], 3)
    os.unlink(os.path.join(d, ".linger-suppressions"))

    # Bad options: nothing runs.
    marker = os.path.join(d, "ran")
    touch = ["-c", "open(%r, 'w').close()" % marker]
    run("bad-kind", ["--fail-on=nope"], touch, 2, ("unknown finding kind 'nope'",))
    run("bad-supp", ["--fail-on=any", "--suppressions=" + os.path.join(d, "missing.supp")], touch, 1,
        ("missing.supp",))
    run("bad-baseline", ["--fail-on=any", "--baseline=" + os.path.join(d, "missing.json")], touch, 1,
        ("missing.json",))
    run("supp-without-fail-on", ["--suppressions=" + supp], touch, 2, ("--fail-on",))
    check(not os.path.exists(marker), "with bad --fail-on options the program does not run")
    # Without --fail-on, run is what it was: the program's status, no verdict.
    run("plain", [], [fk], 0, (), ("matches",))


GROUPS = {
    "fail-on": check_fail_on,
    "suppress": check_suppress,
    "baseline": check_baseline,
    "run": check_run,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--linger", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--samples", required=True)
    ap.add_argument("--only", choices=sorted(GROUPS))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    if not os.path.exists(args.python):
        print("SKIP: %s not found" % args.python)
        return 77
    tmp = tempfile.mkdtemp(prefix="linger-regress-")
    try:
        env = Env(args.linger, args.python, args.samples, tmp)
        traces = make_traces(env)
        for name, fn in GROUPS.items():
            if args.only is None or args.only == name:
                fn(env, traces)
    finally:
        if args.keep:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed" % (CHECKS, len(FAILURES)))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
