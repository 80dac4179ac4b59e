#!/usr/bin/env bash
# pretext against PyTorch on this machine, side by side: training images/s
# and peak memory for each workload of `pretext bench`, pretext first and
# PyTorch (bench/pytorch_bench.py, the same networks, loss and optimiser)
# right after, each in its own process so that its peak RSS is its own.
#
#   cargo build && bench/run.sh
#
# Needs PyTorch for $PYTHON (pip install torch) and GNU time (/usr/bin/time).
# STEPS/WARMUP: timed and warm-up steps of the small workloads; ResNet-18
# (about a minute a step on two cores) takes RESNET_STEPS/RESNET_WARMUP.
# WORKLOADS picks a subset, e.g. WORKLOADS="simclr-cnn embed". Each workload
# runs REPEATS times (ResNet-18 RESNET_REPEATS), the two sides alternating;
# the table gives the median img/s and the largest peak RSS of each side.
# BACKEND is pretext's side: flex (default), or tch in a build made with
# `cargo build --features tch` (libtorch; see docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PRETEXT=${PRETEXT:-${CARGO_TARGET_DIR:-target}/debug/pretext}
PYTHON=${PYTHON:-python3}
STEPS=${STEPS:-10} WARMUP=${WARMUP:-2}
RESNET_STEPS=${RESNET_STEPS:-3} RESNET_WARMUP=${RESNET_WARMUP:-1}
WORKLOADS=${WORKLOADS:-simclr-cnn resnet18 autoencoder embed}
BATCH=${BATCH:-256}
BACKEND=${BACKEND:-flex}
REPEATS=${REPEATS:-3} RESNET_REPEATS=${RESNET_REPEATS:-1}
for w in $WORKLOADS; do
    case $w in simclr-cnn|resnet18|autoencoder|embed) ;;
    *) echo "error: WORKLOADS: unknown workload \"$w\" (simclr-cnn, resnet18, autoencoder, embed; the data pipeline always runs)" >&2; exit 2 ;;
    esac
done
[ -x "$PRETEXT" ] || { echo "error: $PRETEXT not found (cargo build, or set PRETEXT)" >&2; exit 2; }
$PYTHON -c 'import torch' 2>/dev/null || { echo "error: $PYTHON has no torch (pip install torch, or set PYTHON)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# pretext bench opens its backends before anything else: a name it does not
# know, or tch in a build without libtorch, is refused here in its one line.
"$PRETEXT" bench --workload pipeline --backends "$BACKEND" --batch 2 --steps 1 --warmup 0 > /dev/null 2> "$tmp/backend" \
    || { cat "$tmp/backend" >&2; exit 2; }

# measure NAME CMD...: runs CMD under GNU time; prints "<img/s> <peak MiB>"
# from the last line of its output (whose third field is img/s) and its max RSS.
measure() {
    local name=$1; shift
    /usr/bin/time -f %M -o "$tmp/$name.rss" "$@" > "$tmp/$name.out" 2>&1 \
        || { cat "$tmp/$name.out" >&2; exit 1; }
    local rate; rate=$(awk 'NF >= 3 && $1 != "#" {r = $3} END {print r}' "$tmp/$name.out")
    echo "$rate $(awk '{printf "%.0f", $1 / 1024}' "$tmp/$name.rss")"
}

# The median of the numbers given as arguments, and their maximum.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
maximum() { printf '%s\n' "$@" | sort -g | tail -1; }

echo "pretext $(git rev-parse --short HEAD 2>/dev/null || echo '?') on $BACKEND vs $($PYTHON -c 'import torch; print("PyTorch", torch.__version__)'), $(nproc) threads each, batch $BATCH, $(date -u +%F)"
printf '%-12s %12s %12s %8s %14s %14s %8s\n' workload "pretext img/s" "torch img/s" ratio "pretext MiB" "torch MiB" ratio
train_rate=
for w in $WORKLOADS; do
    s=$STEPS u=$WARMUP n=$REPEATS
    [ "$w" = resnet18 ] && s=$RESNET_STEPS u=$RESNET_WARMUP n=$RESNET_REPEATS
    prs=() pms=() trs=() tms=()
    for _ in $(seq "$n"); do
        read -r r m < <(measure "p-$w" "$PRETEXT" bench --workload "$w" --backends "$BACKEND" --batch "$BATCH" --steps "$s" --warmup "$u")
        prs+=("$r") pms+=("$m")
        read -r r m < <(measure "t-$w" "$PYTHON" bench/pytorch_bench.py --workload "$w" --batch "$BATCH" --steps "$s" --warmup "$u")
        trs+=("$r") tms+=("$m")
    done
    pr=$(median "${prs[@]}") pm=$(maximum "${pms[@]}") tr=$(median "${trs[@]}") tm=$(maximum "${tms[@]}")
    [ "$w" = simclr-cnn ] && train_rate=$pr
    awk -v w="$w" -v pr="$pr" -v tr="$tr" -v pm="$pm" -v tm="$tm" \
        'BEGIN {printf "%-12s %12.1f %12.1f %7.2fx %14d %14d %7.2fx\n", w, pr, tr, pr / tr, pm, tm, pm / tm}'
    echo "             (each run's img/s: pretext ${prs[*]}; torch ${trs[*]})"
done
views=$("$PRETEXT" bench --workload pipeline --batch "$BATCH" --steps "$STEPS" --warmup "$WARMUP" | awk '/augmented views/ {print $3}')
if [ -n "$train_rate" ]; then
    awk -v v="$views" -v t="$train_rate" 'BEGIN {printf "data pipeline: %.0f augmented views/s = %.0f images/s (2 views each), %.1fx the simclr-cnn training rate\n", v, v / 2, v / 2 / t}'
else
    echo "data pipeline: $views augmented views/s"
fi
