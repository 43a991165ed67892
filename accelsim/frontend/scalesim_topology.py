"""SCALE-Sim topology CSV files as dense workloads (every operand value nonzero, seeded normal values), so that a
SCALE-Sim user can bring their topology and a dense systolic run can be compared with SCALE-Sim's own.

The format, as SCALE-Sim's parser reads it (scalesim-project/scale-sim-v2 and scalesim-project/SCALE-Sim,
`scalesim/topology_utils.py`, `load_arrays_conv` / `load_arrays_gemm`; operand shapes from
`scalesim/compute/operand_matrix.py`):

- The first line is a header; blank lines are skipped. Fields are comma-separated and SCALE-Sim drops whatever
  follows a row's last comma (files use that slot for notes such as `#dw`), so every row ends with a comma.
- Conv form, header `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter,
  Strides,`: one stride for both directions; an optional ninth field `N:M` is the sparsity of SCALE-Sim v3. Older
  files written by SCALE-Sim itself carry `Stride height, Stride width` instead of `Strides`. There is no padding:
  the IFMAP size is the (already padded) input, and the output here is the convolution's P = (H - R) // stride + 1.
  SCALE-Sim's `topo_calc_hyperparams` computes ceil((H - R + stride) / stride) instead, one more where the stride
  does not divide H - R: its last window reaches past the IFMAP edge (`calc_ifmap_elem_addr` marks those addresses
  -1) and its MAC count and operand matrices include it. Such layers are listed in the provenance under
  `scalesim_larger_ofmap`, so a comparison with SCALE-Sim's cycles can allow for them. A layer whose name contains
  `DP` is depthwise: SCALE-Sim runs it as Channels single-channel convs of Num Filter filters each, lowered here to
  one conv2d with groups = C and K = C x Num Filter (the same MACs).
- GEMM form (SCALE-Sim's `-i gemm`), header `Layer name, M, N, K,`: SCALE-Sim turns a row into a conv with a
  1-channel M x K IFMAP, a 1 x K filter and N filters, i.e. output (M x N) = IFMAP operand (M x K) . filter
  operand (K x N): M is the rows of the input, K the reduction, N the outputs. (`get_transformed_mnk_dimensions`'s
  docstring says "MxN times NxK"; its code, used here, says M = output pixels, N = filters, K = window size.)
  Lowered to `linear` with input (M, K) and weight (N, K). An optional fifth field is `N:M` sparsity or, in
  current SCALE-Sim, an integer batch (heads of a batched dot_general, as attention's); a sixth field is the batch
  after a sparsity field. A batch above 1 lowers to `matmul` input (G, M, K) x right operand (G, K, N), whose right
  operand is taken to be an activation (`weight_is_static=False`).

Sparsity `N:M` (N nonzeros of every M) is applied as SCALE-Sim's layer-wise mode does it: in each filter column
the first N of every M reduction positions are kept, in SCALE-Sim's window order (filter row, filter column,
channel). SCALE-Sim applies it only when its config sets `SparsitySupport`; here `apply_sparsity=False` ignores
it likewise. `1:1` is dense.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from accelsim.frontend.synthetic import layer_rng, sparse_random_array
from accelsim.workload import Layer, Workload, WorkloadError, scalesim_conv_output_size

GENERATOR = "accelsim.frontend.scalesim_topology dense seeded-normal values"
_CONV_HEAD = ("ifmap height", "ifmap width", "filter height", "filter width", "channels", "num filter")
_CONV_COLUMNS = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
                 "Num Filter")
_GEMM_COLUMNS = ("Layer name", "M", "N", "K")
_RATIO = re.compile(r"^(\d+):(\d+)$")


def read_scalesim_topology(path: str | Path, seed: int = 0, batch: int = 1, *,
                           apply_sparsity: bool = True) -> Workload:
    """The layers of a SCALE-Sim topology file (conv or GEMM form, told apart by the header) as a workload.
    `batch` is the N of conv inputs, multiplies the rows M of a GEMM, and the batch G of a batched GEMM."""
    path = Path(path)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise WorkloadError(f"SCALE-Sim topology {path}: seed must be an integer >= 0, got {seed!r}")
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 1:
        raise WorkloadError(f"SCALE-Sim topology {path}: batch must be an integer >= 1, got {batch!r}")
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise WorkloadError(f"SCALE-Sim topology {path}: cannot be read ({error.strerror or error})") from None
    form, columns = _detect_form(lines[0] if lines else "", path)
    layers, used_names, sparse_rows = [], set(), 0
    for line_number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(",")[:-1]]
        where = f"SCALE-Sim topology {path}, line {line_number}"
        if len(fields) < len(columns):
            raise WorkloadError(f"{where}: {len(fields)} fields before the last comma, expected {len(columns)} "
                                f"({', '.join(columns)}) and a trailing comma; SCALE-Sim ignores whatever follows "
                                "the last comma, so a row without one loses its last value")
        name = _unique(fields[0], used_names, where)
        sizes = {column: _positive_int(text, column, where) for column, text in zip(columns[1:], fields[1:],
                                                                                   strict=False)}
        ratio, heads = _extras(fields[len(columns):], form, where)
        sparse_rows += ratio != (1, 1)
        ratio = ratio if apply_sparsity else (1, 1)
        if form == "gemm":
            layers.append(_gemm_layer(name, sizes, ratio, batch, heads, seed))
        else:
            layers.append(_conv_layer(name, sizes, ratio, batch, seed, where))
    if not layers:
        raise WorkloadError(f"SCALE-Sim topology {path}: no layer rows after the header")
    larger = [layer.name for layer in layers if _scalesim_ofmap_is_larger(layer)]
    sparsity = "none in file" if not sparse_rows else ("applied (layer-wise, first N of every M)" if apply_sparsity
                                                       else "ignored (apply_sparsity=False)")
    provenance = {"model": path.stem, "generator": GENERATOR, "seed": int(seed), "table": path.name,
                  "source": f"SCALE-Sim topology file, {form} form", "batch": int(batch), "nm_sparsity": sparsity,
                  "scalesim_larger_ofmap": larger}
    return Workload(layers=tuple(layers), provenance=provenance)


def _scalesim_ofmap_is_larger(layer: Layer) -> bool:
    if layer.op != "conv2d":
        return False
    d = layer.dims
    p, q = scalesim_conv_output_size(d["H"], d["W"], d["R"], d["S"], layer.stride, layer.padding, layer.dilation)
    return p > d["P"] or q > d["Q"]


def _detect_form(header: str, path: Path) -> tuple[str, tuple[str, ...]]:
    cells = [" ".join(cell.split()).lower() for cell in header.split(",")]
    if len(cells) >= 4 and cells[1:4] == ["m", "n", "k"]:
        return "gemm", _GEMM_COLUMNS
    if tuple(cells[1:7]) == _CONV_HEAD:
        if cells[7:9] == ["stride height", "stride width"]:
            return "conv", (*_CONV_COLUMNS, "Stride height", "Stride width")
        if len(cells) > 7 and cells[7] in ("strides", "stride"):
            return "conv", (*_CONV_COLUMNS, "Strides")
    raise WorkloadError(f"SCALE-Sim topology {path}, line 1: the header {header.strip()!r} is neither SCALE-Sim's "
                        f"conv form ({', '.join(_CONV_COLUMNS)}, Strides, with an optional Sparsity) nor its GEMM "
                        "form (Layer name, M, N, K, with an optional Sparsity or Batch); column names are "
                        "compared ignoring case and spaces")


def _unique(name: str, used: set[str], where: str) -> str:
    """The CSV's layer name, suffixed `_2`, `_3`, ... where it repeats (SCALE-Sim allows that, a Workload not)."""
    if not name:
        raise WorkloadError(f"{where}, column 'Layer name': the name is empty; every layer needs one")
    unique, count = name, 1
    while unique in used:
        count += 1
        unique = f"{name}_{count}"
    used.add(unique)
    return unique


def _positive_int(text: str, column: str, where: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise WorkloadError(f"{where}, column {column!r}: {text!r} is not allowed; sizes and strides are integers "
                            ">= 1")
    return int(text)


def _extras(fields: list[str], form: str, where: str) -> tuple[tuple[int, int], int]:
    """The optional fields after the sizes: (sparsity N, M) and, for GEMM rows, the batch (heads) count."""
    while fields and not fields[-1]:
        fields = fields[:-1]  # an empty optional field means "absent", as in a row ending ", ,"
    allowed = ("Sparsity",) if form == "conv" else ("Sparsity or batch", "Batch")
    if len(fields) > len(allowed):
        raise WorkloadError(f"{where}: {len(fields)} fields after the sizes, at most {len(allowed)} allowed "
                            f"({', '.join(allowed)}), then the trailing comma")
    if len(fields) == 2:
        return _ratio(fields[0], "Sparsity", where), _positive_int(fields[1], "Batch", where)
    if fields and form == "gemm" and ":" not in fields[0]:
        return (1, 1), _positive_int(fields[0], allowed[0], where)
    return (_ratio(fields[0], "Sparsity", where) if fields else (1, 1)), 1


def _ratio(text: str, column: str, where: str) -> tuple[int, int]:
    match = _RATIO.match(text.replace(" ", ""))
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise WorkloadError(f"{where}, column {column!r}: {text!r} is not allowed; sparsity is N:M (N nonzeros "
                            "kept of every M values), integers with 1 <= N <= M, e.g. 2:4")
    return int(match[1]), int(match[2])


def _conv_layer(name: str, sizes: dict[str, int], ratio: tuple[int, int], batch: int, seed: int,
                where: str) -> Layer:
    h, w, r, s = sizes["IFMAP Height"], sizes["IFMAP Width"], sizes["Filter Height"], sizes["Filter Width"]
    for filt, size, column in ((r, h, "Filter Height"), (s, w, "Filter Width")):
        if filt > size:
            raise WorkloadError(f"{where}, column {column!r}: the filter ({filt}) is larger than the IFMAP "
                                f"({size}); SCALE-Sim convs are unpadded: the filter must fit the IFMAP as given")
    c, filters = sizes["Channels"], sizes["Num Filter"]
    stride = (sizes["Strides"],) * 2 if "Strides" in sizes else (sizes["Stride height"], sizes["Stride width"])
    groups, k = (c, c * filters) if "DP" in name else (1, filters)
    weight = sparse_random_array((k, c // groups, r, s), 1.0, layer_rng(seed, name, "weight"))
    # SCALE-Sim's window order puts the channel innermost: index (r * S + s) * C + c.
    channel, row, col = np.ix_(np.arange(c // groups), np.arange(r), np.arange(s))
    weight *= ((row * s + col) * (c // groups) + channel) % ratio[1] < ratio[0]
    return Layer(name=name, op="conv2d", stride=stride, groups=groups, weight=weight,
                 input=sparse_random_array((batch, c, h, w), 1.0, layer_rng(seed, name, "input")))


def _gemm_layer(name: str, sizes: dict[str, int], ratio: tuple[int, int], batch: int, heads: int,
                seed: int) -> Layer:
    m, n, k = sizes["M"], sizes["N"], sizes["K"]
    keep = np.arange(k) % ratio[1] < ratio[0]  # along the reduction: the rows of SCALE-Sim's filter matrix
    if heads == 1:
        weight = sparse_random_array((n, k), 1.0, layer_rng(seed, name, "weight")) * keep
        return Layer(name=name, op="linear", weight=weight,
                     input=sparse_random_array((batch * m, k), 1.0, layer_rng(seed, name, "input")))
    g = batch * heads
    weight = sparse_random_array((g, k, n), 1.0, layer_rng(seed, name, "weight")) * keep[:, None]
    return Layer(name=name, op="matmul", weight=weight, weight_is_static=False,
                 input=sparse_random_array((g, m, k), 1.0, layer_rng(seed, name, "input")))
