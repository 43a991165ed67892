"""Generate the SCALE-Sim v3 reference table (scalesim_reference.csv + provenance.json).

Runs under the SCALE-Sim venv (outside the repo):

    python3 -m venv /work/scalesim-venv
    /work/scalesim-venv/bin/pip install scalesim==3.0.0 "numpy<2.4"
    /work/scalesim-venv/bin/python validation/scalesim/generate.py            # all cases
    /work/scalesim-venv/bin/python validation/scalesim/generate.py --only dense_8x8_os  # a subset
    /work/scalesim-venv/bin/python validation/scalesim/generate.py --list

Each case = one SCALE-Sim config (written to configs/generated/<case>.cfg from a base config in
configs/ plus overrides) x one topology CSV in topologies/ (or the repo's ResNet-18 subset).
SCALE-Sim is driven through its Python API (scalesim.scale_sim.scalesim), exactly what
`python -m scalesim.scale -c CFG -t TOPO -l LAYOUT -p OUT [-i gemm]` does, but with
save_disk_space=True (no per-cycle trace CSVs). The per-layer rows of COMPUTE_REPORT.csv and
DETAILED_ACCESS_REPORT.csv are copied verbatim (numbers as SCALE-Sim printed them).
"""
import argparse
import configparser
import csv
import datetime
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CFG_DIR = os.path.join(HERE, "configs")
GEN_DIR = os.path.join(CFG_DIR, "generated")
TOPO_DIR = os.path.join(HERE, "topologies")
LAYOUT = os.path.join(HERE, "layouts", "empty_layout.csv")
OUT_CSV = os.path.join(HERE, "scalesim_reference.csv")
PROV = os.path.join(HERE, "provenance.json")

A = "architecture_presets"
SMALL_CONV = ("topologies/conv_small.csv", "conv")
SMALL_GEMM = ("topologies/gemm_small.csv", "gemm")
SPARSE_CONV = ("topologies/conv_sparse.csv", "conv")
SPARSE_GEMM = ("topologies/gemm_sparse.csv", "gemm")
RESNET_SUB = ("topologies/resnet18_subset.csv", "conv")


def arr(r, c):
    return [(A, "ArrayHeight", str(r)), (A, "ArrayWidth", str(c))]


def sram(i, f, o):
    return [(A, "IfmapSramSzkB", str(i)), (A, "FilterSramSzkB", str(f)),
            (A, "OfmapSramSzkB", str(o))]


def df(d):
    return [(A, "Dataflow", d)]


def user_bw(bw, bank_bw, banks="1"):
    """USER mode: Bandwidth[0] drives the OFMAP drain; the IFMAP/FILTER DRAM side uses
    [layout] IfmapSRAMBankBandwidth / FilterSRAMBankBandwidth (single_layer_sim.py: run)."""
    L = "layout"
    return [("run_presets", "InterfaceBandwidth", "USER"), (A, "Bandwidth", str(bw)),
            (L, "IfmapSRAMBankBandwidth", str(bank_bw)), (L, "FilterSRAMBankBandwidth", str(bank_bw)),
            (L, "IfmapSRAMBankNum", banks), (L, "FilterSRAMBankNum", banks)]


SPARSE_ON = [("sparsity", "SparsitySupport", "true"), ("sparsity", "SparseRep", "ellpack_block"),
             ("sparsity", "OptimizedMapping", "false")]


def build_cases():
    """(case name, base config, overrides, [(topology, input type), ...])"""
    cases = []
    # A. dense, CALC (estimate-bandwidth) mode, scale.cfg sizes (64 kB each): array shapes x df
    for (r, c) in [(32, 32), (8, 8), (16, 4), (4, 16), (12, 14)]:
        for d in ("os", "ws", "is"):
            cases.append((f"dense_{r}x{c}_{d}", "scale.cfg", arr(r, c) + df(d),
                          [SMALL_CONV, SMALL_GEMM]))
    # B. TPU-like 128x128 (google.cfg SRAM sizes, CALC mode so every number is closed-form)
    for d in ("os", "ws", "is"):
        cases.append((f"tpu128_{d}", "google.cfg",
                       arr(128, 128) + df(d) + [("run_presets", "InterfaceBandwidth", "CALC")],
                       [SMALL_CONV, SMALL_GEMM, RESNET_SUB]))
    # C. ResNet-18 layers on 32x32 (scale.cfg)
    for d in ("os", "ws", "is"):
        cases.append((f"resnet_sub_32x32_{d}", "scale.cfg", arr(32, 32) + df(d), [RESNET_SUB]))
    # D. layer-wise N:M sparsity (SparsitySupport true, OptimizedMapping false)
    for (r, c) in [(8, 8), (32, 32), (12, 14)]:
        for d in ("os", "ws", "is"):
            cases.append((f"sparse_{r}x{c}_{d}", "scale.cfg", arr(r, c) + df(d) + SPARSE_ON,
                          [SPARSE_CONV, SPARSE_GEMM]))
    # E. CALC with 1 kB SRAMs: large-footprint prefetch regime + mid-run OFMAP drains (no stalls)
    for d in ("os", "ws", "is"):
        cases.append((f"calc_1kB_8x8_{d}", "scale.cfg", arr(8, 8) + df(d) + sram(1, 1, 1),
                      [SMALL_CONV]))
    # F. USER bandwidth mode -> stalls
    for d in ("os", "ws", "is"):
        cases.append((f"user_1kB_bw2_8x8_{d}", "scale.cfg",
                      arr(8, 8) + df(d) + sram(1, 1, 1) + user_bw(2, 2), [SMALL_CONV]))
        cases.append((f"user_64kB_bw10_32x32_{d}", "scale.cfg",
                      arr(32, 32) + df(d) + user_bw(10, 10), [SMALL_CONV, SMALL_GEMM]))
    cases.append(("google_user_256x256_ws", "google.cfg", [], [SMALL_CONV, SMALL_GEMM]))
    return cases


def write_config(case, base, overrides):
    cp = configparser.ConfigParser()
    cp.optionxform = str  # keep key case as in the upstream files (the reader is case-insensitive)
    cp.read(os.path.join(CFG_DIR, base))
    cp["general"]["run_name"] = case
    for sec, key, val in overrides:
        cp[sec][key] = val
    os.makedirs(GEN_DIR, exist_ok=True)
    path = os.path.join(GEN_DIR, case + ".cfg")
    buf = io.StringIO()
    cp.write(buf)
    with open(path, "w") as f:
        f.write(f"# generated by validation/scalesim/generate.py from configs/{base}\n")
        f.write(buf.getvalue())
    return path, cp


def read_topology_rows(path, form):
    """The layer rows as SCALE-Sim's reader sees them (trailing comma dropped)."""
    rows = []
    with open(path) as f:
        lines = [ln.strip() for ln in f]
    for ln in lines[1:]:
        if not ln:
            continue
        e = [x.strip() for x in ln.split(",")[:-1]]
        if form == "gemm":
            sp = e[4] if len(e) > 4 else "none"
            rows.append(dict(layer_name=e[0], ifmap_h="", ifmap_w="", filter_h="", filter_w="",
                             channels="", num_filters="", stride="", gemm_m=e[1], gemm_n=e[2],
                             gemm_k=e[3], sparsity=sp))
        else:
            sp = e[8] if len(e) > 8 else "none"
            rows.append(dict(layer_name=e[0], ifmap_h=e[1], ifmap_w=e[2], filter_h=e[3],
                             filter_w=e[4], channels=e[5], num_filters=e[6], stride=e[7],
                             gemm_m="", gemm_n="", gemm_k="", sparsity=sp))
    return rows


def read_report(path):
    with open(path) as f:
        r = list(csv.reader(f))
    head = [h.strip() for h in r[0]]
    out = []
    for row in r[1:]:
        if not row or not row[0].strip():
            continue
        out.append({h: v.strip() for h, v in zip(head, row, strict=False) if h})
    return out


COLUMNS = [
    "case", "config_file", "topology_file", "topology_form", "dataflow", "array_rows", "array_cols",
    "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb", "bandwidth_mode", "bandwidth",
    "ifmap_bank_bw", "filter_bank_bw", "sparsity_support",
    "layer_id", "layer_name", "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels",
    "num_filters", "stride", "gemm_m", "gemm_n", "gemm_k", "sparsity",
    "total_cycles_incl_prefetch", "total_cycles", "stall_cycles", "overall_util",
    "mapping_efficiency", "compute_util",
    "sram_ifmap_start", "sram_ifmap_stop", "sram_ifmap_reads",
    "sram_filter_start", "sram_filter_stop", "sram_filter_reads",
    "sram_ofmap_start", "sram_ofmap_stop", "sram_ofmap_writes",
    "dram_ifmap_start", "dram_ifmap_stop", "dram_ifmap_reads",
    "dram_filter_start", "dram_filter_stop", "dram_filter_reads",
    "dram_ofmap_start", "dram_ofmap_stop", "dram_ofmap_writes",
]

COMPUTE_MAP = {
    "total_cycles_incl_prefetch": "Total Cycles (incl. prefetch)",
    "total_cycles": "Total Cycles", "stall_cycles": "Stall Cycles",
    "overall_util": "Overall Util %", "mapping_efficiency": "Mapping Efficiency %",
    "compute_util": "Compute Util %",
}
DETAIL_MAP = {}
for _op, _name in (("ifmap", "IFMAP"), ("filter", "Filter"), ("ofmap", "OFMAP")):
    _rw = "Writes" if _op == "ofmap" else "Reads"
    for _mem in ("SRAM", "DRAM"):
        DETAIL_MAP[f"{_mem.lower()}_{_op}_start"] = f"{_mem} {_name} Start Cycle"
        DETAIL_MAP[f"{_mem.lower()}_{_op}_stop"] = f"{_mem} {_name} Stop Cycle"
        DETAIL_MAP[f"{_mem.lower()}_{_op}_{_rw.lower()}"] = f"{_mem} {_name} {_rw}"


def run_case(case, base, overrides, topos):
    from scalesim.scale_sim import scalesim

    cfg_path, cp = write_config(case, base, overrides)
    a = cp[A]
    mode = cp["run_presets"]["InterfaceBandwidth"].strip()
    rows = []
    for topo_rel, form in topos:
        topo = os.path.join(HERE, topo_rel)
        tmp = tempfile.mkdtemp(prefix="scalesim_ref_")
        try:
            s = scalesim(save_disk_space=True, verbose=False, config=cfg_path, topology=topo,
                         layout=LAYOUT, input_type_gemm=(form == "gemm"))
            s.run_scale(top_path=tmp)
            rd = os.path.join(tmp, s.config.get_run_name())
            comp = read_report(os.path.join(rd, "COMPUTE_REPORT.csv"))
            det = read_report(os.path.join(rd, "DETAILED_ACCESS_REPORT.csv"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        layers = read_topology_rows(topo, form)
        assert len(layers) == len(comp) == len(det), (case, topo_rel)
        for lid, (ly, c, d) in enumerate(zip(layers, comp, det, strict=False)):
            row = dict(
                case=case, config_file=os.path.relpath(cfg_path, HERE), topology_file=topo_rel,
                topology_form=form, dataflow=a["Dataflow"].strip(),
                array_rows=a["ArrayHeight"].strip(), array_cols=a["ArrayWidth"].strip(),
                ifmap_sram_kb=a["IfmapSramSzkB"].strip(), filter_sram_kb=a["FilterSramSzkB"].strip(),
                ofmap_sram_kb=a["OfmapSramSzkB"].strip(), bandwidth_mode=mode,
                bandwidth=a["Bandwidth"].strip() if mode == "USER" else "",
                ifmap_bank_bw=cp["layout"]["IfmapSRAMBankBandwidth"].strip() if mode == "USER" else "",
                filter_bank_bw=cp["layout"]["FilterSRAMBankBandwidth"].strip() if mode == "USER" else "",
                sparsity_support=cp["sparsity"]["SparsitySupport"].strip().lower(),
                layer_id=lid, **ly)
            for k, v in COMPUTE_MAP.items():
                row[k] = c[v]
            for k, v in DETAIL_MAP.items():
                row[k] = d[v]
            rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", help="case names (prefix match); default: all")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--out", default=OUT_CSV)
    args = ap.parse_args()
    cases = build_cases()
    if args.list:
        for c in cases:
            print(c[0], c[1], [t[0] for t in c[3]])
        return 0
    if args.only:
        cases = [c for c in cases if any(c[0].startswith(p) for p in args.only)]
    t_all = time.perf_counter()
    all_rows, timings = [], {}
    for case, base, ov, topos in cases:
        t0 = time.perf_counter()
        all_rows.extend(run_case(case, base, ov, topos))
        timings[case] = round(time.perf_counter() - t0, 2)
        print(f"{case:32s} {timings[case]:8.2f} s", flush=True)
    wall = time.perf_counter() - t_all
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in all_rows:
            w.writerow(r)
    print(f"{len(all_rows)} rows -> {args.out} in {wall:.1f} s")
    if not args.only and args.out == OUT_CSV:
        write_provenance(wall, timings, len(all_rows))
    return 0


def write_provenance(wall, timings, nrows):
    from importlib.metadata import version
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True,
                            text=True).stdout.split()
    prov = {
        "scalesim_version": version("scalesim"),
        "numpy_version": version("numpy"),
        "python": platform.python_version(),
        "pip_freeze": freeze,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "install_commands": [
            "python3 -m venv /work/scalesim-venv",
            "/work/scalesim-venv/bin/pip install scalesim==3.0.0 \"numpy<2.4\"",
        ],
        "generate_command": "/work/scalesim-venv/bin/python validation/scalesim/generate.py",
        "check_command": "python3 validation/scalesim/check_formulas.py",
        "scalesim_api": "scalesim.scale_sim.scalesim(save_disk_space=True, verbose=False, "
                        "config=CFG, topology=TOPO, layout=layouts/empty_layout.csv, "
                        "input_type_gemm=FORM=='gemm').run_scale(top_path=TMP)",
        "machine": "2 cores",
        "machine_detail": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.system()} "
                          f"{platform.release()}",
        "rows": nrows,
        "wall_s": round(wall, 1),
        "per_case_wall_s": timings,
    }
    with open(PROV, "w") as f:
        json.dump(prov, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
