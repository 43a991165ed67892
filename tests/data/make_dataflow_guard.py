"""Write tests/data/dataflow_guard.json: the results of SCNN, DCNN and the systolic array on the guard's layers
(tests/dataflow_guard_cases.py), pinned before the speed work of issue 20 so that the faster code can be checked
bit for bit against the model as it was. Run from the repository root, on a tree whose accelsim/ is committed:

    PYTHONPATH=$PWD:tests python tests/data/make_dataflow_guard.py

It records the commit it ran at. Rerun it only to pin a deliberate change of the model (a fixed bug), and say so
in that commit.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

from dataflow_guard_cases import ARCHS, LAYERS, arch, layer, record

OUT = Path(__file__).with_name("dataflow_guard.json")


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    if subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "accelsim"], cwd=root).returncode:
        sys.exit("accelsim/ has uncommitted changes: commit first, so that the file names the code it pins")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                            check=True).stdout.strip()
    layers = {name: layer(name) for name in LAYERS}
    results = {}
    for variant in ARCHS:
        arch_ = arch(variant)
        results[variant] = {name: record(one, arch_) for name, one in layers.items()}
        print(f"{variant}: {sum('error' not in r for r in results[variant].values())} of {len(layers)} run")
    header = {"made_by": "tests/data/make_dataflow_guard.py", "commit": commit,
              "date": datetime.date.today().isoformat(),
              "about": "results of SCNN, DCNN and systolic on tests/dataflow_guard_cases.py, pinned before the speed "
                       "work of issue 20 (937b792) and regenerated only for fixed bugs (the commits say which): a "
                       "refactoring guard (bit-identity), not a correctness claim"}
    text = json.dumps({"header": header, "results": results}, indent=0, sort_keys=True)
    OUT.write_text(text + "\n")
    print(f"wrote {OUT} ({len(text) / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
