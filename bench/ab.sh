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
# "simclr-cnn autoencoder embed"; the data pipeline always runs, last),
# BACKEND (flex). The header names each binary by its full path: name the
# copies after their commits.
set -euo pipefail
[ $# = 2 ] || { echo "usage: bench/ab.sh <pretext A> <pretext B>" >&2; exit 2; }
bins=()
for bin in "$1" "$2"; do
    [ -f "$bin" ] && [ -x "$bin" ] || { echo "error: $bin: not an executable pretext binary" >&2; exit 2; }
    bins+=("$(realpath -- "$bin")")
done
A=${bins[0]} B=${bins[1]}
REPEATS=${REPEATS:-5} STEPS=${STEPS:-10} WARMUP=${WARMUP:-2}
WORKLOADS=${WORKLOADS:-simclr-cnn autoencoder embed}
BACKEND=${BACKEND:-flex}
[[ $REPEATS =~ ^[1-9][0-9]*$ ]] || { echo "error: REPEATS: a whole number of at least 1, got \"$REPEATS\"" >&2; exit 2; }
[[ $BACKEND =~ ^[a-z]+$ ]] || { echo "error: BACKEND: one backend name, got \"$BACKEND\"" >&2; exit 2; }
for w in $WORKLOADS; do
    case $w in simclr-cnn|resnet18|autoencoder|embed) ;;
    *) echo "error: WORKLOADS: unknown workload \"$w\" (simclr-cnn, resnet18, autoencoder, embed; the data pipeline always runs)" >&2; exit 2 ;;
    esac
done
list=$(echo "$WORKLOADS pipeline" | tr ' ' ',')
fields=$(( $(echo "$WORKLOADS" | wc -w) + 1 ))
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# One line per run: the img/s of each workload in order, then views/s.
for _ in $(seq "$REPEATS"); do
    for side in A B; do
        bin=$A; [ $side = B ] && bin=$B
        if ! "$bin" bench --backends "$BACKEND" --workload "$list" --steps "$STEPS" --warmup "$WARMUP" \
            > "$tmp/out" 2> "$tmp/err"; then
            echo "error: $bin bench failed:" >&2; cat "$tmp/err" >&2; exit 1
        fi
        line=$(awk -v b="$BACKEND" '$1 == b {printf "%s ", $3} /augmented views/ {print $3}' "$tmp/out")
        [ "$(echo "$line" | wc -w)" = "$fields" ] || {
            echo "error: $bin bench printed $(echo "$line" | wc -w) figures, not $fields (its output changed?):" >&2
            cat "$tmp/out" >&2; exit 1
        }
        echo "$line" >> "$tmp/$side"
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
