/* linger_report.js: the page of `linger report --format=html`.
 *
 * Plain DOM, no library: the page is one file that must work from file://
 * with no network.  Everything from the trace (type names, keys, paths)
 * goes into the page as text nodes, never as markup.
 */
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';
  var report = JSON.parse(document.getElementById('linger-report').textContent);
  var graphs = JSON.parse(document.getElementById('linger-graphs').textContent);
  var findings = report.findings || [];
  var SEVERITY_RANK = { error: 0, warning: 1, info: 2 };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    }
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    return e;
  }

  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    }
    return e;
  }

  /* "512 bytes", "12.5 KiB": as the text report says sizes. */
  function bytes(n) {
    var units = ['KiB', 'MiB', 'GiB', 'TiB'];
    var u = -1;
    if (n < 10 * 1024) {
      return n + ' bytes';
    }
    while (n >= 1024 && u < units.length - 1) {
      n /= 1024;
      u++;
    }
    return n.toFixed(1) + ' ' + units[u];
  }

  function shortType(type) {
    if (!type) {
      return '';
    }
    var dot = type.lastIndexOf('.');
    return dot >= 0 && dot < type.length - 1 ? type.slice(dot + 1) : type;
  }

  /* --- what a finding is, whatever its kind ------------------------------ */

  function isAllocFinding(f) {
    return !f.objects;
  }

  function findingType(f) {
    if (f.kind === 'leak') {
      return 'native memory';
    }
    if (isAllocFinding(f)) {
      return f.type || '?';
    }
    return f.objects.length > 0 ? f.objects[0].type : '?';
  }

  function findingCount(f) {
    if (f.kind === 'leak') {
      return f.blocks || 0;
    }
    return f.count || 0;
  }

  function findingBytes(f) {
    if (isAllocFinding(f)) {
      return f.bytes || 0;
    }
    return f.retained_bytes || 0;
  }

  function siteText(at) {
    if (!at) {
      return null;
    }
    var where = at.file ? at.file.split('/').pop() + (at.line ? ':' + at.line : '') : '?';
    return at.function ? where + ' (' + at.function + ')' : where;
  }

  function frameText(fr) {
    var where = fr.file ? fr.file + (fr.line ? ':' + fr.line : '') : (fr.module || fr.address || '?');
    return (fr.function || '?') + '  ' + where;
  }

  /* --- header ------------------------------------------------------------ */

  function fillHeader() {
    var t = report.trace || {};
    var dl = document.getElementById('summary');
    var total = 0;
    var rows = [
      ['trace', t.path],
      ['program', (t.program || '?') + (t.argv && t.argv.length > 1 ? '  ' + t.argv.slice(1).join(' ') : '')],
      ['pid', t.pid],
      ['python', t.python || 'unknown'],
      ['snapshot', t.snapshot ? '#' + t.snapshot.id + ' (' + t.snapshot.reason + '), ' + t.objects + ' objects'
        : 'none'],
      ['live', (t.live_objects || 0) + ' objects, ' + bytes(t.live_bytes || 0)],
      ['garbage', (t.garbage_objects || 0) + ' objects, ' + bytes(t.garbage_bytes || 0)]
    ];
    findings.forEach(function (f) { total += findingBytes(f); });
    rows.push(['findings', findings.length + (findings.length ? ', ' + bytes(total) + ' retained or allocated' : '')]);
    rows.forEach(function (r) {
      dl.appendChild(el('dt', null, r[0]));
      dl.appendChild(el('dd', null, r[1] === undefined || r[1] === null ? '' : r[1]));
    });
    if (t.complete === false || (t.snapshot && t.snapshot.partial)) {
      var warn = document.getElementById('incomplete');
      warn.textContent = 'Incomplete trace: ' + (t.incomplete_reason || 'the snapshot is partial') +
        '. Findings may be missing.';
      warn.hidden = false;
    }
    document.getElementById('footer').textContent = 'linger ' + report.linger_version +
      ', trace format ' + t.format_version;
  }

  /* --- the findings table ------------------------------------------------ */

  var tbody = document.querySelector('#findings tbody');
  var rowsByIndex = [];
  var sortState = { key: null, desc: false };

  function pathList(steps) {
    var ol = el('ol', { 'class': 'path' });
    steps.forEach(function (s) { ol.appendChild(el('li', null, s)); });
    return ol;
  }

  function stackList(at) {
    var ul = el('ul', { 'class': 'stack mono' });
    (at.stack || []).forEach(function (fr) { ul.appendChild(el('li', null, frameText(fr))); });
    if (!at.stack || at.stack.length === 0) {
      ul.appendChild(el('li', null, siteText(at)));
    }
    return ul;
  }

  function details(f) {
    var box = el('div', { 'class': 'details' });
    var h = function (text) { box.appendChild(el('h4', null, text)); };
    if (f.state) {
      box.appendChild(el('p', null, 'State: ' + f.state));
    }
    if (f.path && f.path.length) {
      h(f.kind.indexOf('cycle') >= 0 ? 'Cycle' : 'Path');
      box.appendChild(pathList(f.path));
    }
    if (f.held_by) {
      h('Held by (root: ' + (f.held_by_root || '?') + ')');
      box.appendChild(pathList(f.held_by));
    }
    if (f.example) {
      h('A cycle of them');
      box.appendChild(el('p', { 'class': 'mono' }, f.example));
    }
    if (f.hint) {
      h('Hint');
      box.appendChild(el('p', { 'class': 'hint' }, f.hint));
    }
    var stacks = [];
    if (f.objects) {
      f.objects.forEach(function (o) {
        if (o.allocated_at && (o.allocated_at.file || (o.allocated_at.stack || []).length)) {
          stacks.push([shortType(o.type) + ' ' + o.address + ', ' + bytes(o.size), o.allocated_at]);
        }
      });
    } else if (f.allocated_at) {
      stacks.push([f.kind === 'leak' ? 'allocated' : findingType(f), f.allocated_at]);
    }
    if (stacks.length) {
      h('Allocation stacks');
      stacks.forEach(function (s) {
        box.appendChild(el('p', null, s[0]));
        box.appendChild(stackList(s[1]));
      });
    } else if (f.objects) {
      h('Objects');
      var ul = el('ul', { 'class': 'mono' });
      f.objects.forEach(function (o) {
        ul.appendChild(el('li', null, o.type + ' ' + o.address + ', ' + bytes(o.size)));
      });
      box.appendChild(ul);
    }
    return box;
  }

  function buildTable() {
    findings.forEach(function (f, i) {
      var tr = el('tr', {
        'class': 'finding',
        'data-index': i,
        'data-retained': findingBytes(f),
        'tabindex': '0'
      });
      tr.appendChild(el('td', { 'class': 'num' }, i + 1));
      tr.appendChild(el('td', null, f.kind));
      tr.appendChild(el('td', { 'class': 'sev sev-' + f.severity }, f.severity));
      tr.appendChild(el('td', { 'class': 'type mono' }, findingType(f)));
      tr.appendChild(el('td', { 'class': 'num' }, findingCount(f)));
      tr.appendChild(el('td', { 'class': 'num', 'title': findingBytes(f) + ' bytes' }, bytes(findingBytes(f))));
      var more = el('tr', { 'class': 'details', 'data-index': i });
      more.hidden = true;
      /* Filled on first opening: a trace reported with --all can have
       * thousands of findings. */
      more.appendChild(el('td', { colspan: '6' }));
      tr.addEventListener('click', function () { toggle(i); });
      tr.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          toggle(i);
        }
      });
      rowsByIndex[i] = [tr, more];
      tbody.appendChild(tr);
      tbody.appendChild(more);
    });
    document.getElementById('findings-count').textContent = '(' + findings.length + ')';
    if (findings.length === 0) {
      document.getElementById('no-findings').hidden = false;
      document.getElementById('findings').hidden = true;
    }
  }

  function toggle(i) {
    var rows = rowsByIndex[i];
    var open = rows[1].hidden;
    if (open && !rows[1].firstChild.firstChild) {
      rows[1].firstChild.appendChild(details(findings[i]));
    }
    rows[1].hidden = !open;
    rows[0].classList.toggle('expanded', open);
    if (open) {
      drawGraph(i);
    }
  }

  function sortValue(f, key) {
    switch (key) {
      case 'kind': return f.kind;
      case 'severity': return SEVERITY_RANK[f.severity];
      case 'type': return findingType(f);
      case 'count': return findingCount(f);
      default: return findingBytes(f);
    }
  }

  function sortBy(key) {
    var numeric = key === 'count' || key === 'retained';
    if (sortState.key === key) {
      sortState.desc = !sortState.desc;
    } else {
      sortState.key = key;
      /* Sizes and counts: largest first. */
      sortState.desc = numeric;
    }
    var order = findings.map(function (f, i) { return i; });
    order.sort(function (a, b) {
      var va = sortValue(findings[a], key);
      var vb = sortValue(findings[b], key);
      var c = va < vb ? -1 : va > vb ? 1 : 0;
      if (sortState.desc) {
        c = -c;
      }
      return c !== 0 ? c : a - b;
    });
    order.forEach(function (i) {
      tbody.appendChild(rowsByIndex[i][0]);
      tbody.appendChild(rowsByIndex[i][1]);
    });
    document.querySelectorAll('#findings th.sortable').forEach(function (th) {
      th.classList.remove('sorted-asc', 'sorted-desc');
      if (th.getAttribute('data-key') === key) {
        th.classList.add(sortState.desc ? 'sorted-desc' : 'sorted-asc');
      }
    });
  }

  document.querySelectorAll('#findings th.sortable').forEach(function (th) {
    th.addEventListener('click', function () { sortBy(th.getAttribute('data-key')); });
  });

  /* --- the retention graph ----------------------------------------------- */

  var graphSvg = document.getElementById('graph');
  var tooltip = document.getElementById('tooltip');
  var view = { x: 20, y: 20, k: 1 };
  var viewport = null;

  function applyView() {
    if (viewport) {
      viewport.setAttribute('transform', 'translate(' + view.x + ',' + view.y + ') scale(' + view.k + ')');
    }
  }

  /* Layers from the sources (no incoming edge; node 0 if none) along the
   * edges of a depth-first tree, back edges left out: a cycle becomes a
   * row with one edge returning to its start. */
  function layout(g) {
    var n = g.nodes.length;
    var out = [];
    var indeg = [];
    var i;
    for (i = 0; i < n; i++) {
      out.push([]);
      indeg.push(0);
    }
    g.edges.forEach(function (e, k) {
      out[e.from].push(k);
      indeg[e.to]++;
    });
    var state = new Array(n).fill(0);
    var back = {};
    function dfs(v) {
      var stack = [[v, 0]];
      state[v] = 1;
      while (stack.length) {
        var top = stack[stack.length - 1];
        if (top[1] < out[top[0]].length) {
          var k = out[top[0]][top[1]++];
          var w = g.edges[k].to;
          if (state[w] === 1) {
            back[k] = true;
          } else if (state[w] === 0) {
            state[w] = 1;
            stack.push([w, 0]);
          }
        } else {
          state[top[0]] = 2;
          stack.pop();
        }
      }
    }
    for (i = 0; i < n; i++) {
      if (indeg[i] === 0 && state[i] === 0) {
        dfs(i);
      }
    }
    for (i = 0; i < n; i++) {
      if (state[i] === 0) {
        dfs(i);
      }
    }
    var layer = new Array(n).fill(0);
    for (var round = 0; round < n; round++) {
      var changed = false;
      g.edges.forEach(function (e, k) {
        if (!back[k] && layer[e.to] < layer[e.from] + 1) {
          layer[e.to] = layer[e.from] + 1;
          changed = true;
        }
      });
      if (!changed) {
        break;
      }
    }
    var rows = {};
    var pos = [];
    for (i = 0; i < n; i++) {
      rows[layer[i]] = (rows[layer[i]] || 0);
      pos.push({ layer: layer[i], row: rows[layer[i]]++ });
    }
    return { pos: pos, back: back };
  }

  function secondLine(node) {
    var line = node.kind === 'object' ? bytes(node.size) + (node.site ? ' \u00b7 ' + node.site : '') : '';
    if (node.root) {
      line = 'root: ' + node.root + (line ? ' \u00b7 ' + line : '');
    }
    return line;
  }

  function nodeWidth(node) {
    var longest = Math.max(node.text.length, secondLine(node).length * 0.95, 12);
    return Math.min(300, 24 + longest * 6.4);
  }

  function nodeTooltip(node) {
    var lines = [node.text];
    if (node.kind === 'object') {
      lines.push('type: ' + node.type);
      lines.push('address: ' + node.address);
      lines.push('size: ' + bytes(node.size) + (node.retained > node.size ? ', retains ' + bytes(node.retained) : ''));
      if (node.site) {
        lines.push('allocated at ' + node.site);
      }
      if (node.has_del) {
        lines.push('defines __del__');
      }
    }
    if (node.root) {
      lines.push('root: ' + node.root);
    }
    if (node.kept) {
      lines.push('the object this finding is about');
    }
    return lines.join('\n');
  }

  function nodeShape(node, w, h) {
    var style = { fill: '#ffffff', stroke: '#444444' };
    var shape;
    if (node.kind === 'text') {
      style = { fill: '#f2f3f4', stroke: '#999999' };
    }
    if (node.finalizer) {
      style = { fill: '#fdebd0', stroke: '#ca6f1e' };
      var c = 10;
      shape = svgEl('polygon', {
        points: [c, 0, w - c, 0, w, c, w, h - c, w - c, h, c, h, 0, h - c, 0, c].join(' ')
      });
    } else if (node.method) {
      style = { fill: '#d6eaf8', stroke: '#2874a6' };
      shape = svgEl('polygon', { points: [12, 0, w - 12, 0, w, h / 2, w - 12, h, 12, h, 0, h / 2].join(' ') });
    } else if (node.function) {
      style = { fill: '#e9f7ef', stroke: '#444444' };
      shape = svgEl('ellipse', { cx: w / 2, cy: h / 2, rx: w / 2, ry: h / 2 });
    } else {
      shape = svgEl('rect', { width: w, height: h, rx: 6, ry: 6 });
      if (node.weakref) {
        shape.setAttribute('stroke-dasharray', '5 3');
      }
    }
    if (node.kept) {
      style.stroke = '#c0392b';
      if (style.fill === '#ffffff') {
        style.fill = '#fadbd8';
      }
      shape.setAttribute('stroke-width', '2.6');
    }
    shape.setAttribute('fill', style.fill);
    shape.setAttribute('stroke', style.stroke);
    return shape;
  }

  function cut(text, max) {
    return text.length > max ? text.slice(0, max - 1) + '\u2026' : text;
  }

  function emptyGraph(message) {
    var t = svgEl('text', { x: 20, y: 40, 'class': 'empty' });
    t.textContent = message;
    graphSvg.appendChild(t);
  }

  function drawGraph(index) {
    var g = graphs[index];
    var f = findings[index];
    while (graphSvg.firstChild) {
      graphSvg.removeChild(graphSvg.firstChild);
    }
    viewport = null;
    document.getElementById('graph-title').textContent = '\u2014 #' + (index + 1) + ' ' + f.kind +
      ' (' + f.severity + ')';
    if (!g || g.nodes.length === 0) {
      emptyGraph(isAllocFinding(f) ? 'This finding comes from allocation tracking: it has no objects to draw.'
        : 'Nothing to draw for this finding.');
      return;
    }
    var defs = svgEl('defs');
    [['arrow-path', '#c0392b'], ['arrow-held', '#566573'], ['arrow-cb', '#8e44ad']].forEach(function (m) {
      var marker = svgEl('marker', {
        id: m[0], viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto'
      });
      marker.appendChild(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', fill: m[1] }));
      defs.appendChild(marker);
    });
    graphSvg.appendChild(defs);
    viewport = svgEl('g', { id: 'viewport' });
    graphSvg.appendChild(viewport);

    var lay = layout(g);
    var colWidth = 0;
    g.nodes.forEach(function (node) { colWidth = Math.max(colWidth, nodeWidth(node)); });
    colWidth += 70;
    var H = 46;
    var rowHeight = 92;
    var box = g.nodes.map(function (node, i) {
      var w = nodeWidth(node);
      var p = lay.pos[i];
      return { x: p.layer * colWidth, y: p.row * rowHeight, w: w, h: H };
    });

    var edgeLayer = svgEl('g');
    var nodeLayer = svgEl('g');
    viewport.appendChild(edgeLayer);
    viewport.appendChild(nodeLayer);

    g.edges.forEach(function (e, k) {
      var a = box[e.from];
      var b = box[e.to];
      var color = e.ref === 'callback' ? '#8e44ad' : e.part === 'path' ? '#c0392b' : '#566573';
      var marker = e.ref === 'callback' ? 'arrow-cb' : e.part === 'path' ? 'arrow-path' : 'arrow-held';
      var d;
      var lx;
      var ly;
      if (lay.back[k] || b.x <= a.x) {
        /* Back to an earlier column: an arc below the row. */
        var x1 = a.x + a.w / 2;
        var x2 = b.x + b.w / 2;
        var y = Math.max(a.y, b.y) + H;
        var dip = y + 36 + Math.abs(x1 - x2) * 0.08;
        d = 'M' + x1 + ',' + (a.y + H) + ' C' + x1 + ',' + dip + ' ' + x2 + ',' + dip + ' ' + x2 + ',' + (b.y + H);
        lx = (x1 + x2) / 2;
        ly = dip - 4;
      } else {
        var sx = a.x + a.w;
        var sy = a.y + H / 2;
        var tx = b.x;
        var ty = b.y + H / 2;
        var mx = (sx + tx) / 2;
        d = 'M' + sx + ',' + sy + ' C' + mx + ',' + sy + ' ' + mx + ',' + ty + ' ' + tx + ',' + ty;
        lx = mx;
        ly = (sy + ty) / 2 - 5;
      }
      var path = svgEl('path', {
        d: d, fill: 'none', stroke: color, 'stroke-width': e.part === 'path' ? 1.8 : 1.3,
        'marker-end': 'url(#' + marker + ')', 'class': 'edge edge-' + e.ref + (e.text ? ' edge-text' : '')
      });
      if (e.ref === 'weak') {
        path.setAttribute('stroke-dasharray', '6 4');
      } else if (e.text) {
        path.setAttribute('stroke-dasharray', '2 3');
      }
      var title = svgEl('title');
      title.textContent = (e.ref === 'weak' ? 'weak reference ' : e.ref === 'callback' ? 'callback ' : '') + e.label;
      path.appendChild(title);
      edgeLayer.appendChild(path);
      if (e.label) {
        var label = svgEl('text', { x: lx, y: ly, 'text-anchor': 'middle', 'class': 'edge-label' });
        label.textContent = cut((e.ref === 'callback' ? 'callback ' : '') + e.label, 28);
        edgeLayer.appendChild(label);
      }
    });

    g.nodes.forEach(function (node, i) {
      var b = box[i];
      var grp = svgEl('g', { 'class': 'node', transform: 'translate(' + b.x + ',' + b.y + ')', 'data-node': i });
      grp.appendChild(nodeShape(node, b.w, b.h));
      if (node.root) {
        grp.appendChild(svgEl('rect', {
          x: -4, y: -4, width: b.w + 8, height: b.h + 8, rx: 8, ry: 8, fill: 'none', stroke: '#566573',
          'stroke-width': 1
        }));
      }
      var maxChars = Math.floor((b.w - 16) / 6.2);
      var t1 = svgEl('text', { x: b.w / 2, y: 18, 'text-anchor': 'middle', 'font-weight': node.kept ? 'bold' : 'normal' });
      t1.textContent = cut(node.text, maxChars);
      grp.appendChild(t1);
      var second = secondLine(node);
      var t2 = svgEl('text', { x: b.w / 2, y: 34, 'text-anchor': 'middle', fill: '#5d6d7e' });
      t2.textContent = cut(second, maxChars);
      grp.appendChild(t2);
      grp.addEventListener('mousemove', function (ev) { showTooltip(ev, nodeTooltip(node)); });
      grp.addEventListener('mouseleave', function () { tooltip.hidden = true; });
      nodeLayer.appendChild(grp);
    });
    view = { x: 20, y: 20, k: 1 };
    var width = graphSvg.clientWidth || 800;
    var extent = 0;
    box.forEach(function (b) { extent = Math.max(extent, b.x + b.w); });
    if (extent + 40 > width) {
      view.k = Math.max(0.3, (width - 40) / extent);
    }
    applyView();
  }

  function showTooltip(ev, text) {
    var rect = graphSvg.parentNode.getBoundingClientRect();
    tooltip.textContent = text;
    tooltip.hidden = false;
    tooltip.style.left = Math.min(ev.clientX - rect.left + 14, rect.width - 200) + 'px';
    tooltip.style.top = (ev.clientY - rect.top + 14) + 'px';
  }

  (function panZoom() {
    var drag = null;
    graphSvg.addEventListener('mousedown', function (ev) {
      drag = { x: ev.clientX - view.x, y: ev.clientY - view.y };
      graphSvg.classList.add('panning');
      ev.preventDefault();
    });
    window.addEventListener('mousemove', function (ev) {
      if (drag) {
        view.x = ev.clientX - drag.x;
        view.y = ev.clientY - drag.y;
        applyView();
      }
    });
    window.addEventListener('mouseup', function () {
      drag = null;
      graphSvg.classList.remove('panning');
    });
    graphSvg.addEventListener('wheel', function (ev) {
      var rect = graphSvg.getBoundingClientRect();
      var mx = ev.clientX - rect.left;
      var my = ev.clientY - rect.top;
      var k = Math.min(4, Math.max(0.15, view.k * (ev.deltaY < 0 ? 1.15 : 1 / 1.15)));
      /* Zoom around the pointer. */
      view.x = mx - (mx - view.x) * k / view.k;
      view.y = my - (my - view.y) * k / view.k;
      view.k = k;
      applyView();
      ev.preventDefault();
    }, { passive: false });
  })();

  /* --- size by allocation site: an icicle of the allocation stacks ------- */

  function stackOf(f) {
    var at = f.objects ? (f.objects.length ? f.objects[0].allocated_at : null) : f.allocated_at;
    if (!at) {
      return ['(no allocation site)'];
    }
    var frames = (at.stack || []).slice().reverse().map(frameText);
    if (frames.length === 0) {
      frames.push(siteText(at) || '?');
    }
    return frames;
  }

  function buildTree() {
    var root = { name: 'all', value: 0, children: {}, findings: [] };
    var anySite = false;
    findings.forEach(function (f, i) {
      var v = findingBytes(f);
      var node = root;
      if (v <= 0) {
        return;
      }
      var frames = stackOf(f);
      anySite = anySite || frames[0] !== '(no allocation site)';
      root.value += v;
      frames.concat([f.kind + ': ' + shortType(findingType(f))]).forEach(function (name) {
        if (!node.children[name]) {
          node.children[name] = { name: name, value: 0, children: {}, findings: [] };
        }
        node = node.children[name];
        node.value += v;
      });
      node.findings.push(i);
    });
    return { root: root, anySite: anySite };
  }

  function drawIcicle() {
    var svg = document.getElementById('icicle');
    var tree = buildTree();
    var allAlloc = findings.length > 0 && findings.every(isAllocFinding);
    var width = svg.clientWidth || 1000;
    var rowH = 22;
    var depth = 0;
    if (allAlloc) {
      document.getElementById('sites-title').textContent = 'Allocated size by allocation site';
    }
    if (tree.root.value === 0) {
      svg.setAttribute('height', 40);
      var t = svgEl('text', { x: 12, y: 25 });
      t.textContent = findings.length ? 'The findings retain no measured bytes.' : 'No findings.';
      svg.appendChild(t);
      return;
    }
    var palette = ['#f5b7b1', '#f9e79f', '#abebc6', '#aed6f1', '#d7bde2', '#fad7a0', '#a3e4d7', '#d5dbdb'];
    function draw(node, x, w, level) {
      depth = Math.max(depth, level + 1);
      var g = svgEl('g', { 'class': 'cell' });
      var rect = svgEl('rect', {
        x: x, y: level * rowH, width: Math.max(w, 0.5), height: rowH - 1,
        fill: level === 0 ? '#d5d8dc' : palette[(node.name.length + level) % palette.length]
      });
      var title = svgEl('title');
      title.textContent = node.name + '\n' + bytes(node.value) + ' (' +
        (100 * node.value / tree.root.value).toFixed(1) + '%)';
      rect.appendChild(title);
      g.appendChild(rect);
      if (w > 40) {
        var label = svgEl('text', { x: x + 4, y: level * rowH + 15 });
        label.textContent = cut(node.name + ' \u2014 ' + bytes(node.value), Math.floor((w - 8) / 6.2));
        g.appendChild(label);
      }
      if (node.findings.length) {
        rect.style.cursor = 'pointer';
        rect.addEventListener('click', function () {
          var i = node.findings[0];
          if (rowsByIndex[i][1].hidden) {
            toggle(i);
          }
          rowsByIndex[i][0].scrollIntoView({ block: 'center' });
        });
      }
      svg.appendChild(g);
      var cx = x;
      Object.keys(node.children).map(function (k) { return node.children[k]; })
        .sort(function (a, b) { return b.value - a.value; })
        .forEach(function (child) {
          var cw = w * child.value / node.value;
          draw(child, cx, cw, level + 1);
          cx += cw;
        });
    }
    draw(tree.root, 0, width, 0);
    svg.setAttribute('height', depth * rowH + 2);
  }

  fillHeader();
  buildTable();
  drawIcicle();
  if (findings.length === 0) {
    emptyGraph('No findings.');
  } else {
    var first = -1;
    graphs.forEach(function (g, i) {
      if (first < 0 && g.nodes.length > 0) {
        first = i;
      }
    });
    if (first >= 0) {
      drawGraph(first);
    } else {
      emptyGraph('Click a finding to draw it.');
    }
  }
  document.body.setAttribute('data-ready', 'true');
})();
