"""Synthetic workloads from layer tables: for each row of a table (a CSV in `accelsim/data/`, or one of the user's)
draw operands whose nonzeros sit at uniformly random positions, exactly round(density * size) of them, with seeded
normal values. This is the one place where sparsity comes from a density number instead of a real model (see
DESIGN.md), so the generator, the seed and the table's citation are recorded in the provenance.

A layer table has one `# source: <citation>` comment line (other `#` lines are notes) and these columns:

| column                          | meaning                                                    | needed        |
|---------------------------------|------------------------------------------------------------|---------------|
| name, op                        | unique layer name; `conv2d` or `linear`                    | always        |
| N, C, K                         | batch, input channels (features), output channels          | always        |
| weight_density, input_density   | nonzero fraction in (0, 1]                                 | always        |
| H, W, R, S                      | input height/width, filter height/width                    | conv2d rows   |
| stride, padding, groups         | square stride and padding; groups (default 1, 0, 1)        | optional      |

Cells of conv-only columns stay empty on `linear` rows.
"""

from __future__ import annotations

import csv
import difflib
import math
import zlib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from accelsim.workload import Layer, Workload, WorkloadError

GENERATOR = "accelsim.frontend.synthetic uniform-random positions"
SYNTHETIC_TABLES: dict[str, str] = {
    "eie-benchmark": "EIE's nine benchmark FC/LSTM layers, batch 1, pruned densities (Han et al., ISCA 2016, "
                     "Table III)",
    "mobilenet-v1": "MobileNet v1, 224x224, width 1.0: 28 conv/depthwise/pointwise/FC layers, unpruned weights, "
                    "half-dense post-ReLU inputs (Howard et al. 2017, Table 1)",
}
REQUIRED_COLUMNS = ("name", "op", "N", "C", "K", "weight_density", "input_density")
CONV_COLUMNS = ("H", "W", "R", "S", "stride", "padding", "groups")
_CONV_DEFAULTS = {"stride": 1, "padding": 0, "groups": 1}
_TABLE_OPS = ("conv2d", "linear")
_OPERAND_STREAM = {"weight": 0, "input": 1}

Density = float | Mapping[str, float]


def layer_rng(seed: int, layer_name: str, operand: str) -> np.random.Generator:
    """The generator for one operand of one layer: keyed by name (crc32, stable across runs and platforms), so a
    layer's arrays do not depend on which other layers are generated, nor on the other operand's density."""
    return np.random.default_rng([seed, zlib.crc32(layer_name.encode()), _OPERAND_STREAM[operand]])


def sparse_random_array(shape: tuple[int, ...], density: float, rng: np.random.Generator) -> np.ndarray:
    """float32 array with exactly round(density * size) nonzeros at uniformly random positions, normal values."""
    size = math.prod(shape)
    nonzeros = round(density * size)
    values = rng.standard_normal(nonzeros, dtype=np.float32)
    values[values == 0] = 1.0  # a kept position must stay nonzero, or the density would come out short
    if nonzeros == size:  # every position kept, in order: the values are the array (no mask to draw or apply)
        return values.reshape(shape)
    array = np.zeros(size, dtype=np.float32)
    array[_uniform_mask(size, nonzeros, rng)] = values
    return array.reshape(shape)


def _uniform_mask(size: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask with exactly `count` True at positions uniform over all count-subsets. Each round draws only
    the shortfall, with replacement, so the mask never overshoots; the procedure treats every position alike, so
    the subset is uniform. Memory stays one byte per element (a permutation of 100M indices would take 800 MB).
    Above half density the zeros are drawn instead, to keep the rounds few."""
    flip = count > size // 2
    target = size - count if flip else count
    mask = np.zeros(size, dtype=bool)
    chosen = 0
    while chosen < target:
        mask[rng.integers(0, size, target - chosen)] = True
        chosen = int(np.count_nonzero(mask))
    return ~mask if flip else mask


# --- layer tables ------------------------------------------------------------------------------------------------
def load_layer_table(path: str | Path) -> list[dict]:
    """Rows of a layer table as dicts (ints, floats, None for empty conv-only cells), every value checked."""
    return _read_table(Path(path))[0]


def table_source(path: str | Path) -> str | None:
    """The `# source:` citation of a layer table, or None when it has none."""
    return _read_table(Path(path))[1]


def _read_table(path: Path) -> tuple[list[dict], str | None]:
    try:
        text = path.read_text()
    except OSError as error:
        raise WorkloadError(f"layer table {path}: cannot be read ({error.strerror or error})") from None
    return _parse_table(text, str(path))


def _parse_table(text: str, label: str) -> tuple[list[dict], str | None]:
    sources, header, rows = [], None, []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            comment = line.lstrip()[1:].strip()
            if comment.lower().startswith("source:"):
                sources.append(comment[len("source:"):].strip())
            continue
        if not line.strip():
            continue
        cells = [cell.strip() for cell in next(csv.reader([line]))]
        if header is None:
            header = _check_header(cells, label, line_number)
            continue
        if len(cells) != len(header):
            raise WorkloadError(f"layer table {label}, line {line_number}: {len(cells)} cells but the header has "
                                f"{len(header)} columns ({', '.join(header)}); leave a cell empty rather than out")
        rows.append(_parse_row(dict(zip(header, cells, strict=True)), label, line_number))
    if not rows:
        raise WorkloadError(f"layer table {label}: no layer rows (expected a header line naming the columns "
                            f"{', '.join(REQUIRED_COLUMNS)}, then one row per layer)")
    names = [row["name"] for row in rows]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise WorkloadError(f"layer table {label}: column 'name' repeats {', '.join(repeated)}; names are unique")
    return rows, " ".join(sources) or None


def _check_header(cells: list[str], label: str, line_number: int) -> list[str]:
    known = REQUIRED_COLUMNS + CONV_COLUMNS
    for cell in cells:
        if cell not in known:
            hint = difflib.get_close_matches(cell, known, n=1)
            raise WorkloadError(f"layer table {label}, line {line_number}: unknown column {cell!r}"
                                f"{f' (did you mean {hint[0]!r}?)' if hint else ''}; columns are "
                                f"{', '.join(known)} (names are case-sensitive)")
    missing = [column for column in REQUIRED_COLUMNS if column not in cells]
    if missing or len(set(cells)) != len(cells):
        problem = f"lacks the column(s) {', '.join(missing)}" if missing else "names a column twice"
        raise WorkloadError(f"layer table {label}, line {line_number}: the header {problem}; every table needs "
                            f"{', '.join(REQUIRED_COLUMNS)}, and conv2d rows also {', '.join(CONV_COLUMNS[:4])}")
    return cells


def _parse_row(cells: dict[str, str], label: str, line_number: int) -> dict:
    def fail(column: str, allowed: str) -> WorkloadError:
        return WorkloadError(f"layer table {label}, line {line_number} (layer {cells['name']!r}), column "
                             f"{column!r}: {cells.get(column, '')!r} is not allowed; {allowed}")

    if not cells["name"]:
        raise fail("name", "every layer needs a name")
    if cells["op"] not in _TABLE_OPS:
        raise fail("op", f"op is one of {', '.join(_TABLE_OPS)}")
    conv = cells["op"] == "conv2d"
    row: dict = {"name": cells["name"], "op": cells["op"]}
    for column in ("N", "C", "K", *CONV_COLUMNS):
        text = cells.get(column, "")
        if not conv and column in CONV_COLUMNS:
            if text:
                raise fail(column, f"{', '.join(CONV_COLUMNS)} apply to conv2d rows only; leave them empty")
            row[column] = None
            continue
        if not text and column in _CONV_DEFAULTS:
            row[column] = _CONV_DEFAULTS[column]
            continue
        least = 0 if column == "padding" else 1
        if not (text.isascii() and text.isdigit()) or int(text) < least:
            raise fail(column, f"it must be an integer >= {least}")
        row[column] = int(text)
    for column in ("weight_density", "input_density"):
        try:
            row[column] = float(cells[column])
        except ValueError:
            raise fail(column, "a density is a number in (0, 1]") from None
        if not 0 < row[column] <= 1:
            raise fail(column, "a density is a number in (0, 1]")
    if conv:
        if row["C"] % row["groups"] or row["K"] % row["groups"]:
            raise fail("groups", f"groups must divide C ({row['C']}) and K ({row['K']})")
        for size, filt in (("H", "R"), ("W", "S")):
            if row[filt] > row[size] + 2 * row["padding"]:
                raise fail(filt, f"the filter must fit the padded input ({size} {row[size]} + 2 x padding "
                                 f"{row['padding']})")
    return row


# --- workloads ---------------------------------------------------------------------------------------------------
def synthetic_workload(name: str, seed: int = 0, *, weight_density: Density | None = None,
                       input_density: Density | None = None, batch: int | None = None,
                       layers: Sequence[str] | None = None) -> Workload:
    """The named table of `SYNTHETIC_TABLES` as a workload. A density override is one number for every layer or
    {layer name: density}; `batch` replaces N; `layers` keeps only the named layers (each generated exactly as in
    the full workload)."""
    if name not in SYNTHETIC_TABLES:
        hint = difflib.get_close_matches(name, SYNTHETIC_TABLES, n=1)
        raise WorkloadError(f"unknown synthetic workload {name!r}{f' (did you mean {hint[0]!r}?)' if hint else ''}"
                            f"; known: {', '.join(SYNTHETIC_TABLES)}")
    file_name = name.replace("-", "_") + ".csv"
    rows, source = _parse_table(resources.files("accelsim").joinpath("data", file_name).read_text(), file_name)
    return _build(rows, name, file_name, source, seed, weight_density, input_density, batch, layers)


def workload_from_table(path: str | Path, seed: int = 0, *, weight_density: Density | None = None,
                        input_density: Density | None = None, batch: int | None = None,
                        layers: Sequence[str] | None = None) -> Workload:
    """A workload from the user's own layer table (format in this module's docstring); overrides as in
    `synthetic_workload`. The model is named after the file."""
    path = Path(path)
    rows, source = _read_table(path)
    return _build(rows, path.stem, path.name, source, seed, weight_density, input_density, batch, layers)


def _build(rows: list[dict], model: str, file_name: str, source: str | None, seed: int,
           weight_density: Density | None, input_density: Density | None, batch: int | None,
           layers: Sequence[str] | None) -> Workload:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise WorkloadError(f"synthetic workload {model!r}: seed must be an integer >= 0, got {seed!r}")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 1):
        raise WorkloadError(f"synthetic workload {model!r}: batch must be an integer >= 1, got {batch!r}")
    names = [row["name"] for row in rows]
    weight = _densities(weight_density, "weight_density", rows, model)
    inputs = _densities(input_density, "input_density", rows, model)
    keep = names if layers is None else [_known(name, names, "layers", model) for name in layers]
    built = [_layer(row, seed, weight[row["name"]], inputs[row["name"]], batch) for row in rows
             if row["name"] in keep]
    provenance = {"model": model, "generator": GENERATOR, "seed": int(seed), "table": file_name, "source": source,
                  "weight_density": _describe(weight_density), "input_density": _describe(input_density),
                  "batch": "from table" if batch is None else int(batch)}
    return Workload(layers=tuple(built), provenance=provenance)


def _densities(override: Density | None, column: str, rows: list[dict], model: str) -> dict[str, float]:
    densities = {row["name"]: row[column] for row in rows}
    if override is None:
        return densities
    if isinstance(override, Mapping):
        chosen = {_known(name, list(densities), column, model): value for name, value in override.items()}
    else:
        chosen = dict.fromkeys(densities, override)
    for name, value in chosen.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise WorkloadError(f"synthetic workload {model!r}: {column} for layer {name!r} must be a number in "
                                f"(0, 1], got {value!r}")
    return densities | {name: float(value) for name, value in chosen.items()}


def _known(name: str, names: list[str], what: str, model: str) -> str:
    if name not in names:
        hint = difflib.get_close_matches(str(name), names, n=1)
        raise WorkloadError(f"synthetic workload {model!r}: {what} names layer {name!r}, which the table lacks"
                            f"{f' (did you mean {hint[0]!r}?)' if hint else ''}; layers: {', '.join(names)}")
    return name


def _describe(override: Density | None) -> float | dict | str:
    if override is None:
        return "from table"
    return dict(override) if isinstance(override, Mapping) else float(override)


def _layer(row: dict, seed: int, weight_density: float, input_density: float, batch: int | None) -> Layer:
    n = row["N"] if batch is None else int(batch)
    if row["op"] == "linear":
        input_shape, weight_shape, conv = (n, row["C"]), (row["K"], row["C"]), {}
    else:
        input_shape = (n, row["C"], row["H"], row["W"])
        weight_shape = (row["K"], row["C"] // row["groups"], row["R"], row["S"])
        conv = {"stride": row["stride"], "padding": row["padding"], "groups": row["groups"]}
    name = row["name"]
    return Layer(name=name, op=row["op"], **conv,
                 weight=sparse_random_array(weight_shape, weight_density, layer_rng(seed, name, "weight")),
                 input=sparse_random_array(input_shape, input_density, layer_rng(seed, name, "input")))
