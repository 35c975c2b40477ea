package dev.perceiver.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Matrix product on the Vector API, Goto/BLIS style: B comes packed in column panels, the work is cut into row x
 * column units for the threads, each unit walks k in KC slices and runs one register-blocked micro-kernel per
 * MR x NR tile, and the epilogue (bias, activation, residual) is applied once per unit. A's rows are copied per KC
 * pass into MR-row tiles ([kk][MR]): the micro-kernel then finds a tile's rows at constant offsets, and rows read in
 * place a power-of-two stride apart (1024 floats: 4 KiB) alias in L1. c must not overlap a (as for the scalar twin).
 * <p>
 * Every output is a single FMA chain over k = 0, 1, ... in order (a KC slice carries its accumulator on to the next
 * through the unit's accumulator buffer), so results equal {@link ScalarKernels#gemm}'s before the epilogue and do
 * not depend on the thread count or on where a tile falls.
 */
final class VectorGemm {
    static final VectorSpecies<Float> F = VectorMath.F;
    private static final ByteOrder ORDER = VectorMath.ORDER;
    private static final ValueLayout.OfFloat FLOAT = Matrix.FLOAT;
    private static final long VB = F.vectorByteSize();

    /**
     * Micro-tile rows. 6 x 2 vectors = 12 accumulators + 2 B vectors + 1 broadcast fit AVX2's 16 registers (measured
     * best of 6x2, 5x2, 8x2, 4x3, 3x4, 2x4, 4x2 there); on AVX-512 the same shape is 6 x 32, which the team's notes
     * measured on par with 12 x 32 and 4 x 64 (73-76% of peak).
     */
    static final int MR = 6;
    /** Bytes from one k step of a packed A tile to the next. */
    private static final long A_STEP = MR * Float.BYTES;
    /** Micro-tile columns: two vectors. The packed panels (ScalarKernels.PANEL_WIDTH) hold a whole number of them. */
    static final int NR = 2 * F.length();
    /** k per pass: the KC x NR slice of a B panel (16 KiB at 8 lanes) stays in L1 while a unit's rows stream by. */
    static final int KC = 256;
    /** Rows per unit at most: the unit's A rows for one KC pass (96 KiB) stay in L2 across all its B panels. */
    static final int MB = 96;
    /** Columns per unit at most: bounds the per-thread accumulator buffer (MB x NB floats, 384 KiB). */
    static final int NB = 1024;
    /** Units per thread when several run: enough to even out work between threads on a busy machine. */
    private static final int UNITS_PER_THREAD = 8;
    /** Multiply-adds per unit at least (~5 µs of work): a thread hand-off costs microseconds. */
    private static final long MIN_UNIT_FMAS = 1 << 18;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    static {
        JitDirectives.excludeFromC1("dev/perceiver/ops/VectorGemm.pairSteps");
    }

    private VectorGemm() {}

    static void gemm(Parallel p, Matrix a, PackedMatrix b, Matrix c, Epilogue e) {
        int m = a.rows(), n = b.n();
        if (m == 0 || n == 0) return;
        if (b.panelWidth() % NR != 0)
            throw new IllegalArgumentException("gemm: b is packed in panels of " + b.panelWidth()
                    + " columns, the vector kernels need a multiple of " + NR + "; pack it with these kernels");
        int subs = ceilDiv(n, NR);
        long fmas = (long) m * n * Math.max(1, b.k());
        int target = p.threads() == 1 ? 1 : (int) Math.clamp(fmas / MIN_UNIT_FMAS, 1, UNITS_PER_THREAD * p.threads());
        int rowsPerUnit = Math.min(MB, roundUp(ceilDiv(m, target), MR));
        int rowUnits = ceilDiv(m, rowsPerUnit);
        int colUnits = Math.min(subs, Math.max(ceilDiv(target, rowUnits), ceilDiv(subs, NB / NR)));
        int subsPerUnit = ceilDiv(subs, colUnits);
        int cols = ceilDiv(subs, subsPerUnit);
        p.forRange(rowUnits * cols, 1, (u0, u1) -> {
            Workspace ws = WORKSPACE.get();
            for (int u = u0; u < u1; u++) {
                int r0 = u / cols * rowsPerUnit, s0 = u % cols * subsPerUnit;
                unit(ws, a, b, c, e, r0, Math.min(m, r0 + rowsPerUnit), s0, Math.min(subs, s0 + subsPerUnit));
            }
        });
    }

    /** Rows [r0, r1) times sub-panels [s0, s1) (NR columns each) of the output. */
    private static void unit(Workspace ws, Matrix a, PackedMatrix b, Matrix c, Epilogue e, int r0, int r1, int s0, int s1) {
        int k = b.k(), pw = b.panelWidth(), subsPerPanel = pw / NR;
        int full = (r1 - r0) / MR, tiles = ceilDiv(r1 - r0, MR);
        long tileBytes = (long) MR * NR * Float.BYTES, subBytes = tiles * tileBytes;
        MemorySegment acc = ws.acc(subBytes * (s1 - s0)), packed = ws.packed((long) tiles * MR * KC * Float.BYTES);
        long bRow = (long) pw * Float.BYTES;
        for (int k0 = 0; k0 == 0 || k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0);
            boolean accumulate = k0 > 0;
            packRows(a, r0, r1, k0, kc, packed);
            long tileStride = (long) kc * MR * Float.BYTES;
            for (int s = s0; s < s1; s++) {
                long bo = (b.panelBase(s / subsPerPanel) + (long) k0 * pw + s % subsPerPanel * NR) * Float.BYTES;
                long co = (s - s0) * subBytes;
                for (int t = 0; t < tiles; t++)
                    microKernel(packed, t * tileStride, A_STEP, b.data(), bo, bRow, kc, acc, co + t * tileBytes,
                            accumulate);
            }
        }
        epilogue(acc, subBytes, c, e, r0, r1, s0, s1);
    }

    /**
     * Rows [from, to) of a's columns [k0, k0 + kc) into dest as MR-row tiles, tile t at float t·kc·MR laid out
     * [kc][MR]; rows past to (in the last tile) are zero.
     */
    private static void packRows(Matrix a, int from, int to, int k0, int kc, MemorySegment dest) {
        MemorySegment as = a.segment();
        for (int r = from; r < from + roundUp(to - from, MR); r++) {
            long base = (long) (r - from) / MR * kc * MR + (r - from) % MR;
            if (r < to) {
                long src = a.index(r, k0);
                for (int kk = 0; kk < kc; kk++) dest.setAtIndex(FLOAT, base + (long) kk * MR, as.getAtIndex(FLOAT, src + kk));
            } else {
                for (int kk = 0; kk < kc; kk++) dest.setAtIndex(FLOAT, base + (long) kk * MR, 0f);
            }
        }
    }

    /** Unit accumulators to c: + bias, activation (in place, one pass), + residual, masked to c's columns. */
    private static void epilogue(MemorySegment acc, long subBytes, Matrix c, Epilogue e, int r0, int r1, int s0, int s1) {
        int n = c.cols(), rows = r1 - r0, lanes = F.length();
        long rowBytes = NR * Float.BYTES;
        if (e.bias() != null) {
            MemorySegment bs = e.bias().segment();
            for (int s = s0; s < s1; s++) {
                int col = s * NR;
                long bo = e.bias().index(0, col) * Float.BYTES;
                FloatVector b0 = FloatVector.fromMemorySegment(F, bs, bo, ORDER, F.indexInRange(col, n));
                FloatVector b1 = FloatVector.fromMemorySegment(F, bs, bo + VB, ORDER, F.indexInRange(col + lanes, n));
                for (int i = 0; i < rows; i++) {
                    long o = (s - s0) * subBytes + i * rowBytes;
                    FloatVector.fromMemorySegment(F, acc, o, ORDER).add(b0).intoMemorySegment(acc, o, ORDER);
                    FloatVector.fromMemorySegment(F, acc, o + VB, ORDER).add(b1).intoMemorySegment(acc, o + VB, ORDER);
                }
            }
        }
        VectorMath.activate(acc, 0, subBytes * (s1 - s0) / Float.BYTES, e.activation());
        Matrix res = e.residual();
        MemorySegment cs = c.segment(), rs = res == null ? null : res.segment();
        for (int s = s0; s < s1; s++) {
            int col = s * NR;
            boolean edge = col + NR > n;  // the last sub-panel: masked access, everywhere else whole vectors
            VectorMask<Float> m0 = F.indexInRange(col, n), m1 = F.indexInRange(col + lanes, n);
            for (int i = 0; i < rows; i++) {
                long o = (s - s0) * subBytes + i * rowBytes, co = c.index(r0 + i, col) * Float.BYTES;
                FloatVector v0 = FloatVector.fromMemorySegment(F, acc, o, ORDER);
                FloatVector v1 = FloatVector.fromMemorySegment(F, acc, o + VB, ORDER);
                if (res != null) {
                    long ro = res.index(r0 + i, col) * Float.BYTES;
                    v0 = v0.add(edge ? FloatVector.fromMemorySegment(F, rs, ro, ORDER, m0) : FloatVector.fromMemorySegment(F, rs, ro, ORDER));
                    v1 = v1.add(edge ? FloatVector.fromMemorySegment(F, rs, ro + VB, ORDER, m1) : FloatVector.fromMemorySegment(F, rs, ro + VB, ORDER));
                }
                if (edge) {
                    v0.intoMemorySegment(cs, co, ORDER, m0);
                    v1.intoMemorySegment(cs, co + VB, ORDER, m1);
                } else {
                    v0.intoMemorySegment(cs, co, ORDER);
                    v1.intoMemorySegment(cs, co + VB, ORDER);
                }
            }
        }
    }

    /**
     * The micro-kernel: C (MR x NR, rows NR floats apart from byte co) = [C +] A · B over kc steps. A is a tile of MR
     * adjacent floats per step: element (i, kk) at byte {@code ao + 4·i + kk·aks} (a packed [kk][MR] tile, or MR
     * adjacent columns of a row-major matrix); B row kk is NR floats at byte {@code bo + kk·bks}. Each C element is
     * one FMA chain in kk order.
     */
    static void microKernel(MemorySegment a, long ao, long aks, MemorySegment b, long bo, long bks, int kc,
                            MemorySegment c, long co, boolean accumulate) {
        int pairs = kc & ~1;
        if (pairs > 0) pairSteps(a, ao, aks, b, bo, bks, pairs, c, co, accumulate);
        if (pairs < kc) oneStep(a, ao + pairs * aks, b, bo + pairs * bks, c, co, accumulate || pairs > 0);
        if (kc == 0 && !accumulate) c.asSlice(co, MR * NR * Float.BYTES).fill((byte) 0);  // a product over nothing
    }

    /**
     * An even number of steps, two per iteration. C2's code here decides the speed (one AVX2 core, L1-resident data):
     * one step per iteration with running pointers ran at 42 GFLOP/s, two with offsets from kk at 70-78 once the A
     * rows' offsets are constants (runtime row strides cost an add per load: 49); a third step body in the same
     * method made it too large for C2 to compile at all, so an odd kc ends in {@link #oneStep}.
     */
    private static void pairSteps(MemorySegment a, long ao, long aks, MemorySegment b, long bo, long bks, int kc,
                                  MemorySegment c, long co, boolean accumulate) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, b0, b1, x;
        if (accumulate) {
            c00 = FloatVector.fromMemorySegment(F, c, co, ORDER); c01 = FloatVector.fromMemorySegment(F, c, co + VB, ORDER);
            c10 = FloatVector.fromMemorySegment(F, c, co + 2 * VB, ORDER); c11 = FloatVector.fromMemorySegment(F, c, co + 3 * VB, ORDER);
            c20 = FloatVector.fromMemorySegment(F, c, co + 4 * VB, ORDER); c21 = FloatVector.fromMemorySegment(F, c, co + 5 * VB, ORDER);
            c30 = FloatVector.fromMemorySegment(F, c, co + 6 * VB, ORDER); c31 = FloatVector.fromMemorySegment(F, c, co + 7 * VB, ORDER);
            c40 = FloatVector.fromMemorySegment(F, c, co + 8 * VB, ORDER); c41 = FloatVector.fromMemorySegment(F, c, co + 9 * VB, ORDER);
            c50 = FloatVector.fromMemorySegment(F, c, co + 10 * VB, ORDER); c51 = FloatVector.fromMemorySegment(F, c, co + 11 * VB, ORDER);
        } else {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = FloatVector.zero(F);
        }
        for (int kk = 0; kk < kc; kk += 2) {
            long ak = ao + kk * aks, bk = bo + kk * bks;
            b0 = FloatVector.fromMemorySegment(F, b, bk, ORDER);
            b1 = FloatVector.fromMemorySegment(F, b, bk + VB, ORDER);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak));
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + 4));
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + 8));
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + 12));
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + 16));
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + 20));
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            b0 = FloatVector.fromMemorySegment(F, b, bk + bks, ORDER);
            b1 = FloatVector.fromMemorySegment(F, b, bk + bks + VB, ORDER);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + aks));
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + aks + 4));
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + aks + 8));
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + aks + 12));
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + aks + 16));
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + aks + 20));
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        c00.intoMemorySegment(c, co, ORDER); c01.intoMemorySegment(c, co + VB, ORDER);
        c10.intoMemorySegment(c, co + 2 * VB, ORDER); c11.intoMemorySegment(c, co + 3 * VB, ORDER);
        c20.intoMemorySegment(c, co + 4 * VB, ORDER); c21.intoMemorySegment(c, co + 5 * VB, ORDER);
        c30.intoMemorySegment(c, co + 6 * VB, ORDER); c31.intoMemorySegment(c, co + 7 * VB, ORDER);
        c40.intoMemorySegment(c, co + 8 * VB, ORDER); c41.intoMemorySegment(c, co + 9 * VB, ORDER);
        c50.intoMemorySegment(c, co + 10 * VB, ORDER); c51.intoMemorySegment(c, co + 11 * VB, ORDER);
    }

    /** The last step of an odd kc. */
    private static void oneStep(MemorySegment a, long ak, MemorySegment b, long bk, MemorySegment c, long co,
                                boolean accumulate) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, b0, b1, x;
        if (accumulate) {
            c00 = FloatVector.fromMemorySegment(F, c, co, ORDER); c01 = FloatVector.fromMemorySegment(F, c, co + VB, ORDER);
            c10 = FloatVector.fromMemorySegment(F, c, co + 2 * VB, ORDER); c11 = FloatVector.fromMemorySegment(F, c, co + 3 * VB, ORDER);
            c20 = FloatVector.fromMemorySegment(F, c, co + 4 * VB, ORDER); c21 = FloatVector.fromMemorySegment(F, c, co + 5 * VB, ORDER);
            c30 = FloatVector.fromMemorySegment(F, c, co + 6 * VB, ORDER); c31 = FloatVector.fromMemorySegment(F, c, co + 7 * VB, ORDER);
            c40 = FloatVector.fromMemorySegment(F, c, co + 8 * VB, ORDER); c41 = FloatVector.fromMemorySegment(F, c, co + 9 * VB, ORDER);
            c50 = FloatVector.fromMemorySegment(F, c, co + 10 * VB, ORDER); c51 = FloatVector.fromMemorySegment(F, c, co + 11 * VB, ORDER);
        } else {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = FloatVector.zero(F);
        }
        {
            b0 = FloatVector.fromMemorySegment(F, b, bk, ORDER);
            b1 = FloatVector.fromMemorySegment(F, b, bk + VB, ORDER);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak));
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + 4));
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + 8));
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + 12));
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + 16));
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, a.get(FLOAT, ak + 20));
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        c00.intoMemorySegment(c, co, ORDER); c01.intoMemorySegment(c, co + VB, ORDER);
        c10.intoMemorySegment(c, co + 2 * VB, ORDER); c11.intoMemorySegment(c, co + 3 * VB, ORDER);
        c20.intoMemorySegment(c, co + 4 * VB, ORDER); c21.intoMemorySegment(c, co + 5 * VB, ORDER);
        c30.intoMemorySegment(c, co + 6 * VB, ORDER); c31.intoMemorySegment(c, co + 7 * VB, ORDER);
        c40.intoMemorySegment(c, co + 8 * VB, ORDER); c41.intoMemorySegment(c, co + 9 * VB, ORDER);
        c50.intoMemorySegment(c, co + 10 * VB, ORDER); c51.intoMemorySegment(c, co + 11 * VB, ORDER);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }

    /** A thread's buffers, kept between calls and grown when a larger unit needs more. */
    private static final class Workspace {
        private MemorySegment acc = MemorySegment.NULL;
        private MemorySegment packed = MemorySegment.NULL;

        MemorySegment acc(long bytes) {
            if (acc.byteSize() < bytes) acc = Arena.ofAuto().allocate(bytes, 64);
            return acc;
        }

        MemorySegment packed(long bytes) {
            if (packed.byteSize() < bytes) packed = Arena.ofAuto().allocate(bytes, 64);
            return packed;
        }
    }
}
