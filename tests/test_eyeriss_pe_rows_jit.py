"""pe_rows_jit.pe_rows (the per-PE rows of the Eyeriss traffic accounting) against the numpy code it replaced in
traffic.phase_traffic, on random small layers and settings, jitted and as its .py_func (and, under
NUMBA_DISABLE_JIT=1, as plain Python)."""

from __future__ import annotations

import numpy as np
import pytest
from test_eyeriss_jit import both, walk
from test_eyeriss_walk_jit import SETTINGS, random_layer

from accelsim.arch_configs import load_arch
from accelsim.dataflows.eyeriss import jit, pe_rows_jit, traffic, traffic_jit
from accelsim.dataflows.eyeriss.machine import v1_machine, v2_machine
from accelsim.dataflows.eyeriss.walk import walk_layer


def numpy_pe_rows(problem, machine, mapping, job_pes):
    """traffic.phase_traffic's per-PE rows as numpy built them before issue 20's second Eyeriss speed step."""
    jobs, tiles = mapping.jobs, mapping.tiles
    slot = jobs.slot
    pe_job = np.repeat(np.arange(len(jobs)), job_pes)
    pe_k = np.arange(pe_job.size) - np.repeat(np.cumsum(job_pes) - job_pes, job_pes)
    item = jobs.slice[pe_job] * mapping.chain_length + pe_k
    pe_row = (slot[pe_job] // machine.cols) * mapping.chain_length + pe_k
    pe_col = slot[pe_job] % machine.cols
    cb, r = mapping.items_cb[item], mapping.items_r[item]
    h = jobs.p[pe_job] * problem.stride[0] + r * problem.dilation[0] - problem.padding[0]
    x = problem.x
    _n_img, _groups, cg, height, width = x.shape
    lo = np.clip(jobs.q0[pe_job] * problem.stride[1] - problem.padding[1], 0, width)
    hi = np.clip((jobs.q1[pe_job] - 1) * problem.stride[1] + (problem.s - 1) * problem.dilation[1]
                 - problem.padding[1] + 1, 0, width)
    inside = (h >= 0) & (h < height) & (hi > lo)
    if mapping.csc_iacts:
        prefix = traffic_jit.block_row_prefix(x, tiles.c0)
        g = tiles.block_group[jobs.block[pe_job]]
        row = np.clip(h, 0, height - 1)
        values = prefix[jobs.n[pe_job], g, cb, row, hi] - prefix[jobs.n[pe_job], g, cb, row, lo]
        bits = values * machine.pair_bits + np.ceil((hi - lo) / problem.stride[1]).astype(np.int64) * machine.count_bits
    else:
        values = (np.minimum(cg, (cb + 1) * tiles.c0) - cb * tiles.c0) * (hi - lo)
        bits = values * machine.act_bits
    domain = ((pe_row // machine.domain_rows) * (machine.cols // machine.domain_cols)
              + pe_col // machine.domain_cols)
    key = (((jobs.n[pe_job] * problem.groups + tiles.block_group[jobs.block[pe_job]]) * tiles.channel_blocks + cb)
           * (x.shape[3] + 1) + np.clip(h + 1, 0, None)) * (problem.q + 1) + jobs.q0[pe_job]
    entries = tiles.tile_entries[jobs.block[pe_job], cb, r]
    if machine.csc_weights:
        tile_bits = (entries * machine.pair_bits
                     + (tiles.c0 * tiles.col_entries.shape[3] + 1) * machine.weight_address_bits)
    else:
        tile_bits = entries * machine.weight_bits
    port = ((pe_row // machine.weight_port_rows) * (machine.cols // machine.weight_port_cols)
            + pe_col // machine.weight_port_cols)
    load = jobs.loads[pe_job]
    iact_rows = (jobs.phase[pe_job], pe_row, slot[pe_job], domain, key, np.where(inside, bits, 0),
                 np.where(inside, values, 0))
    weight_rows = (jobs.phase[pe_job][load], pe_row[load], slot[pe_job][load], port[load],
                   (jobs.block[pe_job] * mapping.items_cb.size + item)[load], tile_bits[load])
    return iact_rows, weight_rows


@pytest.mark.parametrize("kernel", both(pe_rows_jit.pe_rows))
@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("seed", range(4))
def test_pe_rows_equal_numpy(kernel, setting, seed):
    name, overrides = SETTINGS[setting]
    arch = load_arch(name, overrides)
    machine = (v1_machine if name == "eyeriss-v1" else v2_machine)(arch, arch.dataflow.config)
    problem, _tiles, mapping, _args = walk(random_layer(seed), arch, machine)
    job_pes = walk_layer(problem, machine, mapping)[0][:, jit.JOB_PES]
    rows = kernel(*traffic.pe_rows_args(problem, machine, mapping, job_pes))
    expected = numpy_pe_rows(problem, machine, mapping, job_pes)
    assert rows[0][0].size == int(job_pes.sum()) > 0
    for got, want in zip(rows, expected, strict=True):
        for got_field, want_field in zip(got, want, strict=True):
            np.testing.assert_array_equal(got_field, want_field)
