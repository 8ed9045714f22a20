#!/usr/bin/python3
"""check_html_chromium.py: `linger report --format=html` in a real browser.

Drives a headless Chromium through chromedriver with the W3C WebDriver
HTTP protocol (standard library only).  For each trace: the page loads
from file:// with no console error, has one table row per finding of the
JSON report, a click on a row shows its details, a click on the retained
header sorts the rows by retained size, hovering a node of the graph
shows its details, the wheel zooms and a drag pans it, the icicle of sizes
by site is drawn, a trace cut short is flagged, and a screenshot is a real
PNG (build/tests/html-report*.png).
The hostile-names trace checks that a "</script>" in a type name or a key
ends no <script> block: the script it carries never runs.

Exit status 77 (skipped) without chromium or chromedriver.

Usage: check_html_chromium.py --linger build/linger --python /usr/bin/python3
           --hostile tests/pictures/hostile_names.py --sample samples/python/X.py
           --clean samples/python/hello_clean.py --out-dir build/tests
"""
import argparse
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
ELEMENT = 'element-6066-11e4-a52e-4f735466cecf'

# Runs before the page's own script (Page.addScriptToEvaluateOnNewDocument)
# when the browser log cannot be read: collects errors the page throws.
ERROR_COLLECTOR = """
window.__linger_errors = [];
window.addEventListener('error', function (e) { window.__linger_errors.push(String(e.message)); });
window.addEventListener('unhandledrejection', function (e) { window.__linger_errors.push(String(e.reason)); });
"""


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


class WebDriver:
    def __init__(self, chromedriver, chromium, workdir):
        self.port = free_port()
        self.log = open(os.path.join(workdir, 'chromedriver.log'), 'w')
        self.proc = subprocess.Popen([chromedriver, '--port=%d' % self.port],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.base = 'http://127.0.0.1:%d' % self.port
        self.session = None
        deadline = time.time() + 20
        while True:
            try:
                status = self.request('GET', '/status')
                if status.get('ready', True):
                    break
            except (OSError, urllib.error.URLError):
                pass
            if time.time() > deadline:
                raise Failure('chromedriver did not start on port %d' % self.port)
            time.sleep(0.1)
        caps = {
            'capabilities': {
                'alwaysMatch': {
                    'browserName': 'chrome',
                    'goog:chromeOptions': {
                        'binary': chromium,
                        'args': ['--headless=new', '--no-sandbox', '--disable-gpu',
                                 '--window-size=1280,1000',
                                 '--user-data-dir=' + os.path.join(workdir, 'profile')],
                    },
                    'goog:loggingPrefs': {'browser': 'ALL'},
                }
            }
        }
        value = self.request('POST', '/session', caps)
        self.session = value['sessionId']
        self.logs_supported = None

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        if method == 'POST' and data is None:
            data = b'{}'
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                payload = json.loads(resp.read().decode() or '{}')
        except urllib.error.HTTPError as e:
            payload = json.loads(e.read().decode() or '{}')
            value = payload.get('value', {})
            raise Failure('WebDriver %s %s: %s' % (method, path,
                          value.get('message', value) if isinstance(value, dict) else value))
        return payload.get('value', payload)

    def s(self, method, path, body=None):
        return self.request(method, '/session/%s%s' % (self.session, path), body)

    def run(self, script, *args):
        return self.s('POST', '/execute/sync', {'script': script, 'args': list(args)})

    def find(self, css):
        found = self.s('POST', '/element', {'using': 'css selector', 'value': css})
        check(isinstance(found, dict) and ELEMENT in found, 'no element %s: %r' % (css, found))
        return found[ELEMENT]

    def click(self, element):
        self.s('POST', '/element/%s/click' % element)

    def displayed(self, element):
        return self.s('GET', '/element/%s/displayed' % element)

    def pointer(self, actions):
        """W3C actions of one mouse (pointerMove, pointerDown, ...)."""
        self.s('POST', '/actions', {'actions': [
            {'type': 'pointer', 'id': 'mouse', 'parameters': {'pointerType': 'mouse'}, 'actions': actions}]})
        self.s('DELETE', '/actions')

    def wheel(self, element, delta_y):
        self.s('POST', '/actions', {'actions': [
            {'type': 'wheel', 'id': 'wheel', 'actions': [
                {'type': 'scroll', 'x': 0, 'y': 0, 'deltaX': 0, 'deltaY': delta_y,
                 'origin': {ELEMENT: element}}]}]})

    def browser_log(self):
        """The browser's console entries, or None if chromedriver cannot
        give them (then the error collector is the check)."""
        for path in ('/se/log', '/log'):
            try:
                entries = self.s('POST', path, {'type': 'browser'})
                self.logs_supported = path
                return entries
            except Failure:
                continue
        return None

    def cdp(self, cmd, params):
        return self.s('POST', '/goog/cdp/execute', {'cmd': cmd, 'params': params})

    def close(self):
        try:
            if self.session is not None:
                self.s('DELETE', '')
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def make_trace(args, workdir, name, script, extra=()):
    trace = os.path.join(workdir, name + '.trace')
    cmd = [args.linger, 'run'] + list(extra) + ['-o', trace, args.python, script]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=workdir)
    check(os.path.exists(trace), '%s: no trace written: %s' % (' '.join(cmd), r.stderr))
    return trace


def report(args, trace, fmt, output=None):
    cmd = [args.linger, 'report', '--format=' + fmt, trace]
    if output:
        cmd += ['-o', output]
    r = subprocess.run(cmd, capture_output=True, timeout=120)
    check(r.returncode == 0, '%s exited %d: %s' % (' '.join(cmd), r.returncode, r.stderr.decode(errors='replace')))
    return r.stdout


def png_size(data):
    check(data[:8] == b'\x89PNG\r\n\x1a\n', 'the screenshot is not a PNG')
    check(data[12:16] == b'IHDR', 'the screenshot PNG has no IHDR chunk')
    return struct.unpack('>II', data[16:24])


def check_graph_interaction(wd, name):
    """Hover shows a node's details; the wheel zooms, a drag pans."""
    transform = 'return document.getElementById("viewport").getAttribute("transform");'
    node = wd.find('#graph .node')
    wd.run('arguments[0].scrollIntoView({block: "center"});', {ELEMENT: node})
    wd.pointer([{'type': 'pointerMove', 'duration': 0, 'origin': {ELEMENT: node}, 'x': 0, 'y': 0}])
    tip = wd.find('#tooltip')
    check(wd.displayed(tip), '%s: hovering a node shows no details' % name)
    text = wd.run('return document.getElementById("tooltip").textContent;')
    label = wd.run('return arguments[0].querySelector("text").textContent;', {ELEMENT: node})
    check(text.split('\n')[0][:20] == label[:20], '%s: the details %r are not those of the node %r'
          % (name, text, label))
    before = wd.run(transform)
    wd.wheel(wd.find('#graph'), -300)
    zoomed = wd.run(transform)
    check(zoomed != before and 'scale(' in zoomed, '%s: the wheel did not zoom (%r -> %r)' % (name, before, zoomed))
    box = wd.find('#graph')
    wd.run('arguments[0].scrollIntoView({block: "center"});', {ELEMENT: box})
    wd.pointer([{'type': 'pointerMove', 'duration': 0, 'origin': {ELEMENT: box}, 'x': 0, 'y': 100},
                {'type': 'pointerDown', 'button': 0},
                {'type': 'pointerMove', 'duration': 50, 'origin': 'pointer', 'x': 60, 'y': 30},
                {'type': 'pointerUp', 'button': 0}])
    panned = wd.run(transform)
    check(panned != zoomed, '%s: a drag did not pan (%r)' % (name, panned))


def check_page(wd, args, workdir, name, trace, hostile=False, screenshot=None, incomplete=False,
               expect_none=False):
    page = os.path.join(workdir, name + '.html')
    report(args, trace, 'html', page)
    data = json.loads(report(args, trace, 'json'))
    n = len(data['findings'])
    if expect_none:
        check(n == 0, '%s: %d findings, expected none' % (name, n))
    html = open(page, 'rb').read()
    check(b'http://' not in html.replace(b'http://www.w3.org/2000/svg', b'')
          and b'https://' not in html, '%s: the page refers to the network' % name)

    wd.s('POST', '/url', {'url': 'file://' + os.path.abspath(page)})
    deadline = time.time() + 20
    while wd.run('return document.body && document.body.getAttribute("data-ready");') != 'true':
        check(time.time() < deadline, '%s: the page script never finished (data-ready unset)' % name)
        time.sleep(0.1)

    title = wd.s('GET', '/title')
    check(title.startswith('linger: '), '%s: unexpected title %r' % (name, title))
    rows = wd.run('return document.querySelectorAll("#findings tbody tr.finding").length;')
    check(rows == n, '%s: %d table rows, the JSON report has %d findings' % (name, rows, n))

    errors = wd.run('return window.__linger_errors || [];')
    check(errors == [], '%s: errors thrown in the page: %r' % (name, errors))
    log = wd.browser_log()
    if log is not None:
        severe = [e for e in log if e.get('level') == 'SEVERE']
        check(not severe, '%s: SEVERE console entries: %r' % (name, severe))

    warning = wd.find('#incomplete')
    check(wd.displayed(warning) == incomplete, '%s: the incomplete-trace warning is %s' %
          (name, 'missing' if incomplete else 'shown for a complete trace'))

    if hostile:
        pwned = wd.run('return typeof window.__linger_pwned;')
        check(pwned == 'undefined', '%s: a "</script>" from the trace ran a script' % name)
        scripts = wd.run('return document.scripts.length;')
        check(scripts == 3, '%s: %d <script> elements, the page has 3' % (name, scripts))
        text = wd.run('return document.querySelector("#findings tbody").textContent;')
        check('</script><script>window.__linger_pwned' in text,
              '%s: the hostile type name is not shown as text' % name)

    if n > 0:
        first = wd.find('#findings tbody tr.finding')
        index = wd.run('return arguments[0].getAttribute("data-index");', {ELEMENT: first})
        det = wd.find('#findings tbody tr.details[data-index="%s"]' % index)
        check(not wd.displayed(det), '%s: details shown before any click' % name)
        wd.click(first)
        check(wd.displayed(det), '%s: details not shown after a click on the row' % name)
        cls = wd.run('return arguments[0].className;', {ELEMENT: first})
        check('expanded' in cls.split(), '%s: the clicked row is not marked expanded (%r)' % (name, cls))
        nodes = wd.run('return document.querySelectorAll("#graph .node").length;')
        f = data['findings'][int(index)]
        if 'objects' in f:
            check(nodes >= 1, '%s: no node drawn in the retention graph' % name)
            check_graph_interaction(wd, name)
        cells = wd.run('return document.querySelectorAll("#icicle rect").length;')
        if any((g.get('retained_bytes') or g.get('bytes') or 0) > 0 for g in data['findings']):
            check(cells >= 2, '%s: the icicle of sizes by site has %d boxes' % (name, cells))

        order = 'return Array.from(document.querySelectorAll("#findings tbody tr.finding"))' \
                '.map(function (r) { return Number(r.getAttribute("data-retained")); });'
        before = wd.run(order)
        wd.click(wd.find('#retained-header'))
        after = wd.run(order)
        check(sorted(after, reverse=True) == after, '%s: not sorted by retained size, largest first: %r'
              % (name, after))
        check(sorted(before) == sorted(after), '%s: rows lost in sorting' % name)
        wd.click(wd.find('#retained-header'))
        again = wd.run(order)
        check(sorted(again) == again, '%s: a second click does not sort smallest first: %r' % (name, again))
        if len(set(before)) > 1:
            check(again != after, '%s: the order did not change' % name)

    if screenshot:
        shot = base64.b64decode(wd.s('GET', '/screenshot'))
        width, height = png_size(shot)
        check(width >= 400 and height >= 300 and len(shot) > 10000,
              '%s: screenshot too small (%dx%d, %d bytes)' % (name, width, height, len(shot)))
        with open(screenshot, 'wb') as f:
            f.write(shot)
        # The two drawings, as the page draws them.
        for section in ('graph-box', 'sites-section'):
            shot = base64.b64decode(wd.s('GET', '/element/%s/screenshot' % wd.find('#' + section)))
            png_size(shot)
            with open(screenshot.replace('.png', '-%s.png' % section), 'wb') as f:
                f.write(shot)
    print('ok: %s (%d findings)' % (name, n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--linger', required=True)
    ap.add_argument('--python', required=True)
    ap.add_argument('--hostile', required=True)
    ap.add_argument('--sample', action='append', default=[])
    ap.add_argument('--clean', required=True, help='a program with no finding without allocation tracking')
    ap.add_argument('--out-dir', required=True)
    args = ap.parse_args()
    args.linger = os.path.abspath(args.linger)
    args.hostile = os.path.abspath(args.hostile)
    args.clean = os.path.abspath(args.clean)
    args.sample = [os.path.abspath(s) for s in args.sample]

    chromium = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
    chromedriver = shutil.which('chromedriver')
    if chromium is None or chromedriver is None:
        print('skip: chromium or chromedriver not found')
        return SKIP

    os.makedirs(args.out_dir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix='linger-html-')
    wd = None
    try:
        traces = [(os.path.splitext(os.path.basename(s))[0], make_trace(args, workdir,
                   os.path.splitext(os.path.basename(s))[0], s)) for s in args.sample]
        hostile = make_trace(args, workdir, 'hostile', args.hostile)
        # No allocation tracking and a clean program: no finding at all;
        # with it: only the findings of allocation tracking.
        empty = make_trace(args, workdir, 'empty', args.clean, ['--no-alloc'])

        wd = WebDriver(chromedriver, chromium, workdir)
        # Errors thrown by the page, whether or not the log can be read.
        try:
            wd.cdp('Page.addScriptToEvaluateOnNewDocument', {'source': ERROR_COLLECTOR})
        except Failure as e:
            print('note: no CDP, errors only from the browser log (%s)' % e)
        for i, (name, trace) in enumerate(traces):
            check_page(wd, args, workdir, name, trace,
                       screenshot=os.path.join(args.out_dir, 'html-report.png') if i == 0 else None)
        check_page(wd, args, workdir, 'hostile', hostile, hostile=True,
                   screenshot=os.path.join(args.out_dir, 'html-report-hostile.png'))
        check_page(wd, args, workdir, 'empty', empty, expect_none=True)
        # A trace cut short (the program killed while it was written).
        cut = os.path.join(workdir, 'cut.trace')
        with open(traces[0][1] if traces else hostile, 'rb') as f:
            whole = f.read()
        with open(cut, 'wb') as f:
            f.write(whole[:len(whole) * 2 // 3])
        check_page(wd, args, workdir, 'cut', cut, incomplete=True)
        print('browser log read through %s' % (wd.logs_supported or 'the error collector only'))
    except Failure as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        if wd is not None:
            wd.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
