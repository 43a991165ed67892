#!/usr/bin/env bash
# Reproduce sram_45nm.csv. Needs the CACTI sources shipped in the PyPI wheel hwcomponents-cacti==1.0.40
# (pip download --no-deps --python-version 3.12 --only-binary=:all: hwcomponents-cacti==1.0.40; unzip it;
# in hwcomponents_cacti/cacti: rm -rf obj_dbg obj_opt cacti && make).
# usage: run_cacti_45nm.sh /path/to/hwcomponents_cacti/cacti
set -euo pipefail
cacti_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
for cell in itrs-lstp itrs-hp; do
  for size in 512 1024 2048 4096 8192 16384 32768 65536 131072 262144 524288 1048576 2097152 4194304 8388608 16777216 33554432; do
    cfg=$work/ram_${size}_${cell}.cfg
    sed -e "s/itrs-lstp/$cell/g" -e "s/SIZE_BYTES/$size/" "$here/ram_45nm_template.cfg" > "$cfg"
    (cd "$cacti_dir" && ./cacti -infile "$cfg" > "$cfg.log" 2>&1)
    tail -1 "$cfg.out" | awk -F, -v c="$cell" '{print c","$2","$5","$9","$10","$11","$12}'
  done
done
