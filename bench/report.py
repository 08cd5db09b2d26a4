#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/report.py RUNS.CSV - medians per (server, sessions) and sqmail/Postfix ratios.

Ratios are paired: runs of the same repetition and session count were made back
to back, so the median of their per-pair ratios resists drift of the machine.
accept/s = messages / time until smtp-source is done; e2e/s = messages / time
until every message is a file in the Maildir's new/. cpu = CPU of the server's
process tree per message; sys = machine-wide busy CPU minus the client's, per
message (adds the kernel's network and disk work, and any other load on the
machine); flush = disk cache flushes per message."""
import csv
import statistics as st
import sys


def ok(row):
    return row['client_rc'] == '0' and float(row['e2e_s']) > 0


def main(path, base='postfix', other='sqmail'):
    rows = list(csv.DictReader(open(path)))
    groups = {}
    for r in rows:
        groups.setdefault((int(r['conc']), r['label']), []).append(r)
    print(f"{'sessions':>8} {'server':8} {'runs':>4} {'accept/s':>9} {'e2e/s':>8} "
          f"{'cpu ms/msg':>10} {'sys ms/msg':>10} {'flush/msg':>9} {'syn drops':>9}")
    ratios = {}
    for conc, label in sorted(groups):
        good = [r for r in groups[conc, label] if ok(r)]
        failed = len(groups[conc, label]) - len(good)
        if not good:
            print(f"{conc:>8} {label:8}  no complete run ({failed} failed)")
            continue
        med = lambda f: st.median(float(r[f]) for r in good)
        print(f"{conc:>8} {label:8} {len(good):>4} {med('accept_mps'):9.1f} {med('e2e_mps'):8.1f} "
              f"{med('srv_cpu_ms_per_msg'):10.2f} {med('sys_cpu_ms_per_msg'):10.2f} {med('flushes_per_msg'):9.2f} "
              f"{med('listen_drops'):9.0f}" + (f"  ({failed} failed)" if failed else ""))
        if label != other:
            continue
        acc, e2e = [], []
        for r in good:
            pair = [b for b in groups.get((conc, base), []) if b['rep'] == r['rep'] and ok(b)]
            if pair:
                acc.append(float(r['accept_mps']) / float(pair[0]['accept_mps']))
                e2e.append(float(r['e2e_mps']) / float(pair[0]['e2e_mps']))
        if acc:
            ratios[conc] = (st.median(acc), st.median(e2e), len(acc))
    if ratios:
        print(f"\nratios {other} / {base} (median of paired runs; > 1 means {other} is faster)")
        print(f"{'sessions':>8} {'accept':>8} {'e2e':>8} {'pairs':>6}")
        for conc in sorted(ratios):
            a, e, n = ratios[conc]
            print(f"{conc:>8} {a:8.2f} {e:8.2f} {n:>6}")


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
