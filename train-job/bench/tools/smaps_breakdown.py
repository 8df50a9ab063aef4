"""Resident memory of a running process by kind of mapping, at its largest: `python3 smaps_breakdown.py PID [PERIOD_S]`
samples /proc/PID/smaps until the process exits and prints one JSON object. At the sample with the largest total RSS:
java_heap (an anonymous mapping of >= 1 GiB: a heap committed whole; G1 commits its heap in parts, which count as
anon_mmap), brk heap, glibc arena heaps (anonymous rw part followed by a
---p part, together 64 MiB), other anonymous (large malloc'd blocks served by mmap, stacks, JIT code),
file-backed (libraries, jars)."""
import sys, time, re, json, os
pid = int(sys.argv[1]); period = float(sys.argv[2]) if len(sys.argv) > 2 else 0.25
hdr = re.compile(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$')
def sample():
    maps = []
    cur = None
    with open(f'/proc/{pid}/smaps') as f:
        for line in f:
            m = hdr.match(line)
            if m:
                cur = {'start': int(m.group(1), 16), 'end': int(m.group(2), 16), 'perm': m.group(3), 'inode': int(m.group(4)), 'name': m.group(5).strip(), 'rss': 0}
                maps.append(cur)
            elif line.startswith('Rss:'):
                cur['rss'] = int(line.split()[1]) * 1024
    kinds = {'java_heap': 0, 'brk_heap': 0, 'arena': 0, 'anon_mmap': 0, 'anon_mmap_count_ge_1MiB': 0, 'file': 0, 'other': 0}
    for i, m in enumerate(maps):
        size = m['end'] - m['start']
        if m['name'] == '[heap]':
            kinds['brk_heap'] += m['rss']
        elif m['inode'] != 0 or m['name'].startswith('/'):
            kinds['file'] += m['rss']
        elif m['name'] == '' or m['name'].startswith('[anon'):
            nxt = maps[i + 1] if i + 1 < len(maps) else None
            is_arena = (m['perm'].startswith('rw') and nxt is not None and nxt['perm'].startswith('---')
                        and nxt['start'] == m['end'] and (nxt['end'] - m['start']) == 64 << 20)
            if size >= 1 << 30:
                kinds['java_heap'] += m['rss']
            elif is_arena or (size == 64 << 20 and m['perm'].startswith('rw')):
                kinds['arena'] += m['rss']
            else:
                kinds['anon_mmap'] += m['rss']
                if m['rss'] >= 1 << 20:
                    kinds['anon_mmap_count_ge_1MiB'] += 1
        else:
            kinds['other'] += m['rss']
    total = sum(v for k, v in kinds.items() if not k.endswith('count_ge_1MiB'))
    return total, kinds
best = (0, None); last = None; t0 = time.time()
try:
    while os.path.exists(f'/proc/{pid}'):
        try:
            total, kinds = sample()
        except (FileNotFoundError, ProcessLookupError, AttributeError, TypeError):
            break
        if total > best[0]:
            best = (total, kinds, round(time.time() - t0, 2))
        last = (total, kinds)
        time.sleep(period)
except KeyboardInterrupt:
    pass
g = lambda d: {k: (round(v / 2**30, 3) if not k.endswith('count_ge_1MiB') else v) for k, v in d.items()}
print(json.dumps({'peak_total_gib': round(best[0] / 2**30, 3), 'at_s': best[2] if len(best) > 2 else None, 'peak': g(best[1]) if best[1] else None,
                  'last_total_gib': round(last[0] / 2**30, 3) if last else None, 'last': g(last[1]) if last else None}))
