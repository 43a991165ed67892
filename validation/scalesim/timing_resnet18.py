"""Time SCALE-Sim v3 on the full ResNet-18 topology (32x32 WS, CALC bandwidth, no traces).

Run under the scalesim venv, wrapped in /usr/bin/time -v so peak RSS is measured by the OS:

    /usr/bin/time -v /work/scalesim-venv/bin/python validation/scalesim/timing_resnet18.py \
        2> /tmp/scalesim_resnet18_time.txt

It writes benchmarks/scalesim_resnet18_timing.json (from the repo root). If /usr/bin/time output is
passed with --time-log, its "Maximum resident set size" is used for peak_rss_mb; otherwise
resource.getrusage(RUSAGE_SELF).ru_maxrss is used.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CONFIG = os.path.join(HERE, "configs", "scale_ws_32x32.cfg")
TOPO = os.path.join(REPO, "workloads", "scalesim", "resnet18.csv")
LAYOUT = os.path.join(HERE, "layouts", "empty_layout.csv")
OUT_JSON = os.path.join(REPO, "benchmarks", "scalesim_resnet18_timing.json")


def run():
    from scalesim.scale_sim import scalesim  # imported here so import time is inside wall_s too

    top = tempfile.mkdtemp(prefix="scalesim_resnet18_")
    t0 = time.perf_counter()
    s = scalesim(save_disk_space=True, verbose=False, config=CONFIG, topology=TOPO,
                 layout=LAYOUT, input_type_gemm=False)
    s.run_scale(top_path=top)
    wall = time.perf_counter() - t0
    run_dir = os.path.join(top, s.config.get_run_name())
    with open(os.path.join(run_dir, "COMPUTE_REPORT.csv")) as f:
        rows = [r for r in csv.reader(f)][1:]
    per_layer = [int(float(r[2])) for r in rows if r and r[0].strip()]
    incl = [int(float(r[1])) for r in rows if r and r[0].strip()]
    stalls = [int(float(r[3])) for r in rows if r and r[0].strip()]
    shutil.rmtree(top)
    return wall, per_layer, incl, stalls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-log", help="file holding /usr/bin/time -v output of a previous run")
    ap.add_argument("--from-partial", help="json written by a previous run (to add --time-log RSS)")
    ap.add_argument("--out", default=OUT_JSON, help="where to write the timing json")
    args = ap.parse_args()
    if args.from_partial:
        with open(args.from_partial) as f:
            out = json.load(f)
    else:
        from importlib.metadata import version

        import scalesim  # noqa: F401
        wall, per_layer, incl, stalls = run()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        with open(CONFIG) as f:
            cfg_text = f.read()
        out = {
            "scalesim_version": version("scalesim"),
            "numpy_version": version("numpy"),
            "python": platform.python_version(),
            "config_file": os.path.relpath(CONFIG, REPO),
            "config": cfg_text,
            "topology": os.path.relpath(TOPO, REPO),
            "input_type": "conv",
            "save_traces": False,
            "wall_s": round(wall, 2),
            "peak_rss_mb": round(rss_mb, 1),
            "peak_rss_source": "resource.getrusage(RUSAGE_SELF).ru_maxrss",
            "per_layer_total_cycles": per_layer,
            "per_layer_total_cycles_incl_prefetch": incl,
            "per_layer_stall_cycles": stalls,
            "sum_total_cycles": sum(per_layer),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": "/usr/bin/time -v /work/scalesim-venv/bin/python "
                       "validation/scalesim/timing_resnet18.py 2> /tmp/scalesim_resnet18_time.txt; "
                       "/work/scalesim-venv/bin/python validation/scalesim/timing_resnet18.py "
                       "--from-partial benchmarks/scalesim_resnet18_timing.json "
                       "--time-log /tmp/scalesim_resnet18_time.txt",
            "machine": "2 cores",
            "machine_detail": f"{platform.machine()} {os.cpu_count()} CPUs, "
                              f"{platform.system()} {platform.release()}",
        }
    if args.time_log:
        with open(args.time_log) as f:
            for line in f:
                line = line.strip()
                if line.startswith("Maximum resident set size (kbytes):"):
                    out["peak_rss_mb"] = round(int(line.split(":")[1]) / 1024.0, 1)
                    out["peak_rss_source"] = "/usr/bin/time -v Maximum resident set size"
                if line.startswith("Elapsed (wall clock) time"):
                    out["process_elapsed"] = line.rsplit(": ", 1)[1].strip()
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(json.dumps({k: v for k, v in out.items() if k != "config"}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
