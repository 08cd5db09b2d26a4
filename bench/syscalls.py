#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/syscalls.py TRACE MESSAGES PIDMAP - syscalls per message, by program.

TRACE is the output of `strace -f -o TRACE -p ...` over MESSAGES messages; PIDMAP
holds "PID NAME" lines for the processes that were attached. A process is named
after the last program it executed (children inherit their parent's name until
they execve). Prints, per program and in total, the calls per message of the
syscalls that cost the most: disk syncs, process starts, file operations."""
import collections
import re
import sys

WATCH = ['fsync', 'fdatasync', 'syncfs', 'sync_file_range', 'execve', 'clone', 'clone3',
         'vfork', 'fork', 'openat', 'link', 'linkat', 'rename', 'renameat2', 'unlink',
         'unlinkat', 'read', 'write']
SYNCS = ('fsync', 'fdatasync', 'syncfs', 'sync_file_range')
STARTS = ('clone', 'clone3', 'vfork', 'fork')
LINE = re.compile(r'^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()')
EXEC = re.compile(r'execve\("([^"]*)"')
RET = re.compile(r'= (\d+)(?: <[^>]*>)?$')


def main(trace, msgs, pidmap):
    name = {}
    for line in open(pidmap):
        pid, _, comm = line.strip().partition(' ')
        name[pid] = comm
    parent = {}
    lines = open(trace, errors='replace').read().splitlines()
    for line in lines:              # pass 1: who started whom
        m = LINE.match(line)
        if m and (m.group(2) or m.group(3)) in STARTS:
            r = RET.search(line)
            if r and r.group(1) != '0':
                parent[r.group(1)] = m.group(1)
    counts = collections.defaultdict(collections.Counter)
    pending = {}
    for line in lines:              # pass 2: count, naming each pid by its program
        m = LINE.match(line)
        if not m:
            continue
        pid, call = m.group(1), m.group(2) or m.group(3)
        if pid not in name:
            name[pid] = name.get(parent.get(pid), '?')
        if call == 'execve':
            e = EXEC.search(line)
            if e:
                pending[pid] = e.group(1).rsplit('/', 1)[-1]
            if '<unfinished' in line or not line.endswith('= 0'):
                continue
            name[pid] = pending.pop(pid, name[pid])
        elif '<unfinished' in line:
            continue                # counted when it resumes
        if call in WATCH:
            counts[name[pid]][call] += 1
    cols = ['syncs'] + [c for c in WATCH if any(counts[p][c] for p in counts)]
    total = collections.Counter()
    print(f"per message, over {msgs} messages ('syncs' = fsync+fdatasync+syncfs+sync_file_range;"
          " clone etc. = process starts made by that program)")
    print(f"{'program':22}" + ''.join(f"{c:>10}" for c in cols))
    for prog in sorted(counts, key=lambda p: -sum(counts[p][c] for c in SYNCS)):
        c = counts[prog]
        c['syncs'] = sum(c[s] for s in SYNCS)
        total.update(c)
        print(f"{prog:22}" + ''.join(f"{c[k] / msgs:10.2f}" for k in cols))
    print(f"{'total':22}" + ''.join(f"{total[k] / msgs:10.2f}" for k in cols))


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
