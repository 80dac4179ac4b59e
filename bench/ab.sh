#!/usr/bin/env bash
# Two builds of pretext side by side: the training images/s of each
# workload of `pretext bench` (and the data pipeline's augmented views/s),
# the two binaries alternating REPEATS times in one sitting, then the median
# of each and their ratio (B over A). For a change that must not move the
# speed: build the commit before it and the commit after it (copy each
# binary away, a shared target directory keeps only the last), then
#
#   bench/ab.sh /path/to/pretext-before /path/to/pretext-after
#
# REPEATS (default 5), STEPS/WARMUP (10/2), WORKLOADS (default
# "simclr-cnn autoencoder embed"), BACKEND (flex).
set -euo pipefail
[ $# = 2 ] || { echo "usage: bench/ab.sh <pretext A> <pretext B>" >&2; exit 2; }
A=$1 B=$2
for bin in "$A" "$B"; do
    [ -x "$bin" ] || { echo "error: $bin: not an executable pretext binary" >&2; exit 2; }
done
REPEATS=${REPEATS:-5} STEPS=${STEPS:-10} WARMUP=${WARMUP:-2}
WORKLOADS=${WORKLOADS:-simclr-cnn autoencoder embed}
BACKEND=${BACKEND:-flex}
list=$(echo "$WORKLOADS pipeline" | tr ' ' ',')
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# One line per run: the img/s of each workload in order, then views/s.
for _ in $(seq "$REPEATS"); do
    for side in A B; do
        bin=$A; [ $side = B ] && bin=$B
        out=$("$bin" bench --backends "$BACKEND" --workload "$list" --steps "$STEPS" --warmup "$WARMUP" 2>&1) \
            || { echo "$out" >&2; exit 1; }
        echo "$out" | awk -v b="$BACKEND" '$1 == b {printf "%s ", $3} /augmented views/ {print $3}' >> "$tmp/$side"
    done
done
echo "A: $A"
echo "B: $B"
echo "$REPEATS alternating runs each, $BACKEND, $(nproc) threads, $(date -u +%F)"
printf '%-20s %12s %12s %8s   %s\n' workload "A median" "B median" "B/A" "each run (A; B)"
i=1
for w in $WORKLOADS pipeline; do
    unit=img/s; [ "$w" = pipeline ] && unit="views/s"
    a=$(cut -d' ' -f$i "$tmp/A" | tr '\n' ' ') b=$(cut -d' ' -f$i "$tmp/B" | tr '\n' ' ')
    awk -v w="$w ($unit)" -v a="$a" -v b="$b" 'function med(s,  v, n, i, j, t) {
            n = split(s, v, " ");
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
            return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
        BEGIN { ma = med(a); mb = med(b); printf "%-20s %12.1f %12.1f %7.3fx   %s; %s\n", w, ma, mb, mb / ma, a, b }'
    i=$((i + 1))
done
