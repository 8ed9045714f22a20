#!/usr/bin/python3
"""check_pictures.py: `linger report --format=dot|svg|html` and -o/--output.

Real traces of sample programs (made with `linger run` under the given
Python) are drawn: the dot text must be valid for Graphviz (`dot -Tsvg`
accepts it), have one cluster per finding of the JSON report titled with
its kind and severity, show the object each finding is about, label the
references, draw weak references dashed, and mark finalizers and bound
methods with shapes of their own.  The hostile-names program (quotes,
backslashes, newlines, non-ASCII and "</script>" in type names and keys)
must give valid dot whose labels come back intact in the SVG, and an HTML
page whose data blocks no "</script>" can end.

Exit status 77 (skipped) without Graphviz's dot.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SKIP = 77
SVG_NS = '{http://www.w3.org/2000/svg}'
failures = []


def check(cond, message):
    if not cond:
        failures.append(message)
        print('FAIL: ' + message)
    return cond


def run(cmd, env=None, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=180, env=env, **kw)


def make_trace(args, workdir, name, script, extra=()):
    trace = os.path.join(workdir, name + '.trace')
    r = run([args.linger, 'run'] + list(extra) + ['-o', trace, args.python, script], cwd=workdir)
    if not os.path.exists(trace):
        raise SystemExit('no trace for %s: %s' % (script, r.stderr.decode(errors='replace')))
    return trace


def report(args, trace, *options):
    r = run([args.linger, 'report'] + list(options) + [trace])
    check(r.returncode == 0, 'report %s %s exited %d: %s' % (' '.join(options), trace, r.returncode,
                                                              r.stderr.decode(errors='replace')))
    return r.stdout


def svg_nodes(svg_root):
    """{node id: [text lines]} of a Graphviz SVG."""
    nodes = {}
    for g in svg_root.iter(SVG_NS + 'g'):
        if g.get('class') != 'node':
            continue
        title = g.find(SVG_NS + 'title')
        nodes[title.text] = [t.text or '' for t in g.iter(SVG_NS + 'text')]
    return nodes


def first_line(text, limit=60):
    line = text.split('\n')[0]
    return line if len(line) <= limit else line[:limit]


def check_trace(args, workdir, name, trace, expect=()):
    data = json.loads(report(args, trace, '--format=json'))
    findings = data['findings']
    dot_text = report(args, trace, '--format=dot').decode('utf-8')
    dot_file = os.path.join(workdir, name + '.dot')
    with open(dot_file, 'w', encoding='utf-8') as f:
        f.write(dot_text)

    # Graphviz must accept it.
    r = run([args.dot, '-Tsvg', dot_file])
    if not check(r.returncode == 0 and b'Error' not in r.stderr,
                 '%s: dot -Tsvg rejects the dot text: %s' % (name, r.stderr.decode(errors='replace'))):
        return
    svg = ET.fromstring(r.stdout)
    check(svg.tag == SVG_NS + 'svg', '%s: dot did not draw an SVG' % name)

    found = re.findall(r'^  subgraph cluster_(\d+) \{\n    label="([^\n]*)";$', dot_text, re.M)
    check(len(found) == len(findings), '%s: %d clusters for %d findings' % (name, len(found), len(findings)))
    titles = {int(number): title for number, title in found}
    check(sorted(titles) == list(range(len(findings))), '%s: clusters numbered %r' % (name, sorted(titles)))
    clusters = [(i, titles.get(i, '')) for i in range(len(findings))]
    nodes = svg_nodes(svg)
    for i, f in enumerate(findings):
        if i >= len(clusters):
            break
        title = clusters[i][1]
        check('%s (%s)' % (f['kind'], f['severity']) in title,
              '%s: cluster %d is not titled with %s (%s): %s' % (name, i, f['kind'], f['severity'], title))
        texts = [line for node_id, lines in nodes.items() if node_id.startswith('f%d_' % i) for line in lines]
        check(len(texts) > 0, '%s: cluster %d has no node' % (name, i))
        if 'objects' not in f:
            continue
        # The object the finding is about, as the text report names it.
        last = first_line(f['path'][-1])
        check(any(t.startswith(last) for t in texts),
              '%s: finding %d (%s): no node shows %r; nodes: %r' % (name, i, f['kind'], last, texts))
        # Sizes and, when known, the allocation site.
        o = f['objects'][0]
        check(any(t.startswith('%d bytes' % o['size']) for t in texts),
              '%s: finding %d: no node shows the size %d' % (name, i, o['size']))
        if o.get('allocated_at') and o['allocated_at'].get('line'):
            site = '%s:%d' % (os.path.basename(o['allocated_at']['file']), o['allocated_at']['line'])
            check(any(site in t for t in texts), '%s: finding %d: the site %s is not shown' % (name, i, site))
        if f.get('held_by'):
            check(any(t.startswith('root: ') for t in texts),
                  '%s: finding %d is live but no root is drawn' % (name, i))
    for what in expect:
        check(what in dot_text, '%s: the dot text lacks %r' % (name, what))
    return data, dot_text, r.stdout


def check_svg_and_output(args, workdir, trace):
    out = os.path.join(workdir, 'report.svg')
    with open(out, 'w') as f:
        f.write('x' * 100000)      # truncated, not appended to
    r = run([args.linger, 'report', '--format=svg', '-o', out, trace])
    check(r.returncode == 0 and r.stdout == b'', 'svg -o: exit %d, stdout %r' % (r.returncode, r.stdout[:80]))
    svg_bytes = open(out, 'rb').read()
    check(not svg_bytes.startswith(b'xxx'), 'svg -o: the old content was not truncated')
    try:
        root = ET.fromstring(svg_bytes)
        check(root.tag == SVG_NS + 'svg', 'svg: the root element is %s, not svg' % root.tag)
    except ET.ParseError as e:
        check(False, 'svg: not valid XML: %s' % e)
    r2 = run([args.linger, 'report', '--format=svg', trace])
    check(r2.returncode == 0 and r2.stdout == svg_bytes, 'svg: standard output differs from the -o file')

    # Without Graphviz: one clear error, exit 1.
    bare = os.path.join(workdir, 'bare-bin')
    os.makedirs(bare, exist_ok=True)
    env = dict(os.environ, PATH=bare)
    r = run([args.linger, 'report', '--format=svg', trace], env=env)
    check(r.returncode == 1, 'svg without dot: exit %d, not 1' % r.returncode)
    check(r.stderr.decode() == "linger: error: --format=svg needs Graphviz's `dot` (apt-get install graphviz), "
          "or use --format=dot\n", 'svg without dot: stderr %r' % r.stderr)

    # -o: text and json as well, the same bytes as standard output.
    for fmt in ('text', 'json', 'dot'):
        path = os.path.join(workdir, 'out.' + fmt)
        with open(path, 'w') as f:
            f.write('stale ' * 50000)
        r = run([args.linger, 'report', '--format=' + fmt, '--output', path, trace])
        expected = run([args.linger, 'report', '--format=' + fmt, trace]).stdout
        check(r.returncode == 0 and open(path, 'rb').read() == expected,
              '-o with --format=%s: the file is not the report' % fmt)
    bad = os.path.join(workdir, 'no-such-dir', 'report.html')
    r = run([args.linger, 'report', '--format=html', '-o', bad, trace])
    check(r.returncode == 1 and r.stderr.decode().startswith('linger: error: cannot write the report to ' + bad + ': ')
          and r.stderr.count(b'\n') == 1, 'unwritable -o: exit %d, stderr %r' % (r.returncode, r.stderr))
    if os.path.exists('/dev/full'):
        r = run([args.linger, 'report', '--format=dot', '-o', '/dev/full', trace])
        check(r.returncode == 1 and r.stderr.startswith(b'linger: error: cannot write the report to /dev/full: '),
              'a full disk: exit %d, stderr %r' % (r.returncode, r.stderr))
    for bad_args in (['--diff', '--format=dot'], ['--diff', '--format=html'], ['--format=html', '-o', '']):
        r = run([args.linger, 'report'] + bad_args + [trace])
        check(r.returncode == 2 and r.stderr.startswith(b'linger: error: ') and r.stderr.count(b'\n') == 1,
              'usage error %r: exit %d, stderr %r' % (bad_args, r.returncode, r.stderr))
    diff_out = os.path.join(workdir, 'diff.json')
    r = run([args.linger, 'report', '--diff', '--format=json', '-o', diff_out, trace, trace])
    check(r.returncode == 0 and json.load(open(diff_out)).get('before') is not None, '--diff -o: no diff in the file')
    missing = os.path.join(workdir, 'missing.trace')
    untouched = os.path.join(workdir, 'untouched.html')
    with open(untouched, 'w') as f:
        f.write('keep')
    r = run([args.linger, 'report', '--format=html', '-o', untouched, missing])
    check(r.returncode == 1 and open(untouched).read() == 'keep',
          'a trace that cannot be read must leave -o FILE alone (exit %d)' % r.returncode)
    r = run([args.linger, 'report', '--format=png', trace])
    check(r.returncode == 2 and b'linger: error: unknown report format' in r.stderr,
          'unknown format: exit %d, stderr %r' % (r.returncode, r.stderr))


def check_html_blocks(args, name, trace, data):
    html = report(args, trace, '--format=html').decode('utf-8')
    check(html.count('</script>') == 3, '%s: the page has %d "</script>", not 3 (its own blocks)'
          % (name, html.count('</script>')))
    check('<!--' not in html.split('<script type="application/json"', 1)[1].split('<script>', 1)[0],
          '%s: "<!--" inside a data block' % name)
    blocks = re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html, re.S)
    check([b[0] for b in blocks] == ['linger-report', 'linger-graphs'], '%s: data blocks %r' % (name, blocks))
    embedded = json.loads(blocks[0][1])
    check(embedded == data, '%s: the embedded report differs from --format=json' % name)
    graphs = json.loads(blocks[1][1])
    check(len(graphs) == len(data['findings']), '%s: %d graphs for %d findings' % (name, len(graphs), len(data['findings'])))
    for i, (g, f) in enumerate(zip(graphs, data['findings'])):
        if 'objects' in f:
            check(g['path_matched'], '%s: finding %d: the objects found do not render as its path' % (name, i))
            if f.get('held_by'):
                check(g['held_by_matched'], '%s: finding %d: held_by not found in the graph' % (name, i))
        for e in g['edges']:
            check(0 <= e['from'] < len(g['nodes']) and 0 <= e['to'] < len(g['nodes']),
                  '%s: finding %d: an edge to no node' % (name, i))
    for bad in ('http://', 'https://', '@import', 'src="', "src='"):
        rest = html.replace('http://www.w3.org/2000/svg', '')
        check(bad not in rest, '%s: the page refers to something outside it (%s)' % (name, bad))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--linger', required=True)
    ap.add_argument('--python', required=True)
    ap.add_argument('--hostile', required=True)
    ap.add_argument('--samples', required=True)
    args = ap.parse_args()
    args.linger = os.path.abspath(args.linger)
    args.dot = shutil.which('dot')
    if args.dot is None:
        print('skip: Graphviz dot not found')
        return SKIP

    workdir = tempfile.mkdtemp(prefix='linger-pictures-')
    try:
        s = lambda n: os.path.join(os.path.abspath(args.samples), n + '.py')
        cases = [
            # name, program, linger run options, what the dot text must hold
            ('bound_method_cycle_live', s('bound_method_cycle_live'), (),
             ['shape=hexagon', 'label=".__self__"', 'label=".check"', 'peripheries=2']),
            ('finalize_bound_method', s('finalize_bound_method'), (),
             ['shape=octagon', 'style=dashed', 'label="referent"', '"weakref.finalize"']),
            ('weakref_callback_keepalive_closure', s('weakref_callback_keepalive_closure'), (),
             ['style=dashed', 'label="closure']),
            ('weak_container_keepalive_keydict', s('weak_container_keepalive_keydict'), (), ['style=dashed']),
            ('reference_cycle_garbage', s('reference_cycle_garbage'), (), []),
            ('resurrected_del', s('resurrected_del'), (), ['defines __del__']),
            ('uncollectable_saveall', s('uncollectable_saveall'), (), []),
            ('hostile', os.path.abspath(args.hostile), (), []),
            # Only the findings of allocation tracking, and none at all.
            ('alloc_only', s('hello_clean'), (), []),
            ('empty', s('hello_clean'), ('--no-alloc',), []),
        ]
        checked = {}
        for name, program, extra, expect in cases:
            trace = make_trace(args, workdir, name, program, extra)
            result = check_trace(args, workdir, name, trace, expect)
            if result is None:
                continue
            data, dot_text, svg_bytes = result
            checked[name] = (trace, data, dot_text, svg_bytes)
            check_html_blocks(args, name, trace, data)
            print('ok: %s: %d findings, %d clusters' % (name, len(data['findings']),
                                                        dot_text.count('subgraph cluster_')))

        if 'empty' in checked:
            check(len(checked['empty'][1]['findings']) == 0, 'empty: the clean program without '
                  'allocation tracking has findings')
        if 'alloc_only' in checked:
            kinds = {f['kind'] for f in checked['alloc_only'][1]['findings']}
            check(kinds <= {'leak', 'gc-collected'}, 'alloc_only: unexpected kinds %r' % kinds)

        if 'hostile' in checked:
            trace, data, dot_text, svg_bytes = checked['hostile']
            kinds = [f['kind'] for f in data['findings']]
            check('bound-method-cycle' in kinds and 'reference-cycle' in kinds,
                  'hostile: expected a bound-method-cycle and a reference-cycle, got %r' % kinds)
            # The labels come back from Graphviz as they were: quotes,
            # backslashes and "</script>" as text, the newline a line break.
            texts = [t.text or '' for t in ET.fromstring(svg_bytes).iter(SVG_NS + 'text')]
            joined = '\n'.join(texts)
            check('__main__.Evil"Name\\ </script><script>window.__linger_pwned = 1</script><!--' in joined,
                  'hostile: the class name does not come back intact from dot: %r' % texts[:8])
            check(any(t.startswith('line two caf\u00e9 \u2603') for t in texts),
                  'hostile: the line after the newline is not its own line')
            check("['call\"back\\" in joined, 'hostile: the dict key with a quote and a backslash is lost')
            check(re.search(r'[\x00-\x08\x0b-\x1f]', dot_text) is None, 'hostile: a control character in the dot text')

        # Many findings (--all): only the first 200 are drawn, and said so.
        many = os.path.join(workdir, 'many.py')
        with open(many, 'w') as f:
            f.write('class C:\n    def __init__(self):\n        self.cb = self.m\n'
                    '    def m(self):\n        pass\n\nkeep = [C() for _ in range(230)]\n')
        trace = make_trace(args, workdir, 'many', many, ['--no-alloc'])
        n = len(json.loads(report(args, trace, '--all', '--format=json'))['findings'])
        dot_text = report(args, trace, '--all', '--format=dot').decode()
        check(n >= 230 and dot_text.count('subgraph cluster_') == 200,
              'many: %d clusters for %d findings, expected 200' % (dot_text.count('subgraph cluster_'), n))
        check('%d findings, the first 200 drawn' % n in dot_text, 'many: the title does not say what is left out')
        print('ok: many: %d findings, 200 clusters' % n)

        if 'finalize_bound_method' in checked:
            check_svg_and_output(args, workdir, checked['finalize_bound_method'][0])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print('%d failure(s)' % len(failures))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
