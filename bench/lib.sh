# SPDX-License-Identifier: MIT
# bench/lib.sh - helpers for bench/run (sourced, not run): processes, counters.
# Everything here reads /proc or /sys, or stops a process by its pid.

bench_die() { echo "bench: $*" >&2; exit 1; }
bench_note() { echo "bench: $*" >&2; }

# bench_apt PKG... : install missing Debian packages, non-interactively
bench_apt() {
	local need=() p
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
	[ ${#need[@]} -eq 0 ] && return 0
	bench_note "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	timeout 900 apt-get install -y -o DPkg::Lock::Timeout=300 "${need[@]}" >/dev/null ||
	{ timeout 300 apt-get update -o DPkg::Lock::Timeout=300 >/dev/null &&
	  timeout 900 apt-get install -y -o DPkg::Lock::Timeout=300 "${need[@]}" >/dev/null; } ||
		bench_die "apt-get install ${need[*]} failed"
}

# bench_listening PORT : true when something listens on 127.0.0.1:PORT
bench_listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q "127.0.0.1:$1"
}

# bench_wait_port PORT SECONDS : wait for a listener (without connecting)
bench_wait_port() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		bench_listening "$1" && return 0
		sleep 0.1
	done
	return 1
}

# bench_stop_pid PID [SECONDS] : SIGTERM, wait, then SIGKILL - one pid only
bench_stop_pid() {
	local pid=$1 secs=${2:-10} i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	return 0
}

# bench_tree ROOTPID... : the roots and all their descendants, one pid a line
bench_tree() {
	ps -e -o pid=,ppid= | awk -v roots="$*" '
		{ parent[$1] = $2 }
		END {
			n = split(roots, r, " "); for (i = 1; i <= n; i++) in_tree[r[i]] = 1
			do { grew = 0
				for (p in parent)
					if (!(p in in_tree) && (parent[p] in in_tree)) { in_tree[p] = 1; grew = 1 }
			} while (grew)
			for (p in in_tree) if (p in parent) print p
		}'
}

# bench_tree_ticks ROOTPID... : CPU clock ticks used by the tree so far:
# utime+stime of every live process plus cutime+cstime (its reaped children).
# A child that exited is in its parent's cutime once reaped, so a difference
# of two readings is the tree's CPU over the interval.
bench_tree_ticks() {
	local p sum=0 t
	for p in $(bench_tree "$@"); do
		t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }')
		sum=$((sum + ${t:-0}))
	done
	echo "$sum"
}

# bench_busy_ticks : machine-wide non-idle CPU ticks (user nice system irq softirq steal)
bench_busy_ticks() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# bench_disk DIR : the block device (whole disk) holding DIR, e.g. vda
bench_disk() {
	local mm dev
	mm=$(stat -c '%Hd:%Ld' "$1") || return 1
	dev=$(readlink -f "/sys/dev/block/$mm")
	[ -e "$dev/partition" ] && dev=$(dirname "$dev")
	basename "$dev"
}

# bench_flushes DISK : cache-flush requests the disk has completed (field 19
# of /proc/diskstats, kernels >= 5.5); an fsync costs one or two of them
bench_flushes() {
	awk -v d="$1" '$3 == d { print (NF >= 20 ? $19 : 0) }' /proc/diskstats
}

# bench_listen_drops : SYNs dropped machine-wide because a listen queue was full
bench_listen_drops() {
	awk '/^TcpExt:/ { if (!hdr) { for (i = 1; i <= NF; i++) if ($i == "ListenDrops") c = i; hdr = 1 }
		else print $c }' /proc/net/netstat
}

# bench_count_files DIR : entries in DIR
bench_count_files() {
	find "$1" -mindepth 1 -maxdepth 1 -type f | wc -l
}

# bench_wait_files DIR N SECONDS : wait until DIR holds N files
bench_wait_files() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(bench_count_files "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
