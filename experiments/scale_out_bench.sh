#!/usr/bin/env bash
# Training images/s of the quickstart's SimCLR (small CNN 16-32-64, batch
# 256) on this machine's flex, on one `pretext serve` worker, and on two,
# all on this machine, in alternation. Workers on one machine share its
# cores, so the figures measure the overhead of the remote path, not a
# speed-up. Prints the median of REPEATS runs of STEPS steps each.
#
#   cargo build && experiments/scale_out_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PRETEXT:-${CARGO_TARGET_DIR:-target}/debug/pretext}
STEPS=${STEPS:-10}
REPEATS=${REPEATS:-3}
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT

# Starts a worker on a free loopback port and prints its address.
worker() {
    "$P" serve --listen 127.0.0.1:0 > "$tmp/w$1.out" 2> "$tmp/w$1.err" &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q 'ws://' "$tmp/w$1.out" 2>/dev/null && break
        sleep 0.1
    done
    grep -o 'ws://[0-9.:]*' "$tmp/w$1.out"
}
w1=$(worker 1)
w2=$(worker 2)

# Runs the experiment once and prints its training images/s.
rate() {
    local name=$1; shift
    "$P" pretrain experiments/quickstart.toml --out "$tmp/runs" --set "name=$name" \
        --set train.epochs=1 --set "train.max_steps_per_epoch=$STEPS" \
        --set train.val_fraction=0 "$@" 2> /dev/null \
        | sed -n 's/^finished .*, \([0-9]*\) img\/s on .*/\1/p'
}

declare -A rates
for r in $(seq "$REPEATS"); do
    rates[local]+="$(rate "local-$r") "
    rates[one]+="$(rate "one-$r" --devices "$w1") "
    rates[two]+="$(rate "two-$r" --devices "$w1,$w2") "
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${rates[local]}" | median)
echo "SimCLR small CNN 16-32-64, batch 256 x 2 views, $STEPS steps, median of $REPEATS"
printf '%-48s %8s %8s   %s\n' "devices" "img/s" "ratio" "runs"
for k in local one two; do
    m=$(echo "${rates[$k]}" | median)
    case $k in
        local) label="flex in this process" ;;
        one) label="one worker (--devices $w1)" ;;
        two) label="two workers" ;;
    esac
    printf '%-48s %8s %8.2f   %s\n' "$label" "$m" "$(awk -v m="$m" -v b="$base" 'BEGIN {print m / b}')" "${rates[$k]}"
done
