package dev.perceiver.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/**
 * Matrix product on the Vector API, Goto/BLIS style: B comes packed in column panels, the work is cut into row x
 * column units for the threads, each unit walks k in KC slices and runs one register-blocked micro-kernel per
 * MR x NR tile, and the epilogue (bias, activation, residual) is applied once per unit. The unit's rows of A are
 * copied per KC pass into MR-row tiles, each tile's MR values of one k together, so that the micro-kernel reads A,
 * like B, at constant strides: C2 then drops the bounds checks from its loop (10-12% faster than row-major A, whose
 * strides were parameters). Each KC x NR slice of B is copied, before its tiles run, into a thread buffer at an index
 * where vector loads are aligned ({@link VectorAlignment}), as are the accumulators: the packed weights' own arrays
 * move with the collector, a buffer found again per unit does not need to stay put.
 * <p>
 * Every operand the micro-kernel touches is a Java array (packed B, the packed A tile, the unit's accumulators); rows
 * move between the callers' segments and these arrays by bulk copies. A vector load from a memory segment inlines
 * JDK code whose type profile is shared by all segment accesses in the process, so the same product ran 1.4x slower
 * after mapped segments had been read anywhere and 10x slower after heap segments too; array loads compile alike in
 * every JVM.
 * <p>
 * Every output is a single FMA chain over k = 0, 1, ... in order (a KC slice carries its accumulator on to the next
 * through the unit's accumulator buffer), so results equal {@link ScalarKernels#gemm}'s before the epilogue and do
 * not depend on the thread count or on where a tile falls. c must not overlap a (as for the scalar twin).
 */
final class VectorGemm {
    static final VectorSpecies<Float> F = VectorMath.F;
    private static final int L = F.length();

    /**
     * The register tile, chosen for the vector width: MR rows x NV vectors of accumulators, plus NV B vectors and one
     * broadcast, must fit the register file with room for C2's temporaries. 512-bit vectors (AVX-512, 32 registers):
     * 4 x 4 = 16 accumulators, measured at 98% of one core's FMA peak against 93% for 6 x 2. Narrower (AVX2 has 16
     * registers): 4 x 2 = 8, at 0.73-0.75 of a Zen 4 core's peak under {@code -XX:UseAVX=2}, where 6 x 2 and 4 x 3
     * (12 accumulators, 15-16 registers) spilled and ran at half that, and 3 x 3 at 0.55.
     */
    static final int NV = L >= 16 ? 4 : 2;
    /** Micro-tile rows: 4 at every width, so that A tiles are built by lane selects (see {@link #toTile}). */
    static final int MR = 4;
    /** Micro-tile columns. The packed panels hold a whole number of them. */
    static final int NR = NV * L;
    /**
     * k per pass: the KC x NR slice of a B panel (32 KiB at 16 lanes) stays in L1 while every tile of the unit passes
     * over it; at 256 (64 KiB, past a 48 KiB L1) the micro-kernel ran 15% slower.
     */
    static final int KC = 128;
    /**
     * Rows per unit at most where several threads share the units, but for a thread's band (see MIN_BAND_ROWS; a
     * multiple of MR): the unit's A for one KC pass is 96 KiB, and each slice of B, read from L3, serves up to 48
     * tiles. Units this tall are narrower (see UNIT_FLOATS): on a Zen 5, two threads ran 512 x 3072 x 1024 and
     * 256 x 1280 x 1280 3-5% faster at best than in units of 96 rows, the other shapes level.
     */
    static final int MB = 192;
    /** Columns per unit at most. */
    static final int NB = 1024;
    /**
     * A unit's accumulators at most (rows x columns, 384 KiB): with 96 x 1,024 they share L2 with the pass's B slices;
     * 192 x 1,024 made one-thread 512 x 1024 x 1024 products 40-50% slower at the median.
     */
    static final int UNIT_FLOATS = 96 * 1024;
    /**
     * A thread's packed rows of A, kept for its next unit of the same rows where rows x k fit (2 MiB): MB rows up to
     * k = 2,730, a band of MAX_BAND_ROWS up to k = 1,024 (every official Linear's k is at most 1,280).
     */
    static final int KEPT_FLOATS = 1 << 19;
    /**
     * Rows per thread, at least and at most, for which each thread takes one band of rows and all its columns: each
     * thread then packs its A once and reads B once. On a Zen 5, two threads ran 512 x 3072 x 1024 8% faster than in
     * units of MB rows, 784 x 2048 x 512, 512 x 1024 x 1024 and 256 x 1792 x 1280 4-5%; bands of 32, 64 and 512 rows
     * were level, of 1,024 (2048 x 512 x 512) 3% slower. One thread alone takes units of up to MAX_BAND_ROWS rows (see
     * {@link #split}).
     */
    static final int MIN_BAND_ROWS = 128, MAX_BAND_ROWS = 512;
    /**
     * Where the output is more than this many times wider than tall (and all of A fits a thread's kept rows), the
     * threads take all rows and a share of the columns instead of bands: each then reads its share of B, whose slices
     * come from memory at ~0.3 ns a float, and packs all of A, at ~0.6 ns a float. On a Zen 5, two threads, in one
     * JVM alternating: 256 x 1280 x 1280 4-7% faster than in bands, 256 x 1792 x 1280 13-16%, 512 x 3072 x 1024
     * 2-5%, 512 x 1024 x 1024 (twice as wide) +1.6% with GELU and -3% with the residual.
     */
    static final int COLUMNS_OVER_ROWS = 2;
    /** Units per thread when several run: enough to even out work between threads on a busy machine. */
    private static final int UNITS_PER_THREAD = 8;
    /** Multiply-adds per unit at least (~5 µs of work): a thread hand-off costs microseconds. */
    private static final long MIN_UNIT_FMAS = 1 << 18;
    /** Up to this many units, they are cut so that the threads finish together (see {@link #balanced}). */
    private static final int BALANCED_UNITS = 64;
    /**
     * Rows the epilogue takes at a time. Their residual rows are read back to back, so that their cache misses overlap,
     * where a row read between two rows' other work missed alone (the residual, the layer's input, comes from memory):
     * two threads ran 512 x 1024 x 1024 with a cold residual 3.6% faster, one thread 9%. And each sub-panel's
     * accumulators are read for all of them in order: with bias only 2.7-4.5% faster, with GELU 1.8%, with the
     * residual 2.1% more.
     */
    private static final int EPILOGUE_ROWS = 8;
    /** KC passes of A packed at a time where all of k is kept: lines of MR x 2,048 floats (32 KiB). */
    private static final int PACK_PASSES = 16;
    /** A unit's packing of its rows of A, in columns of product work (7-8% of 256 x 1280 x 1280's units of 256). */
    private static final int PACK_COLUMNS = 20;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private VectorGemm() {}

    static void gemm(Parallel p, Matrix a, PackedMatrix b, Matrix c, Epilogue e) {
        int m = a.rows(), n = b.n();
        if (m == 0 || n == 0) return;
        if (b.panelWidth() != NR)
            throw new IllegalArgumentException("gemm: b is packed in panels of " + b.panelWidth()
                    + " columns, the vector kernels need " + NR + "; pack it with these kernels");
        int subs = ceilDiv(n, NR);
        Split split = split(m, n, b.k(), p.threads());
        int rowsPerUnit = split.rowsPerUnit(), subsPerUnit = ceilDiv(subs, split.colUnits());
        int cols = ceilDiv(subs, subsPerUnit), rowUnits = ceilDiv(m, rowsPerUnit), group = p.threads();
        Object call = new Object();
        // Units numbered in groups of as many row units as threads, column after column within a group: threads
        // taking single units in turn then come to the same rows' next columns, whose packed A they kept (see unit). A
        // range of several units is run row after row, so that its rows' columns follow each other too.
        int groupUnits = group * cols;
        p.forRange(rowUnits * cols, 1, (u0, u1) -> {
            Workspace ws = WORKSPACE.get();
            for (int row = u0 / groupUnits * group, last = Math.min(rowUnits, ((u1 - 1) / groupUnits + 1) * group);
                 row < last; row++) {
                int g = row / group, inGroup = Math.min(group, rowUnits - g * group);
                for (int col = 0; col < cols; col++) {
                    int u = g * groupUnits + col * inGroup + row % group;
                    if (u < u0 || u >= u1) continue;
                    int r0 = row * rowsPerUnit, s0 = col * subsPerUnit;
                    unit(ws, call, a, b, c, e, r0, Math.min(m, r0 + rowsPerUnit), s0, Math.min(subs, s0 + subsPerUnit));
                }
            }
        });
    }

    /** Units of rowsPerUnit rows (the last may have fewer) by colUnits column ranges. */
    record Split(int rowsPerUnit, int colUnits) {}

    /** How an m x n x k product is cut into units for threads. */
    static Split split(int m, int n, int k, int threads) {
        int subs = ceilDiv(n, NR), band = roundUp(ceilDiv(m, threads), MR);
        if (threads == 1) {
            // Units as tall as the kept A allows, up to MAX_BAND_ROWS: each slice of B then comes from memory once for
            // that many rows. On a Zen 5 with cold weights, one thread ran 512 x 1024 x 1024 6% faster than in units of
            // MB rows, 256 x 1280 x 1280 5%, 512 x 3072 x 1024 8%, 4096 x 1024 x 1024 3.5%, 2048 x 1536 x 512 2%.
            int tallest = Math.clamp(KEPT_FLOATS / Math.max(1, k) / MR * MR, MB, MAX_BAND_ROWS);
            int rows = roundUp(ceilDiv(m, ceilDiv(m, tallest)), MR);
            return new Split(rows, ceilDiv(subs, maxSubs(rows)));
        }
        if (band >= MIN_BAND_ROWS && band <= MAX_BAND_ROWS && (long) band * k <= KEPT_FLOATS) {
            int rows = roundUp(m, MR);
            if (n > COLUMNS_OVER_ROWS * m && rows <= MAX_BAND_ROWS && (long) rows * k <= KEPT_FLOATS)
                return balanced(m, subs, 1, 0, Math.max(ceilDiv(subs, maxSubs(rows)), threads), threads);
            return new Split(band, ceilDiv(subs, maxSubs(band)));
        }
        long fmas = (long) m * n * Math.max(1, k);
        int target = (int) Math.clamp(fmas / MIN_UNIT_FMAS, 1, UNITS_PER_THREAD * threads);
        // As many rows per unit as allowed, so that each slice of B, read from L3, serves many tiles; columns split
        // first, rows only when there are too few column units.
        int rowUnits = ceilDiv(m, MB);
        int colUnits = Math.min(subs, Math.max(ceilDiv(target, rowUnits), ceilDiv(subs, maxSubs(MB))));
        if (rowUnits * colUnits < target) rowUnits = Math.min(ceilDiv(m, MR), ceilDiv(target, colUnits));
        int rowsPerUnit = roundUp(ceilDiv(m, rowUnits), MR);
        rowUnits = ceilDiv(m, rowsPerUnit);
        colUnits = Math.max(colUnits, ceilDiv(subs, maxSubs(rowsPerUnit)));
        if (rowUnits * colUnits <= BALANCED_UNITS) return balanced(m, subs, rowUnits, 2, colUnits, threads);
        return new Split(rowsPerUnit, colUnits);
    }

    /**
     * The split, from rowUnits to moreRowUnits more row units and from the fewest column units that keep a unit
     * within NB columns to twice colUnits, whose units the threads finish soonest when each takes the next unit as it
     * comes free (the pool's order); ties go to fewer row units (each slice of B serves more tiles), then to colUnits'
     * nearest neighbour. 15 equal units on two threads had left one running alone at the end of every 256 x 1280 x
     * 1280 product of language-mlm; with all rows in one unit, 20 sub-panels on two threads are 4 units of 5 rather
     * than 7 of 3, of which one thread would take 11 sub-panels.
     */
    static Split balanced(int m, int subs, int rowUnits, int moreRowUnits, int colUnits, int threads) {
        Split best = null;
        long bestSpan = Long.MAX_VALUE;
        for (int r = rowUnits; r <= Math.min(ceilDiv(m, MR), rowUnits + moreRowUnits); r++) {
            int rowsPerUnit = roundUp(ceilDiv(m, r), MR);
            for (int c = ceilDiv(subs, maxSubs(rowsPerUnit)); c <= Math.min(subs, 2 * colUnits); c++) {
                int subsPerUnit = ceilDiv(subs, c), cols = ceilDiv(subs, subsPerUnit);
                long span = finish(m, rowsPerUnit, subs, subsPerUnit, cols, threads);
                if (span < bestSpan || span == bestSpan && rowsPerUnit == best.rowsPerUnit()
                        && Math.abs(cols - colUnits) < Math.abs(best.colUnits() - colUnits)) {
                    best = new Split(rowsPerUnit, cols);
                    bestSpan = span;
                }
            }
        }
        return best;
    }

    /** Sub-panels a unit of rowsPerUnit rows may span: within NB columns and UNIT_FLOATS accumulators. */
    private static int maxSubs(int rowsPerUnit) {
        return Math.max(1, Math.min(NB, UNIT_FLOATS / rowsPerUnit) / NR);
    }

    /** When the last thread finishes the units, taken in order by whichever thread is free first (work in columns). */
    private static long finish(int m, int rowsPerUnit, int subs, int subsPerUnit, int cols, int threads) {
        long[] free = new long[threads];
        for (int u = 0; u < ceilDiv(m, rowsPerUnit) * cols; u++) {
            int rows = Math.min(rowsPerUnit, m - u / cols * rowsPerUnit);
            int unitSubs = Math.min(subsPerUnit, subs - u % cols * subsPerUnit);
            int t = 0;
            for (int i = 1; i < threads; i++) if (free[i] < free[t]) t = i;
            free[t] += (long) rows * (unitSubs * NR + PACK_COLUMNS);
        }
        return Arrays.stream(free).max().orElse(0);
    }

    /**
     * Rows [r0, r1) times sub-panels [s0, s1) (NR columns each) of the output, in the product call. The rows of A
     * are packed pass after pass into the thread's buffer and kept there when all of k fits, so that the thread's next
     * unit of the same call and rows (the next columns) reads them as they are: packing had been repeated for every
     * column unit, 5% of a pass's products on two threads.
     */
    private static void unit(Workspace ws, Object call, Matrix a, PackedMatrix b, Matrix c, Epilogue e, int r0, int r1,
                             int s0, int s1) {
        int k = b.k(), n = b.n(), tiles = ceilDiv(r1 - r0, MR), tileFloats = MR * NR, subFloats = tiles * tileFloats;
        float[] acc = ws.acc, rows = ws.rows, bd = b.data(), slice = ws.slice;
        int acc0 = VectorAlignment.alignedIndex(acc, 0), slice0 = VectorAlignment.alignedIndex(slice, 0);
        // 1 where all of k fits, else 0 (each pass then packed at 0, and no rows recorded as kept): arithmetic, where a
        // branch that only a k too large to keep took, never the warm-up, would trap in real products.
        int fits = 1 - (int) ((rows.length - (long) tiles * MR * k) >>> 63);
        boolean packed = ws.packedCall == call & ws.packedRow == r0;
        // Passes packed at a time: up to PACK_PASSES where all of k is kept, else one (each then packed at 0).
        int group = fits * (PACK_PASSES - 1) + 1;
        // A counted loop, at least one pass (k = 0 zeroes the tiles): its one exit test is seen both ways by the
        // warm-up's k < KC, where "k0 == 0 || k0 < k" had a test only large k took, which trapped in real products.
        for (int pass = 0, passes = Math.max(1, ceilDiv(k, KC)); pass < passes; pass++) {
            int k0 = pass * KC, kc = Math.min(KC, k - k0), ao = fits * tiles * MR * k0;
            boolean accumulate = pass > 0;
            if (!packed && pass % group == 0)
                toTiles(a, r0, r1, k0, Math.min(group * KC, k - k0), KC, ws.lines, rows, ao);
            for (int s = s0; s < s1; s++) {
                int co = acc0 + (s - s0) * subFloats;
                System.arraycopy(bd, b.panelBase(s) + k0 * NR, slice, slice0, kc * NR);
                for (int t = 0; t < tiles; t++)
                    microKernel(rows, ao + t * MR * kc, slice, slice0, kc, acc, co + t * tileFloats, accumulate,
                            n - s * NR);
            }
        }
        ws.packedCall = call;
        ws.packedRow = r0 | (fits - 1);  // -1 where the rows did not fit
        epilogue(ws, acc, acc0, subFloats, c, e, r0, r1, s0, s1);
    }

    /**
     * Rows [from, to) of a's columns [c0, c0 + width) into dest from index at as MR-row tiles (see
     * {@link #microKernel}), in blocks of block columns: block j's tiles from at + tiles·MR·j·block, each as wide as
     * the block (the product's A, a KC pass per block; the attention's keys, one block). MR rows at a time through lines
     * (MR x width floats at least), each row in one bulk copy: copying a row per KC pass made 256 x 1280 x 1280 and 512
     * x 1024 x 1024 products 1-2% slower. Rows up to the next MR are zero (the last tile's lines are cleared whether or
     * not it is partial: a branch taken only by the warm-up's ragged shapes would trap in real ones).
     */
    static void toTiles(Matrix a, int from, int to, int c0, int width, int block, float[] lines, float[] dest, int at) {
        MemorySegment as = a.segment();
        int rows = to - from, tiles = ceilDiv(rows, MR);
        for (int t = 0; t < tiles; t++) {
            int r = t * MR, n = Math.min(MR, rows - r);
            if (t == tiles - 1) Arrays.fill(lines, 0, MR * width, 0f);
            for (int i = 0; i < n; i++)
                MemorySegment.copy(as, Matrix.FLOAT, a.index(from + r + i, c0) * Float.BYTES, lines, i * width, width);
            for (int b0 = 0; b0 < width; b0 += block) {
                int wb = Math.min(block, width - b0);
                toTile(lines, width, b0, wb, dest, at + tiles * MR * b0 + r * wb);
            }
        }
    }

    /**
     * Columns [c0, c0 + k) of MR (four) rows, row i at lines[i·stride], as one tile: element (i, kk) to
     * dest[at + kk·MR + i], L columns at a time by two rounds of two-vector lane selects (rows paired, then pairs
     * paired): the attention's key tiles, packed for every block of keys, made one-thread attention 4-5% slower
     * element by element.
     */
    private static void toTile(float[] lines, int stride, int c0, int k, float[] dest, int at) {
        int kk = 0;
        for (; kk + L <= k; kk += L)
            selectFourRows(lines, c0 + kk, stride, PAIR_LO, PAIR_HI, QUAD_LO, QUAD_HI, dest, at + kk * MR, L);
        for (; kk < k; kk++)
            for (int i = 0; i < MR; i++) dest[at + kk * MR + i] = lines[i * stride + c0 + kk];
    }

    /**
     * Four rows' vectors, row i at lines[from + i·stride], through two rounds of two-vector lane selects: rows 0 and 1,
     * and 2 and 3, by pairLo and pairHi, then the two lo results, and the two hi results, by quadLo and quadHi; the four
     * vectors out to dest at, at + step, at + 2·step, at + 3·step.
     */
    static void selectFourRows(float[] lines, int from, int stride, FloatVector pairLo, FloatVector pairHi,
                               FloatVector quadLo, FloatVector quadHi, float[] dest, int at, int step) {
        FloatVector r0 = FloatVector.fromArray(F, lines, from), r1 = FloatVector.fromArray(F, lines, from + stride);
        FloatVector r2 = FloatVector.fromArray(F, lines, from + 2 * stride);
        FloatVector r3 = FloatVector.fromArray(F, lines, from + 3 * stride);
        FloatVector lo01 = pairLo.selectFrom(r0, r1), hi01 = pairHi.selectFrom(r0, r1);
        FloatVector lo23 = pairLo.selectFrom(r2, r3), hi23 = pairHi.selectFrom(r2, r3);
        quadLo.selectFrom(lo01, lo23).intoArray(dest, at);
        quadHi.selectFrom(lo01, lo23).intoArray(dest, at + step);
        quadLo.selectFrom(hi01, hi23).intoArray(dest, at + 2 * step);
        quadHi.selectFrom(hi01, hi23).intoArray(dest, at + 3 * step);
    }

    /**
     * Lane selects over two vectors x, y (index j < L picks x[j], L + j picks y[j]): PAIR_LO interleaves the first
     * halves of x and y lane by lane, PAIR_HI the second halves; QUAD_LO and QUAD_HI do the same with lane pairs.
     */
    static final FloatVector PAIR_LO = selects(l -> l % 2 * L + l / 2),
            PAIR_HI = selects(l -> l % 2 * L + L / 2 + l / 2),
            QUAD_LO = selects(l -> l / 2 % 2 * L + l / 4 * 2 + l % 2),
            QUAD_HI = selects(l -> l / 2 % 2 * L + L / 2 + l / 4 * 2 + l % 2);

    static FloatVector selects(IntUnaryOperator lane) {
        float[] index = new float[L];
        for (int l = 0; l < L; l++) index[l] = lane.applyAsInt(l);
        return FloatVector.fromArray(F, index, 0);
    }

    /**
     * Unit accumulators to c, EPILOGUE_ROWS rows at a time: + bias, activation, + residual, then one bulk copy a row
     * into c.
     */
    private static void epilogue(Workspace ws, float[] acc, int acc0, int subFloats, Matrix c, Epilogue e, int r0,
                                 int r1, int s0, int s1) {
        int c0 = s0 * NR, c1 = Math.min(c.cols(), s1 * NR), span = (s1 - s0) * NR;
        float[] rows = ws.row, bias = null, res = ws.residual;
        if (e.bias() != null) {
            bias = ws.bias;
            Arrays.fill(bias, 0, span, 0f);  // columns past the bias's end stay 0
            e.bias().cols(c0, c1).copyRow(0, bias, 0);
        }
        Matrix residual = e.residual() == null ? null : e.residual().cols(c0, c1), out = c.cols(c0, c1);
        for (int i = 0; i < r1 - r0; i += EPILOGUE_ROWS) {
            int n = Math.min(EPILOGUE_ROWS, r1 - r0 - i);
            if (residual != null) for (int j = 0; j < n; j++) residual.copyRow(r0 + i + j, res, j * NB);
            // The rows' NR-column pieces a vector at a time, + bias on the way, sub-panel after sub-panel (whose
            // accumulators lie row after row): an arraycopy call per piece and a pass for the bias cost more where k is
            // small.
            for (int s = 0; s < s1 - s0; s++) {
                int from = acc0 + s * subFloats + i * NR, to = s * NR;
                for (int j = 0; j < n; j++)
                    for (int v = 0; v < NR; v += L) {
                        FloatVector x = FloatVector.fromArray(F, acc, from + j * NR + v);
                        if (bias != null) x = x.add(FloatVector.fromArray(F, bias, to + v));
                        x.intoArray(rows, j * NB + to + v);
                    }
            }
            for (int j = 0; j < n; j++) {
                VectorMath.activate(rows, j * NB, span, e.activation());
                if (residual != null) addInPlace(rows, j * NB, res, j * NB, span);
                out.setRow(r0 + i + j, rows, j * NB);
            }
        }
    }

    /** x[x0, x0 + n) += y[y0, y0 + n), n a whole number of vectors. */
    private static void addInPlace(float[] x, int x0, float[] y, int y0, int n) {
        for (int i = 0; i < n; i += L)
            FloatVector.fromArray(F, x, x0 + i).add(FloatVector.fromArray(F, y, y0 + i)).intoArray(x, x0 + i);
    }

    /**
     * The micro-kernel: C (MR x NR, rows NR floats apart from index co) = [C +] A · B over kc steps. A is an MR-row
     * tile, element (i, kk) at {@code ao + kk·MR + i} ({@link #toTile}); B row kk is NR floats at {@code bo + kk·NR}.
     * Each C element is one FMA chain in kk order.
     */
    static void microKernel(float[] a, int ao, float[] b, int bo, int kc, float[] c, int co, boolean accumulate) {
        microKernel(a, ao, b, bo, kc, c, co, accumulate, NR);
    }

    /**
     * The micro-kernel for a tile of which only the first columns are wanted: a panel's last few (the 2 columns of
     * optical flow's output, the 2 past 320 of its 322) take the 4 x 2 tile, whose columns past 2L keep what they held.
     */
    static void microKernel(float[] a, int ao, float[] b, int bo, int kc, float[] c, int co, boolean accumulate,
                            int columns) {
        if (kc == 0) {
            if (!accumulate) Arrays.fill(c, co, co + MR * NR, 0f);  // a product over nothing
        } else if (NV == 4 && columns > 2 * L) {
            tile4x4(a, ao, b, bo, kc, c, co, accumulate);
        } else {
            tile4x2(a, ao, b, bo, kc, c, co, accumulate);
        }
    }

    /** 4 rows x 4 vectors: 16 accumulators, 4 B vectors and a broadcast of AVX-512's 32 registers. */
    private static void tile4x4(float[] a, int ao, float[] b, int bo, int kc, float[] c, int co, boolean accumulate) {
        final int r1 = NR, r2 = 2 * NR, r3 = 3 * NR, v1 = L, v2 = 2 * L, v3 = 3 * L;
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
        if (accumulate) {
            c00 = FloatVector.fromArray(F, c, co); c01 = FloatVector.fromArray(F, c, co + v1);
            c02 = FloatVector.fromArray(F, c, co + v2); c03 = FloatVector.fromArray(F, c, co + v3);
            c10 = FloatVector.fromArray(F, c, co + r1); c11 = FloatVector.fromArray(F, c, co + r1 + v1);
            c12 = FloatVector.fromArray(F, c, co + r1 + v2); c13 = FloatVector.fromArray(F, c, co + r1 + v3);
            c20 = FloatVector.fromArray(F, c, co + r2); c21 = FloatVector.fromArray(F, c, co + r2 + v1);
            c22 = FloatVector.fromArray(F, c, co + r2 + v2); c23 = FloatVector.fromArray(F, c, co + r2 + v3);
            c30 = FloatVector.fromArray(F, c, co + r3); c31 = FloatVector.fromArray(F, c, co + r3 + v1);
            c32 = FloatVector.fromArray(F, c, co + r3 + v2); c33 = FloatVector.fromArray(F, c, co + r3 + v3);
        } else {
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = FloatVector.zero(F);
        }
        for (int kk = 0; kk < kc; kk++) {
            int ak = ao + kk * MR, bk = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, bk), b1 = FloatVector.fromArray(F, b, bk + v1);
            FloatVector b2 = FloatVector.fromArray(F, b, bk + v2), b3 = FloatVector.fromArray(F, b, bk + v3);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(F, a[ak + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(F, a[ak + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(F, a[ak + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
        }
        c00.intoArray(c, co); c01.intoArray(c, co + v1); c02.intoArray(c, co + v2); c03.intoArray(c, co + v3);
        c10.intoArray(c, co + r1); c11.intoArray(c, co + r1 + v1); c12.intoArray(c, co + r1 + v2); c13.intoArray(c, co + r1 + v3);
        c20.intoArray(c, co + r2); c21.intoArray(c, co + r2 + v1); c22.intoArray(c, co + r2 + v2); c23.intoArray(c, co + r2 + v3);
        c30.intoArray(c, co + r3); c31.intoArray(c, co + r3 + v1); c32.intoArray(c, co + r3 + v2); c33.intoArray(c, co + r3 + v3);
    }

    /** 4 rows x 2 vectors: 8 accumulators, 2 B vectors and a broadcast of AVX2's 16 registers. */
    private static void tile4x2(float[] a, int ao, float[] b, int bo, int kc, float[] c, int co, boolean accumulate) {
        final int r1 = NR, r2 = 2 * NR, r3 = 3 * NR, v1 = L;
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31;
        if (accumulate) {
            c00 = FloatVector.fromArray(F, c, co); c01 = FloatVector.fromArray(F, c, co + v1);
            c10 = FloatVector.fromArray(F, c, co + r1); c11 = FloatVector.fromArray(F, c, co + r1 + v1);
            c20 = FloatVector.fromArray(F, c, co + r2); c21 = FloatVector.fromArray(F, c, co + r2 + v1);
            c30 = FloatVector.fromArray(F, c, co + r3); c31 = FloatVector.fromArray(F, c, co + r3 + v1);
        } else {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = FloatVector.zero(F);
        }
        for (int kk = 0; kk < kc; kk++) {
            int ak = ao + kk * MR, bk = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, bk), b1 = FloatVector.fromArray(F, b, bk + v1);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a[ak + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a[ak + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a[ak + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
        }
        c00.intoArray(c, co); c01.intoArray(c, co + v1);
        c10.intoArray(c, co + r1); c11.intoArray(c, co + r1 + v1);
        c20.intoArray(c, co + r2); c21.intoArray(c, co + r2 + v1);
        c30.intoArray(c, co + r3); c31.intoArray(c, co + r3 + v1);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }

    /**
     * A thread's buffers, kept between calls, each of the most any unit needs (UNIT_FLOATS accumulators, one B slice
     * and KEPT_FLOATS of packed A, ~2.5 MiB in all): a buffer that grew on demand put a branch in the
     * compiled kernel that the warm-up's small shapes never took, and the first large product then deoptimized it in
     * the middle of a first pass. packedCall and packedRow say which call's rows rows holds, if any.
     */
    private static final class Workspace {
        Object packedCall;
        int packedRow;
        final float[] acc = new float[UNIT_FLOATS + VectorAlignment.SLACK], rows = new float[KEPT_FLOATS],
                slice = new float[KC * NR + VectorAlignment.SLACK], lines = new float[MR * PACK_PASSES * KC],
                row = new float[EPILOGUE_ROWS * NB], bias = new float[NB], residual = new float[EPILOGUE_ROWS * NB];
    }
}
