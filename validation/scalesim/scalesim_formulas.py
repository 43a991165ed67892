"""Closed-form model of SCALE-Sim v3.0.0 (PyPI ``scalesim==3.0.0``) per-layer report numbers.

Pure Python (no numpy, no scalesim import) so it can be read and ported. Every function cites the
SCALE-Sim source it mirrors (paths relative to site-packages/scalesim/). FORMULAS.md explains the
derivations; check_formulas.py compares this model with scalesim_reference.csv.

Scope of exactness (see FORMULAS.md, "What is closed-form"):
  * compute side (total cycles without stalls, utilisations, mapping efficiency, SRAM access counts):
    exact for every dataflow / array / dense or layer-wise N:M sparse layer, both bandwidth modes
    (in USER mode the reported stall cycles are an input: total = L - 1 + stalls);
  * SRAM start/stop cycles, DRAM start cycles, DRAM OFMAP writes/start/stop, "incl. prefetch" column,
    DRAM IFMAP/FILTER reads and stop cycles: exact in CALC (estimate-bandwidth) mode; the IFMAP/FILTER
    DRAM reads and stop cycles only in the "small footprint" regime (distinct addresses < 50 sets);
  * USER mode memory numbers (stalls, DRAM traffic) are trace-driven: not modelled here.
"""
import math

# ----------------------------------------------------------------------------------------------
# Layer description
# ----------------------------------------------------------------------------------------------


def conv_layer(name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters, stride,
               sparsity=None):
    """A conv row of a SCALE-Sim topology CSV (topology_utils.py: load_arrays_conv)."""
    return dict(name=name, form="conv", H=ifmap_h, W=ifmap_w, R=filter_h, S=filter_w,
                C=channels, NF=num_filters, stride=stride, sparsity=sparsity)


def gemm_layer(name, m, n, k, sparsity=None):
    """A GEMM row (M, N, K). topology_utils.py: load_arrays_gemm maps it to the conv
    [ifmap_h=M, ifmap_w=K, filter_h=1, filter_w=K, channels=1, num_filters=N, stride=1]."""
    return dict(name=name, form="gemm", H=m, W=k, R=1, S=k, C=1, NF=n, stride=1,
                sparsity=sparsity, M=m, N=n, K=k)


def ofmap_dims(L):
    """topology_utils.py: topo_calc_hyperparams -- E = ceil((H - R + s) / s), same for width.
    NB: this is one more than (H - R)//s + 1 whenever s does not divide H - R."""
    s = L["stride"]
    E = math.ceil((L["H"] - L["R"] + s) / s)
    F = math.ceil((L["W"] - L["S"] + s) / s)
    return E, F


def parse_nm(sparsity):
    """'N:M' string -> (N, M); None/'none'/'' -> (1, 1) (topology_utils default '1:1')."""
    if sparsity in (None, "", "none", "dense"):
        return 1, 1
    n, m = sparsity.split(":")
    return int(n), int(m)


def kept_window_indices(win, n, m):
    """operand_matrix.py: create_filter_matrix / create_ifmap_matrix (OptimizedMapping=false).
    Window (reduction) index w is kept iff (w mod M) < N; K' = floor(win/M)*N + min(win mod M, N).
    (Exact only while no filter address equals 0, i.e. FilterOffset > 0 -- the default 10000000.)"""
    return [w for w in range(win) if (w % m) < n]


def kept_window_count(win, n, m):
    return (win // m) * n + min(win % m, n)


class Layer:
    """Derived per-layer quantities shared by all formulas."""

    def __init__(self, L, sparsity_support=False):
        self.L = L
        self.E, self.F = ofmap_dims(L)
        self.npx = self.E * self.F                      # ofmap pixels per filter
        self.win = L["R"] * L["S"] * L["C"]             # conv window size (GEMM: K)
        self.nf = L["NF"]                               # number of filters (GEMM: N)
        self.n, self.m = parse_nm(L.get("sparsity"))
        # the N:M column is only applied when [sparsity] SparsitySupport is true
        self.sparse = bool(sparsity_support) and (self.n, self.m) != (1, 1)
        if self.sparse:
            self.kept = kept_window_indices(self.win, self.n, self.m)
        else:
            self.kept = list(range(self.win))
        self.k_eff = len(self.kept)                     # columns of the IFMAP operand matrix
        self.num_compute = self.npx * self.nf * self.win  # single_layer_sim.py: num_compute (dense)

    # ifmap address validity (operand_matrix.py: calc_ifmap_elem_addr marks windows that run
    # past the IFMAP edge -- possible because of the ceil in ofmap_dims -- with address -1)
    def _win_parts(self, w):
        S, C = self.L["S"], self.L["C"]
        r, k = divmod(w, S * C)
        sc, _ = divmod(k, C)
        return r, sc

    def valid(self, p, w):
        e, f = divmod(p, self.F)
        r, sc = self._win_parts(w)
        s = self.L["stride"]
        return e * s + r < self.L["H"] and f * s + sc < self.L["W"]

    def last_valid_w_col(self, p):
        """Largest column index k (into self.kept) with valid(p, kept[k]); -1 if none."""
        for k in range(self.k_eff - 1, -1, -1):
            if self.valid(p, self.kept[k]):
                return k
        return -1

    def last_valid_p(self, w):
        """Largest ofmap pixel index p with valid(p, w); -1 if none."""
        r, sc = self._win_parts(w)
        s = self.L["stride"]
        if r >= self.L["H"] or sc >= self.L["W"]:
            return -1
        e_max = min(self.E - 1, (self.L["H"] - 1 - r) // s)
        f_max = min(self.F - 1, (self.L["W"] - 1 - sc) // s)
        return e_max * self.F + f_max

    def any_valid_p(self, w, p_lo, p_hi):
        """Is there a pixel p in [p_lo, p_hi) with valid(p, w)?"""
        for p in range(p_lo, p_hi):
            if self.valid(p, w):
                return True
        return False

    def distinct_ifmap_addresses(self):
        """Number of distinct valid IFMAP addresses in the (kept columns of the) operand matrix.
        Dense layers with stride <= filter size touch the whole H x W x C input."""
        H, W, C = self.L["H"], self.L["W"], self.L["C"]
        S, R, s = self.L["S"], self.L["R"], self.L["stride"]
        if not self.sparse:
            rows = set()
            for e in range(self.E):
                rows.update(range(e * s, min(e * s + R, H)))
            cols = set()
            for f in range(self.F):
                cols.update(range(f * s, min(f * s + S, W)))
            return len(rows) * len(cols) * C
        addrs = set()
        for w in self.kept:
            r, k = divmod(w, S * C)
            sc, ch = divmod(k, C)
            for e in range(self.E):
                y = e * s + r
                if y >= H:
                    break
                for f in range(self.F):
                    x = f * s + sc
                    if x >= W:
                        break
                    addrs.add((y * W + x) * C + ch)
        return len(addrs)


# ----------------------------------------------------------------------------------------------
# Compute side (compute/systolic_compute_{os,ws,is}.py)
# ----------------------------------------------------------------------------------------------


def operand_dims(df, ly):
    """(Sr, Sc, T) as set_params() of the compute classes reads them off the operand matrices:
         ifmap  (npx x K'),  filter (K' x nf),  ofmap (npx x nf)
       os: Sr = npx, Sc = nf,  T = K'
       ws: Sr = K',  Sc = nf,  T = npx
       is: Sr = K',  Sc = npx, T = nf"""
    if df == "os":
        return ly.npx, ly.nf, ly.k_eff
    if df == "ws":
        return ly.k_eff, ly.nf, ly.npx
    if df == "is":
        return ly.k_eff, ly.npx, ly.nf
    raise ValueError(df)


def fold_rows(df, Ra, Ca, T):
    """Rows of the demand matrices per fold (one row = one cycle).
       os: ifmap T x Ra + (Ca-1) null rows, skewed over Ra columns           -> T + Ra + Ca - 2
       ws: Ra null prefix + T rows + (Ca-1) null suffix, skewed over Ra cols  -> 2Ra + Ca + T - 2
       is: same construction as ws                                            -> 2Ra + Ca + T - 2"""
    if df == "os":
        return T + Ra + Ca - 2
    return 2 * Ra + Ca + T - 2


def compute_model(L, df, Ra, Ca, sparsity_support=False):
    ly = Layer(L, sparsity_support)
    Sr, Sc, T = operand_dims(df, ly)
    Fr = math.ceil(Sr / Ra)
    Fc = math.ceil(Sc / Ca)
    nfolds = Fr * Fc
    Lf = fold_rows(df, Ra, Ca, T)
    Ltot = nfolds * Lf
    # per-fold cycles used for "Compute Util %" (shape[0] + shape[1] - 1 of the ofmap/filter fold)
    cyc_util = (T + Ra + Ca - 2) if df == "os" else (2 * Ra + 2 * Ca + T - 3)
    # sum over folds of rows_used * cols_used == Sr * Sc
    mapping_eff = 100.0 * Sr * Sc / (nfolds * Ra * Ca)
    compute_util = 100.0 * Sr * Sc * T / (nfolds * Ra * Ca * cyc_util)
    # SRAM access counters
    if df == "os":
        sram_ifmap = Fc * Sr * T
        sram_filter = Fr * T * Sc
        sram_ofmap = Sr * Sc + nfolds * (Ra + Ca)   # (sic) systolic_compute_os adds Ra+Ca per fold
        ofmap_elems = Sr * Sc                       # valid elements actually written
    elif df == "ws":
        sram_ifmap = Fc * T * Sr
        if ly.sparse:                               # (sic) x M/N, a float in the report
            sram_ifmap = sram_ifmap * (ly.m / ly.n)
        sram_filter = Sr * Sc
        sram_ofmap = Fr * T * Sc
        ofmap_elems = sram_ofmap
    else:
        sram_ifmap = Sr * Sc
        sram_filter = Fc * Sr * T
        sram_ofmap = Fr * T * Sc
        ofmap_elems = sram_ofmap
    return dict(ly=ly, df=df, Ra=Ra, Ca=Ca, Sr=Sr, Sc=Sc, T=T, Fr=Fr, Fc=Fc, nfolds=nfolds,
                fold_rows=Lf, demand_rows=Ltot, cyc_util=cyc_util,
                mapping_efficiency=mapping_eff, compute_util=compute_util,
                sram_ifmap_reads=sram_ifmap, sram_filter_reads=sram_filter,
                sram_ofmap_writes=sram_ofmap, ofmap_elems=ofmap_elems,
                num_compute=ly.num_compute)


# ----------------------------------------------------------------------------------------------
# SRAM start / stop cycles (memory/double_buffered_scratchpad_mem.py: get_*_sram_start_stop_cycles)
# Reads are served at (row + 1) (hit latency 1), writes at row. Valid only without stalls.
# ----------------------------------------------------------------------------------------------


def sram_start_stop(cm):
    ly, df = cm["ly"], cm["df"]
    Ra, Ca, Sr, Sc, T = cm["Ra"], cm["Ca"], cm["Sr"], cm["Sc"], cm["T"]
    Fr, Fc, Lf = cm["Fr"], cm["Fc"], cm["fold_rows"]
    Bl = (cm["nfolds"] - 1) * Lf                 # first row of the last fold (fc=Fc-1, fr=Fr-1)
    r0, c0 = min(Ra, Sr), min(Ca, Sc)            # rows / cols used by the first fold
    rl, cl = Sr - (Fr - 1) * Ra, Sc - (Fc - 1) * Ca  # ... by the last fold
    out = {}
    if df == "os":
        out["ifmap_start"] = 1
        # last fold holding a valid IFMAP address (with stride > filter size whole ofmap rows
        # can be invalid, see Layer.valid); element (t, j) of fold f sits at row B_f + t + j
        for f in range(cm["nfolds"] - 1, -1, -1):
            fr = f % Fr
            ru = min(Ra, Sr - fr * Ra)
            c = [j + ly.last_valid_w_col(fr * Ra + j) for j in range(ru)
                 if ly.last_valid_w_col(fr * Ra + j) >= 0]
            if c:
                out["ifmap_stop"] = 1 + f * Lf + max(c)
                break
        out["filter_start"] = 1
        out["filter_stop"] = 1 + Bl + (T - 1) + (cl - 1)
        out["ofmap_start"] = (T - 1) + (Ra - r0)
        out["ofmap_stop"] = Bl + (T - 1) + (Ra - 1) + (cl - 1)
    elif df == "ws":
        out["ifmap_start"] = 1 + Ra
        base = (Fr - 1) * Ra
        out["ifmap_stop"] = 1 + Bl + Ra + max(j + ly.last_valid_p(ly.kept[base + j])
                                             for j in range(rl))
        out["filter_start"] = 1 + (Ra - r0)
        out["filter_stop"] = Bl + Ra
        out["ofmap_start"] = 2 * Ra - 1
        out["ofmap_stop"] = Bl + 2 * Ra - 1 + (T - 1) + (cl - 1)
    else:  # is
        # ifmap fold = transposed operand block, rows flipped, no skew: array row a sits at
        # fold row Ra-1-a; a row counts when any pixel of the column fold is valid for it
        kmax = max(k for k in range(r0) if ly.any_valid_p(ly.kept[k], 0, c0))
        out["ifmap_start"] = 1 + (Ra - 1 - kmax)
        for f in range(cm["nfolds"] - 1, -1, -1):      # last fold with a valid address
            fc, fr = divmod(f, Fr)
            ru, cu = min(Ra, Sr - fr * Ra), min(Ca, Sc - fc * Ca)
            ks = [k for k in range(ru)
                  if ly.any_valid_p(ly.kept[fr * Ra + k], fc * Ca, fc * Ca + cu)]
            if ks:
                out["ifmap_stop"] = 1 + f * Lf + (Ra - 1 - min(ks))
                break
        out["filter_start"] = 1 + Ra
        out["filter_stop"] = 1 + Bl + Ra + (T - 1) + (rl - 1)
        out["ofmap_start"] = 2 * Ra - 1
        out["ofmap_stop"] = Bl + 2 * Ra - 1 + (T - 1) + (cl - 1)
    return out


# ----------------------------------------------------------------------------------------------
# OFMAP write buffer (memory/write_buffer.py) -- exact replay from per-row element counts
# ----------------------------------------------------------------------------------------------


def ofmap_row_counts(cm):
    """Yield (row, number of valid OFMAP addresses in that demand row) for rows with > 0.
    os fold: prefix T-1 rows, then Ra x Ca block flipped and skewed -> element (a, j) at
             T-1 + a + j, a in [Ra-r_used, Ra), j in [0, c_used)
    ws/is fold: prefix 2Ra-1 rows, then T x Ca block skewed -> (t, j) at 2Ra-1 + t + j."""
    df, Ra, Ca, Sr, Sc, T = cm["df"], cm["Ra"], cm["Ca"], cm["Sr"], cm["Sc"], cm["T"]
    Fr, Fc, Lf = cm["Fr"], cm["Fc"], cm["fold_rows"]
    f = 0
    for fc in range(Fc):
        cu = min(Ca, Sc - fc * Ca)
        for fr in range(Fr):
            ru = min(Ra, Sr - fr * Ra)
            B = f * Lf
            if df == "os":
                lo, n1, off = Ra - ru, ru, T - 1
            else:
                lo, n1, off = 0, T, 2 * Ra - 1
            # count of (a, j) with a in [lo, lo+n1), j in [0, cu) and a + j = x
            for x in range(lo, lo + n1 + cu - 1):
                cnt = min(x - lo, n1 - 1) - max(x - lo - (cu - 1), 0) + 1
                if cnt > 0:
                    yield B + off + x, cnt
            f += 1


def ofmap_dram(cm, ofmap_kb, bw):
    """Replay write_buffer.service_writes / empty_drain_buf / empty_all_buffers (write port latency
    0) for a stall-free run. Returns (writes, start, stop, stalls_seen).
    total = 1024*kB words (word_size 1); active = ceil(total*0.5); drain = total - active;
    a drain starts (at the current cycle) when, after storing an element, free < active and the
    previous drain is over; it sends ceil(drain/bw) trace lines (one per cycle) and credits
    lines*bw minus the -1 padding of its *last* line only."""
    total = 1024 * ofmap_kb
    active = math.ceil(total * 0.5)
    dbuf = total - active
    lines_per_drain = math.ceil(dbuf / bw)
    free = total
    line_counts = []      # valid elements in each closed trace line
    line_idx = 0          # elements in the open line
    drained = 0           # lines already sent to DRAM
    drain_end = 0
    writes = 0
    starts, stops = [], []
    stalls = 0

    def drain(cycle):
        nonlocal drained, writes, free
        end = min(drained + lines_per_drain, len(line_counts))
        n = end - drained
        data = n * bw - (bw - line_counts[end - 1])
        writes += data
        free += data
        starts.append(cycle)
        stops.append(cycle + n - 1)
        drained = end
        return cycle + n - 1

    last_row = cm["demand_rows"] - 1
    for row, cnt in ofmap_row_counts(cm):
        cycle = row
        left = cnt
        while left > 0:
            # store elements one by one; jump to the next event (line full / trigger)
            if cycle < drain_end:
                step = min(left, bw - line_idx)
                if free - step <= 0:
                    stalls += 1           # write stall: not expected in CALC mode
                    step = min(step, max(free, 1))
            else:
                step = min(left, bw - line_idx, max(free - active + 1, 1))
            line_idx += step
            free -= step
            left -= step
            if line_idx == bw:
                line_counts.append(bw)
                line_idx = 0
            if cycle >= drain_end and free < active:
                if line_idx:
                    line_counts.append(line_idx)
                    line_idx = 0
                drain_end = drain(cycle)
    # empty_all_buffers(last ofmap serviced cycle)
    if line_idx:
        line_counts.append(line_idx)
        line_idx = 0
    cycle = last_row
    while drained < len(line_counts):
        drain_end = drain(cycle)
        cycle = drain_end + 1
    return writes, min(starts), max(stops), stalls


# ----------------------------------------------------------------------------------------------
# IFMAP / FILTER DRAM in CALC mode (memory/read_buffer_estimate_bw.py)
# ----------------------------------------------------------------------------------------------


def read_dram_calc(distinct, sram_kb, first_req_cycle, prefetch_bw=10, port_latency=1):
    """items per set  ips = floor(1024*kB / 100); 50 sets form the active buffer.
    small regime (distinct < 50*ips): one prefetch at the end (complete_all_prefetches):
        reads = distinct; cycles = ceil(ceil(distinct/ips)*ips / 10); start = -cycles; stop = -1
    large regime: the first prefetch fires when the 50th set completes:
        start = first_req_cycle - ceil(50*ips/10); reads / stop are trace-driven (None here)."""
    ips = (1024 * sram_kb) // 100
    if distinct < 50 * ips:
        nsets = math.ceil(distinct / ips)
        cyc = math.ceil(nsets * ips / prefetch_bw)
        end = -1 - port_latency
        start = end - cyc + 1
        return dict(regime="small", reads=distinct, start=start + port_latency,
                    stop=end + port_latency)
    cyc = math.ceil(50 * ips / prefetch_bw)
    end = first_req_cycle - 1 - port_latency
    return dict(regime="large", reads=None, start=end - cyc + 1 + port_latency, stop=None)


# ----------------------------------------------------------------------------------------------
# USER mode: a sufficient condition for zero stalls (memory/read_buffer.py, write_buffer.py)
# ----------------------------------------------------------------------------------------------


def user_mode_stall_free(L, df, Ra, Ca, sram_kb, sparsity_support=False):
    """True when no stall can occur in USER mode: every valid entry of the IFMAP and FILTER
    operand matrices fits in the active half of its read buffer (read_buffer.prepare_hashed_buffer:
    sets of eps = ceil(total/100) entries, floor(Nv/eps)+1 sets, active = ceil(ceil(total/2)/eps)),
    so no prefetch happens after cycle 0, and the OFMAP never holds more than drain = total/2 words
    (no mid-run drain). Not necessary: layers failing it can still have 0 stalls."""
    cm = compute_model(L, df, Ra, Ca, sparsity_support)
    ly = cm["ly"]
    nv_if = sum(1 for p in range(ly.npx) for w in ly.kept if ly.valid(p, w))
    nv_f = ly.k_eff * ly.nf
    ok = True
    for nv, kb in ((nv_if, sram_kb[0]), (nv_f, sram_kb[1])):
        total = 1024 * kb
        eps = math.ceil(total / 100)
        ok &= (nv // eps + 1) <= math.ceil(math.ceil(total * 0.5) / eps)
    total_o = 1024 * sram_kb[2]
    ok &= cm["ofmap_elems"] <= total_o - math.ceil(total_o * 0.5)
    return ok


# ----------------------------------------------------------------------------------------------
# Everything for one layer
# ----------------------------------------------------------------------------------------------


def predict(L, df, Ra, Ca, mode="CALC", sram_kb=(64, 64, 64), sparsity_support=False,
            stall_cycles=0):
    """Predicted report numbers. In USER mode pass the reported stall_cycles (not modelled)."""
    cm = compute_model(L, df, Ra, Ca, sparsity_support)
    stalls = 0 if mode == "CALC" else stall_cycles
    total = cm["demand_rows"] - 1 + stalls
    out = dict(
        total_cycles=total,
        stall_cycles=stalls,
        overall_util=100.0 * cm["num_compute"] / (total * Ra * Ca),
        mapping_efficiency=cm["mapping_efficiency"],
        compute_util=cm["compute_util"],
        sram_ifmap_reads=cm["sram_ifmap_reads"],
        sram_filter_reads=cm["sram_filter_reads"],
        sram_ofmap_writes=cm["sram_ofmap_writes"],
        Sr=cm["Sr"], Sc=cm["Sc"], T=cm["T"], Fr=cm["Fr"], Fc=cm["Fc"],
        demand_rows=cm["demand_rows"],
    )
    if mode != "CALC":
        return out
    ss = sram_start_stop(cm)
    for op in ("ifmap", "filter", "ofmap"):
        out[f"sram_{op}_start"] = ss[f"{op}_start"]
        out[f"sram_{op}_stop"] = ss[f"{op}_stop"]
    ly = cm["ly"]
    if_kb, f_kb, o_kb = sram_kb
    d_if = read_dram_calc(ly.distinct_ifmap_addresses(), if_kb, ss["ifmap_start"] - 1)
    d_f = read_dram_calc(ly.k_eff * ly.nf, f_kb, ss["filter_start"] - 1)
    w, o_start, o_stop, wstalls = ofmap_dram(cm, o_kb, Ca)   # CALC: ofmap DRAM bw = ArrayWidth
    out.update(
        dram_ifmap_regime=d_if["regime"], dram_filter_regime=d_f["regime"],
        dram_ifmap_reads=d_if["reads"], dram_ifmap_start=d_if["start"],
        dram_ifmap_stop=d_if["stop"],
        dram_filter_reads=d_f["reads"], dram_filter_start=d_f["start"],
        dram_filter_stop=d_f["stop"],
        dram_ofmap_writes=w, dram_ofmap_start=o_start, dram_ofmap_stop=o_stop,
        ofmap_write_stall_events=wstalls,
        total_cycles_incl_prefetch=int(o_stop - min(d_if["start"], d_f["start"])),
    )
    return out
