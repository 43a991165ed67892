"""Compare the closed-form model (scalesim_formulas.py) with SCALE-Sim's own numbers.

    python3 validation/scalesim/check_formulas.py [--csv validation/scalesim/scalesim_reference.csv]
                                                  [--timing benchmarks/scalesim_resnet18_timing.json]
                                                  [-v]

Plain Python 3, no third-party packages. Exit status 1 if any modelled field mismatches.
Integers must match exactly; utilisation percentages to 1e-9 relative (they are computed in a
different order than SCALE-Sim's per-fold averages). Fields the model does not cover (USER-mode
memory numbers; IFMAP/FILTER DRAM reads and stop cycle in the large-footprint CALC regime) are
counted as "not modelled", never as matches.
"""
import argparse
import csv
import json
import math
import os
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import scalesim_formulas as sf  # noqa: E402

FLOAT_FIELDS = {"overall_util", "mapping_efficiency", "compute_util", "sram_ifmap_reads"}
COMPUTE_FIELDS = ["total_cycles", "stall_cycles", "overall_util", "mapping_efficiency",
                  "compute_util", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes"]
CALC_FIELDS = ["total_cycles_incl_prefetch",
               "sram_ifmap_start", "sram_ifmap_stop", "sram_filter_start", "sram_filter_stop",
               "sram_ofmap_start", "sram_ofmap_stop",
               "dram_ifmap_start", "dram_ifmap_stop", "dram_ifmap_reads",
               "dram_filter_start", "dram_filter_stop", "dram_filter_reads",
               "dram_ofmap_start", "dram_ofmap_stop", "dram_ofmap_writes"]


def layer_from_row(r):
    sp = r["sparsity"] if r["sparsity"] not in ("", "none") else None
    if r["topology_form"] == "gemm":
        return sf.gemm_layer(r["layer_name"], int(r["gemm_m"]), int(r["gemm_n"]),
                             int(r["gemm_k"]), sp)
    return sf.conv_layer(r["layer_name"], int(r["ifmap_h"]), int(r["ifmap_w"]),
                         int(r["filter_h"]), int(r["filter_w"]), int(r["channels"]),
                         int(r["num_filters"]), int(r["stride"]), sp)


def same(field, pred, got):
    g = float(got)
    if field in FLOAT_FIELDS:
        return math.isclose(pred, g, rel_tol=1e-9, abs_tol=1e-12)
    return float(pred) == g and g == int(g)


def check_rows(rows, verbose=False):
    stats = Counter()
    per_field = defaultdict(Counter)
    mismatches = []
    user_nostall = Counter()
    for r in rows:
        L = layer_from_row(r)
        mode = r["bandwidth_mode"]
        pred = sf.predict(L, r["dataflow"], int(r["array_rows"]), int(r["array_cols"]), mode=mode,
                          sram_kb=(int(r["ifmap_sram_kb"]), int(r["filter_sram_kb"]),
                                   int(r["ofmap_sram_kb"])),
                          sparsity_support=(r["sparsity_support"] == "true"),
                          stall_cycles=int(float(r["stall_cycles"])))
        fields = COMPUTE_FIELDS + (CALC_FIELDS if mode == "CALC" else [])
        for fld in fields:
            p = pred.get(fld)
            if p is None:
                stats["not_modelled"] += 1
                per_field[fld]["not_modelled"] += 1
                continue
            if same(fld, p, r[fld]):
                stats["match"] += 1
                per_field[fld]["match"] += 1
            else:
                stats["mismatch"] += 1
                per_field[fld]["mismatch"] += 1
                mismatches.append((r["case"], r["layer_name"], fld, p, r[fld]))
        if mode != "CALC":
            free = sf.user_mode_stall_free(
                L, r["dataflow"], int(r["array_rows"]), int(r["array_cols"]),
                (int(r["ifmap_sram_kb"]), int(r["filter_sram_kb"]), int(r["ofmap_sram_kb"])),
                r["sparsity_support"] == "true")
            stalled = int(float(r["stall_cycles"])) > 0
            user_nostall[(free, stalled)] += 1
            if free and stalled:
                mismatches.append((r["case"], r["layer_name"], "user_stall_free_condition",
                                   0, r["stall_cycles"]))
            stats["not_modelled"] += len(CALC_FIELDS)
            for fld in CALC_FIELDS:
                per_field[fld]["not_modelled (USER)"] += 1
        if verbose:
            print(r["case"], r["layer_name"], pred["total_cycles"], r["total_cycles"])
    stats['user_nostall'] = user_nostall
    return stats, per_field, mismatches


def check_timing(path):
    """The full ResNet-18 run of the timing benchmark (32x32 WS, CALC, 64 kB)."""
    with open(path) as f:
        t = json.load(f)
    topo = os.path.join(REPO, t["topology"])
    with open(topo) as f:
        lines = [ln.strip() for ln in f][1:]
    layers = []
    for ln in lines:
        if ln:
            e = [x.strip() for x in ln.split(",")[:-1]]
            layers.append(sf.conv_layer(e[0], *[int(x) for x in e[1:8]]))
    bad = []
    for L, tot, incl in zip(layers, t["per_layer_total_cycles"],
                            t.get("per_layer_total_cycles_incl_prefetch",
                                  [None] * len(layers)), strict=False):
        p = sf.predict(L, "ws", 32, 32, "CALC", (64, 64, 64))
        if p["total_cycles"] != tot:
            bad.append((L["name"], "total_cycles", p["total_cycles"], tot))
        if incl is not None and p["total_cycles_incl_prefetch"] != incl:
            bad.append((L["name"], "total_cycles_incl_prefetch",
                        p["total_cycles_incl_prefetch"], incl))
    return len(layers), bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default=os.path.join(HERE, "scalesim_reference.csv"))
    ap.add_argument("--timing", default=os.path.join(REPO, "benchmarks",
                                                     "scalesim_resnet18_timing.json"))
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    with open(args.csv) as f:
        rows = list(csv.DictReader(f))
    stats, per_field, mism = check_rows(rows, args.v)
    print(f"{len(rows)} rows, {len({r['case'] for r in rows})} cases")
    print(f"fields: {stats['match']} match, {stats['mismatch']} mismatch, "
          f"{stats['not_modelled']} not modelled")
    for fld in COMPUTE_FIELDS + CALC_FIELDS:
        print(f"  {fld:28s} " + ", ".join(f"{k}={v}" for k, v in sorted(per_field[fld].items())))
    un = stats["user_nostall"]
    if un:
        print("USER mode rows (stall-free condition, stalled?): " +
              ", ".join(f"{k}={v}" for k, v in sorted(un.items())))
    for m in mism[:50]:
        print("MISMATCH", m)
    rc = 1 if mism else 0
    if args.timing and os.path.exists(args.timing):
        n, bad = check_timing(args.timing)
        print(f"timing benchmark ResNet-18 (32x32 ws): {n} layers, {len(bad)} mismatches")
        for b in bad:
            print("MISMATCH timing", b)
        rc |= 1 if bad else 0
    return rc


if __name__ == "__main__":
    sys.exit(main())
