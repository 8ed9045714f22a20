#!/usr/bin/env python3
"""shrink_trace.py: a small seed for the fuzzers from a real linger trace.

    shrink_trace.py [--max-objects N] IN.trace OUT.trace

A trace of even `python3 -S -c pass` is over a megabyte: every object of
the interpreter.  This keeps the objects that matter to a sample (those
whose type or name is of __main__, what the snapshot's finalizers, weak
references and atexit callbacks name, and their neighbours, at most N of
them), the references, roots and entries between kept objects, the
allocation sites they use, a few blocks and gc-freed entries, and only the
strings still used, renumbered.  Counts (batch heads, SNAPSHOT_END, END)
are rewritten to match, so the result is a valid trace of format 1.x that
`linger report` reads.  Records of unknown types are dropped.
"""
import struct
import sys

REC = dict(PROCESS=1, RUNTIME=2, STRING=3, SNAPSHOT_BEGIN=4, OBJECTS=5, REFS=6,
           ROOTS=7, FINALIZERS=8, WEAKREFS=9, SNAPSHOT_END=10, MESSAGE=11,
           ATEXIT=12, OBJECT_SITES=13, ALLOC_INFO=32, MODULES=33,
           NATIVE_STACK=34, PY_FRAMES=35, PY_STACK=36, SITES=37, SITE_STATS=38,
           GC_FREES=39, LIVE_BLOCKS=40, END=64)
BATCH_ENTRY = {5: 40, 6: 24, 7: 16, 8: 72, 9: 32, 12: 32, 13: 16, 33: 40,
               35: 16, 37: 16, 38: 48, 39: 32, 40: 24}


def pad8(b):
    return b + b'\0' * (-len(b) % 8)


def record(rtype, body):
    body = pad8(body)
    return struct.pack('<HHI', rtype, 0, 8 + len(body)) + body


def parse(data):
    recs = []
    off = 64
    while off + 8 <= len(data):
        rtype, _flags, size = struct.unpack_from('<HHI', data, off)
        if size < 8 or off + size > len(data):
            break
        recs.append((rtype, data[off + 8:off + size]))
        off += size
    return data[:64], recs


def entries(rtype, body):
    count = struct.unpack_from('<I', body, 0)[0]
    n = BATCH_ENTRY[rtype]
    return [body[8 + i * n:8 + (i + 1) * n] for i in range(count)]


def main():
    args = sys.argv[1:]
    max_objects = 300
    if args[:1] == ['--max-objects']:
        max_objects = int(args[1])
        args = args[2:]
    src, dst = args
    header, recs = parse(open(src, 'rb').read())

    strings = {}
    for rtype, body in recs:
        if rtype == REC['STRING']:
            sid, length = struct.unpack_from('<II', body)
            strings[sid] = body[8:8 + length]

    # Per snapshot: which objects to keep.
    snaps = []          # list of dicts of lists of entries
    cur = None
    for rtype, body in recs:
        if rtype == REC['SNAPSHOT_BEGIN']:
            cur = {t: [] for t in (5, 6, 7, 8, 9, 12, 13)}
            snaps.append(cur)
        elif cur is not None and rtype in cur:
            cur[rtype].extend(entries(rtype, body))
        elif rtype == REC['SNAPSHOT_END']:
            cur = None

    keep_sets = []
    for s in snaps:
        objs = {}
        order = []
        for e in s[5]:
            addr, _size, _rc, tname, _flags, name = struct.unpack_from('<QQqIII', e)
            objs[addr] = e
            order.append(addr)
        main_ids = {sid for sid, text in strings.items()
                    if text.startswith(b'__main__') or text in (b'__main__',)}
        seeds = [a for a in order
                 if struct.unpack_from('<I', objs[a], 24)[0] in main_ids
                 or struct.unpack_from('<I', objs[a], 32)[0] in main_ids]
        for e in s[8]:
            seeds += list(struct.unpack_from('<7Q', e))
        for e in s[9]:
            seeds += list(struct.unpack_from('<3Q', e))
        for e in s[12]:
            seeds += list(struct.unpack_from('<3Q', e))
        for e in s[7]:
            addr, kind, label = struct.unpack_from('<QII', e)
            if strings.get(label) == b'__main__' or kind in (5, 6):
                seeds.append(addr)
        out_edges = {}
        in_edges = {}
        for e in s[6]:
            a, b = struct.unpack_from('<QQ', e)
            out_edges.setdefault(a, []).append(b)
            in_edges.setdefault(b, []).append(a)
        keep = []
        seen = set()
        frontier = [a for a in seeds if a in objs]
        while frontier and len(keep) < max_objects:
            nxt = []
            for a in frontier:
                if a in seen or a not in objs:
                    continue
                seen.add(a)
                keep.append(a)
                if len(keep) >= max_objects:
                    break
                nxt += out_edges.get(a, [])[:20] + in_edges.get(a, [])[:5]
            frontier = nxt
        keep_sets.append(seen)

    # Allocation records: sites used by kept objects, a few blocks.
    used_sites = set()
    for s, keep in zip(snaps, keep_sets):
        for e in s[13]:
            addr, site = struct.unpack_from('<QI', e)
            if addr in keep:
                used_sites.add(site)
    for rtype, body in recs:
        if rtype in (REC['LIVE_BLOCKS'], REC['GC_FREES']):
            for e in entries(rtype, body)[:20]:
                used_sites.add(struct.unpack_from('<I', e, 16 if rtype == 40 else 0)[0])
    used_sites.discard(0)
    site_stacks = {}
    for rtype, body in recs:
        if rtype == REC['SITES']:
            for e in entries(rtype, body):
                sid, py, nat = struct.unpack_from('<III', e)
                site_stacks[sid] = (py, nat)
    used_sites &= set(site_stacks)
    used_py = {site_stacks[s][0] for s in used_sites} - {0}
    used_nat = {site_stacks[s][1] for s in used_sites} - {0}
    used_frames = set()
    for rtype, body in recs:
        if rtype == REC['PY_STACK']:
            sid, depth = struct.unpack_from('<II', body)
            if sid in used_py:
                used_frames.update(struct.unpack_from('<%dI' % depth, body, 16))

    # Rebuild, collecting the strings used.
    used = set()
    out = []
    si = -1

    def S(sid):
        if sid:
            used.add(sid)
        return sid

    for rtype, body in recs:
        if rtype == REC['STRING']:
            continue
        if rtype == REC['PROCESS']:
            S(struct.unpack_from('<I', body, 24)[0])
            out.append((rtype, body))
        elif rtype == REC['RUNTIME']:
            out.append((rtype, body))
            # python_version and implementation string ids
            for v in struct.unpack_from('<II', body, 8):
                S(v)
        elif rtype == REC['SNAPSHOT_BEGIN']:
            si += 1
            counts = [0, 0, 0]
            out.append((rtype, body))
        elif rtype in (5, 6, 7, 8, 9, 12, 13):
            keep = keep_sets[si]
            kept = []
            for e in entries(rtype, body):
                if rtype == 5:
                    a = struct.unpack_from('<Q', e)[0]
                    if a in keep:
                        S(struct.unpack_from('<I', e, 24)[0])
                        S(struct.unpack_from('<I', e, 32)[0])
                        kept.append(e)
                elif rtype == 6:
                    a, b, label, lk = struct.unpack_from('<QQIH', e)
                    if a in keep and b in keep:
                        if lk != 3:
                            S(label)
                        kept.append(e)
                elif rtype == 7:
                    a, _k, label = struct.unpack_from('<QII', e)
                    if a in keep:
                        S(label)
                        kept.append(e)
                elif rtype == 13:
                    a, site = struct.unpack_from('<QI', e)
                    if a in keep and site in used_sites:
                        kept.append(e)
                else:
                    if struct.unpack_from('<Q', e)[0] in keep:
                        kept.append(e)
            if kept:
                if rtype in (5, 6, 7):
                    counts[rtype - 5] += len(kept)
                out.append((rtype, struct.pack('<II', len(kept), 0) + b''.join(kept)))
        elif rtype == REC['SNAPSHOT_END']:
            body = body[:8] + struct.pack('<QQQ', *counts) + body[32:]
            out.append((rtype, body))
        elif rtype == REC['MESSAGE']:
            out.append((rtype, body))
        elif rtype == REC['ALLOC_INFO']:
            out.append((rtype, body))
        elif rtype == REC['MODULES']:
            es = entries(rtype, body)
            for e in es:
                S(struct.unpack_from('<I', e, 24)[0])
                S(struct.unpack_from('<I', e, 28)[0])
            out.append((rtype, body))
        elif rtype == REC['NATIVE_STACK']:
            if struct.unpack_from('<I', body)[0] in used_nat:
                out.append((rtype, body))
        elif rtype == REC['PY_STACK']:
            if struct.unpack_from('<I', body)[0] in used_py:
                out.append((rtype, body))
        elif rtype == REC['PY_FRAMES']:
            kept = [e for e in entries(rtype, body) if struct.unpack_from('<I', e)[0] in used_frames]
            for e in kept:
                S(struct.unpack_from('<I', e, 4)[0])
                S(struct.unpack_from('<I', e, 8)[0])
            if kept:
                out.append((rtype, struct.pack('<II', len(kept), 0) + b''.join(kept)))
        elif rtype in (REC['SITES'], REC['SITE_STATS']):
            kept = [e for e in entries(rtype, body) if struct.unpack_from('<I', e)[0] in used_sites]
            if kept:
                out.append((rtype, struct.pack('<II', len(kept), 0) + b''.join(kept)))
        elif rtype in (REC['LIVE_BLOCKS'], REC['GC_FREES']):
            kept = []
            for e in entries(rtype, body)[:20]:
                site = struct.unpack_from('<I', e, 16 if rtype == 40 else 0)[0]
                if site in used_sites:
                    if rtype == 39:
                        S(struct.unpack_from('<I', e, 4)[0])
                    kept.append(e)
            out.append((rtype, struct.pack('<II', len(kept), 0) + b''.join(kept)))
        elif rtype == REC['END']:
            out.append((rtype, body))

    remap = {old: new for new, old in enumerate(sorted(used), 1)}

    def R(sid):
        return remap.get(sid, 0) if sid else 0

    def patch(b, off, fmt='<I'):
        v = struct.unpack_from(fmt, b, off)[0]
        return b[:off] + struct.pack(fmt, R(v)) + b[off + 4:]

    # Ids of sites, stacks and frames must be dense enough for the file's
    # size: renumber them too.
    rs = {old: new for new, old in enumerate(sorted(used_sites), 1)}
    rp = {old: new for new, old in enumerate(sorted(used_py), 1)}
    rn = {old: new for new, old in enumerate(sorted(used_nat), 1)}
    rf = {old: new for new, old in enumerate(sorted(used_frames), 1)}

    def put(b, off, table):
        v = struct.unpack_from('<I', b, off)[0]
        return b[:off] + struct.pack('<I', table.get(v, 0)) + b[off + 4:]

    final = [header]
    for old in sorted(used):
        text = strings[old]
        final.append(record(3, struct.pack('<II', remap[old], len(text)) + text))
    for rtype, body in out:
        if rtype == 1:
            body = patch(body, 24)
        elif rtype == 2:
            body = patch(patch(body, 8), 12)
        elif rtype == 34:
            body = put(body, 0, rn)
        elif rtype == 36:
            depth = struct.unpack_from('<I', body, 4)[0]
            body = put(body, 0, rp)
            for i in range(depth):
                body = put(body, 16 + 4 * i, rf)
        if rtype in (5, 6, 7, 13, 33, 35, 37, 38, 39, 40):
            es = [body[8 + i * BATCH_ENTRY[rtype]:8 + (i + 1) * BATCH_ENTRY[rtype]]
                  for i in range(struct.unpack_from('<I', body)[0])]
            new = []
            for e in es:
                if rtype == 5:
                    e = patch(patch(e, 24), 32)
                elif rtype == 6:
                    if struct.unpack_from('<H', e, 20)[0] != 3:
                        e = patch(e, 16)
                elif rtype == 7:
                    e = patch(e, 12)
                elif rtype == 33:
                    e = patch(patch(e, 24), 28)
                elif rtype == 35:
                    e = patch(patch(e, 4), 8)
                elif rtype == 39:
                    e = put(patch(e, 4), 0, rs)
                elif rtype == 13:
                    e = put(e, 8, rs)
                elif rtype == 37:
                    e = put(put(put(e, 0, rs), 4, rp), 8, rn)
                elif rtype == 38:
                    e = put(e, 0, rs)
                elif rtype == 40:
                    e = put(e, 16, rs)
                if rtype == 35:
                    e = put(e, 0, rf)
                new.append(e)
            body = body[:8] + b''.join(new)
        if rtype == 64:
            body = body[:8] + struct.pack('<I', len(used)) + body[12:]
        final.append(record(rtype, body))
    open(dst, 'wb').write(b''.join(final))


if __name__ == '__main__':
    main()
