#!/usr/bin/env bash
# Measures `empowerher predict` over every RAVDESS file on one core:
# decode + features + inference, as a user runs it. Prints audio seconds,
# CPU seconds and the real-time factor (audio seconds per CPU second).
set -euo pipefail
data=${1:-../shared/datasets}
bin=$(mktemp -d)/empowerher
CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/empowerher
files=$(find "$data/ravdess" -name '*.flac' | sort)
n=$(echo "$files" | wc -l)
out=$(mktemp)
# One core: GOMAXPROCS=1 and, where taskset exists, pinned to CPU 0.
pin=""; command -v taskset >/dev/null && pin="taskset -c 0"
/usr/bin/time -f '%U %S %e' -o "$out.time" env GOMAXPROCS=1 $pin "$bin" predict --json $files > "$out"
read -r user sys wall < "$out.time"
audio=$(grep -o '"duration_s":[0-9.]*' "$out" | cut -d: -f2 | paste -sd+ | bc)
cpu=$(echo "$user + $sys" | bc)
echo "files=$n audio_s=$audio cpu_s=$cpu wall_s=$wall x_realtime_cpu=$(echo "scale=0; $audio / $cpu" | bc) x_realtime_wall=$(echo "scale=0; $audio / $wall" | bc)"
