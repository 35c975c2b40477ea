package dev.perceiver.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Multi-head attention on the Vector API, computed transposed so that softmax statistics are per vector lane:
 * for a block of keys and NR queries, Sᵀ = K·Qᵀ (keys x queries) comes from {@link VectorGemm#microKernel} with K's
 * rows read in place, the online softmax updates each query's running max and sum lane-wise, and Oᵀ = Vᵀ·Pᵀ
 * (value channels x queries) comes from the same micro-kernel on a dense copy of the block's V rows. Qᵀ is copied
 * once per unit, V once per key block and unit; memory is O(queries per unit x head width + key block), never O(nq·nk).
 * <p>
 * Work units are (head, query chunk); every query's result is computed the same way whatever the chunk, so results do
 * not depend on the thread count. With probabilities requested, a first pass finds each query's max and sum and a
 * second pass stores the exactly normalized probabilities and multiplies them into V.
 */
final class VectorAttention {
    private static final VectorSpecies<Float> F = VectorMath.F;
    private static final ByteOrder ORDER = VectorMath.ORDER;
    private static final ValueLayout.OfFloat FLOAT = Matrix.FLOAT;
    private static final long VB = F.vectorByteSize();
    private static final int MR = VectorGemm.MR, NR = VectorGemm.NR;
    private static final long ROW = NR * Float.BYTES;

    /** Keys per block: Sᵀ of one query sub-panel (KEY_BLOCK x NR, 12 KiB at 8 lanes) stays in L1 from scores to values. */
    static final int KEY_BLOCK = 32 * MR;
    /** Queries per unit at most: bounds the per-unit Qᵀ and Oᵀ copies (queries x head width). */
    static final int MAX_QUERIES = 512;
    /** Queries per unit at least: each unit streams all keys and copies all of V, ~3% of its work at 128 queries. */
    static final int MIN_QUERIES = 128;
    /** Units per thread when several run, to even out threads on a busy machine. */
    private static final int UNITS_PER_THREAD = 4;

    private VectorAttention() {}

    static void attention(Parallel p, Matrix q, Matrix k, Matrix v, int heads, Matrix mask, Matrix out, Matrix probs,
                          Matrix lse, SegmentAllocator scratch) {
        AttentionShape s = AttentionShape.of(q, k, v, heads, mask, out, probs, lse);
        if (s.nq() == 0) return;
        if (s.nk() == 0) {  // softmax over nothing: the scalar twin's (and torch's) empty sum
            out.fill(0f);
            if (lse != null) lse.fill(Float.NEGATIVE_INFINITY);
            return;
        }
        int subsPerHead = VectorGemm.ceilDiv(s.nq(), NR);
        int target = p.threads() == 1 ? heads : UNITS_PER_THREAD * p.threads();
        int wanted = Math.min(VectorGemm.ceilDiv(target, heads), VectorGemm.ceilDiv(s.nq(), MIN_QUERIES));
        int chunks = Math.min(subsPerHead, Math.max(wanted, VectorGemm.ceilDiv(s.nq(), MAX_QUERIES)));
        int subsPerChunk = VectorGemm.ceilDiv(subsPerHead, chunks);
        int chunksPerHead = VectorGemm.ceilDiv(subsPerHead, subsPerChunk);
        float scale = (float) Math.sqrt(s.dqk());
        p.forRange(heads * chunksPerHead, 1, (u0, u1) -> {
            Unit unit = new Unit(s, q, k, v, mask, out, probs, lse, scale, subsPerChunk, scratch);
            for (int u = u0; u < u1; u++) {
                int q0 = u % chunksPerHead * subsPerChunk * NR;
                unit.run(u / chunksPerHead, q0, Math.min(s.nq(), q0 + subsPerChunk * NR));
            }
        });
    }

    /** One thread's buffers and the work on one (head, query range). */
    private static final class Unit {
        final AttentionShape s;
        final Matrix q, k, v, mask, out, probs, lse;
        final float scale;
        final int dvPad;
        final long vRow;
        final MemorySegment qT, oT, stats, sT, pv, kPack, vPack;
        int h, q0, q1, subs;

        Unit(AttentionShape s, Matrix q, Matrix k, Matrix v, Matrix mask, Matrix out, Matrix probs, Matrix lse,
             float scale, int maxSubs, SegmentAllocator scratch) {
            this.s = s; this.q = q; this.k = k; this.v = v; this.mask = mask; this.out = out; this.probs = probs;
            this.lse = lse;
            this.scale = scale;
            dvPad = VectorGemm.roundUp(s.dv(), MR);
            qT = floats(scratch, (long) maxSubs * s.dqk() * NR);
            oT = floats(scratch, (long) maxSubs * dvPad * NR);
            stats = floats(scratch, (long) maxSubs * 3 * NR);  // per sub-panel: running max, running sum, correction
            sT = floats(scratch, (long) KEY_BLOCK * NR);
            pv = floats(scratch, (long) dvPad * NR);
            kPack = floats(scratch, (long) VectorGemm.roundUp(KEY_BLOCK, MR) * s.dqk());
            int lines = VectorGemm.ceilDiv(dvPad, 16);
            vRow = (lines | 1) * 64L;  // an odd number of cache lines: the block's rows spread over all L1 sets
            vPack = floats(scratch, KEY_BLOCK * vRow / Float.BYTES);
            vPack.fill((byte) 0);  // channels [dv, dvPad) stay zero
        }

        private static MemorySegment floats(SegmentAllocator scratch, long n) {
            return scratch.allocate(Math.max(1, n) * Float.BYTES, 64);
        }

        void run(int head, int from, int to) {
            h = head; q0 = from; q1 = to; subs = VectorGemm.ceilDiv(to - from, NR);
            packQueries();
            for (int sp = 0; sp < subs; sp++) {
                long st = statsOffset(sp);
                FloatVector minusInf = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
                minusInf.intoMemorySegment(stats, st, ORDER);
                minusInf.intoMemorySegment(stats, st + VB, ORDER);
                FloatVector.zero(F).intoMemorySegment(stats, st + ROW, ORDER);
                FloatVector.zero(F).intoMemorySegment(stats, st + ROW + VB, ORDER);
            }
            oT.asSlice(0, (long) subs * dvPad * ROW).fill((byte) 0);
            if (probs == null) {
                for (int kb = 0; kb < s.nk(); kb += KEY_BLOCK) flashBlock(kb, Math.min(KEY_BLOCK, s.nk() - kb));
                writeOut(true);
            } else {
                for (int kb = 0; kb < s.nk(); kb += KEY_BLOCK) statsBlock(kb, Math.min(KEY_BLOCK, s.nk() - kb));
                for (int kb = 0; kb < s.nk(); kb += KEY_BLOCK) probsBlock(kb, Math.min(KEY_BLOCK, s.nk() - kb));
                writeOut(false);
            }
        }

        /** Online softmax: scores, running max/sum update, Oᵀ = Oᵀ·correction + Vᵀ·Pᵀ of this block. */
        private void flashBlock(int kb, int nkb) {
            packBlock(kb, nkb, true);
            for (int sp = 0; sp < subs; sp++) {
                scores(sp, kb, nkb);
                updateStats(sT, nkb, stats, statsOffset(sp));
                values(nkb);
                combine(oT, oTOffset(sp), pv, dvPad, stats, statsOffset(sp) + 2 * ROW);
            }
        }

        /** First pass with probabilities: only each query's max and sum. */
        private void statsBlock(int kb, int nkb) {
            packBlock(kb, nkb, false);
            for (int sp = 0; sp < subs; sp++) {
                scores(sp, kb, nkb);
                updateStats(sT, nkb, stats, statsOffset(sp));
            }
        }

        /** Second pass: P = exp(S - max) / sum, stored to probs and multiplied into V (Oᵀ += Vᵀ·Pᵀ). */
        private void probsBlock(int kb, int nkb) {
            packBlock(kb, nkb, true);
            for (int sp = 0; sp < subs; sp++) {
                scores(sp, kb, nkb);
                normalize(sT, nkb, stats, statsOffset(sp));
                storeProbs(sp, kb, nkb);
                values(nkb);
                FloatVector one = FloatVector.broadcast(F, 1f);
                one.intoMemorySegment(stats, statsOffset(sp) + 2 * ROW, ORDER);
                one.intoMemorySegment(stats, statsOffset(sp) + 2 * ROW + VB, ORDER);
                combine(oT, oTOffset(sp), pv, dvPad, stats, statsOffset(sp) + 2 * ROW);
            }
        }

        /** Qᵀ of this unit's queries as [sub-panel][d][NR], zero past the last query. */
        private void packQueries() {
            int dqk = s.dqk();
            for (int sp = 0; sp < subs; sp++)
                for (int lane = 0; lane < NR; lane++) {
                    int row = q0 + sp * NR + lane;
                    long base = (long) sp * dqk * NR + lane;
                    for (int d = 0; d < dqk; d++)
                        qT.setAtIndex(FLOAT, base + (long) d * NR, row < q1 ? q.get(row, h * dqk + d) : 0f);
                }
        }

        /**
         * The block's keys as MR-key tiles [tile][d][MR] (the last zero-padded), which the micro-kernel needs, and, if
         * values, a dense copy of the block's V rows: read in place, a V row per k step would land 4 KiB apart with 8
         * heads of 128, all in one L1 set and on a new page.
         */
        private void packBlock(int kb, int nkb, boolean values) {
            int dqk = s.dqk();
            MemorySegment ks = k.segment();
            for (int j = 0; j < VectorGemm.roundUp(nkb, MR); j++) {
                long base = (long) j / MR * dqk * MR + j % MR;
                if (j < nkb) {
                    long src = k.index(kb + j, h * dqk);
                    for (int d = 0; d < dqk; d++) kPack.setAtIndex(FLOAT, base + (long) d * MR, ks.getAtIndex(FLOAT, src + d));
                } else {
                    for (int d = 0; d < dqk; d++) kPack.setAtIndex(FLOAT, base + (long) d * MR, 0f);
                }
            }
            if (values)
                for (int j = 0; j < nkb; j++)
                    MemorySegment.copy(v.segment(), v.index(kb + j, h * s.dv()) * Float.BYTES, vPack, j * vRow,
                            (long) s.dv() * Float.BYTES);
        }

        /** Sᵀ rows [0, nkb) of sub-panel sp: dot products over the head's dqk channels, from the packed keys. */
        private void scores(int sp, int kb, int nkb) {
            int dqk = s.dqk();
            long bo = qTOffset(sp);
            for (int t = 0; t < VectorGemm.ceilDiv(nkb, MR); t++)
                VectorGemm.microKernel(kPack, (long) t * dqk * MR * Float.BYTES, MR * Float.BYTES, qT, bo, ROW, dqk, sT,
                        t * MR * ROW, false);
            scaleAndMask(sT, nkb, scale, mask, kb);
        }

        /** pv = Vᵀ·Pᵀ for this block's nkb keys: value channels x queries, from the copied V rows. */
        private void values(int nkb) {
            for (int t = 0; t < dvPad / MR; t++)
                VectorGemm.microKernel(vPack, (long) t * MR * Float.BYTES, vRow, sT, 0, ROW, nkb, pv,
                        t * MR * ROW, false);
        }

        private void storeProbs(int sp, int kb, int nkb) {
            int base = h * s.nq();
            for (int lane = 0; lane < NR && q0 + sp * NR + lane < q1; lane++) {
                int row = base + q0 + sp * NR + lane;
                for (int j = 0; j < nkb; j++) probs.set(row, kb + j, sT.getAtIndex(FLOAT, (long) j * NR + lane));
            }
        }

        /**
         * out = Oᵀ transposed back, divided by each query's sum when the probabilities were not normalized; and each
         * query's log-sum-exp, max + log(sum), when asked for.
         */
        private void writeOut(boolean divide) {
            int dv = s.dv();
            for (int sp = 0; sp < subs; sp++)
                for (int lane = 0; lane < NR && q0 + sp * NR + lane < q1; lane++) {
                    long st = statsOffset(sp) / Float.BYTES;
                    float rowSum = stats.getAtIndex(FLOAT, st + NR + lane);
                    if (lse != null)
                        lse.set(h * s.nq() + q0 + sp * NR + lane, 0,
                                (float) (stats.getAtIndex(FLOAT, st + lane) + Math.log(rowSum)));
                    float sum = divide ? rowSum : 1f;
                    long base = oTOffset(sp) / Float.BYTES + lane;
                    for (int d = 0; d < dv; d++)
                        out.set(q0 + sp * NR + lane, h * dv + d, oT.getAtIndex(FLOAT, base + (long) d * NR) / sum);
                }
        }

        private long statsOffset(int sp) {
            return (long) sp * 3 * ROW;
        }

        private long oTOffset(int sp) {
            return (long) sp * dvPad * ROW;
        }

        private long qTOffset(int sp) {
            return (long) sp * s.dqk() * ROW;
        }
    }

    /** Sᵀ rows: s = dot / scale + mask[key], as the scalar twin rounds it. */
    private static void scaleAndMask(MemorySegment sT, int nkb, float scale, Matrix mask, int kb) {
        for (int j = 0; j < nkb; j++) {
            long o = j * ROW;
            float bias = mask == null ? 0f : mask.get(0, kb + j);
            FloatVector x0 = FloatVector.fromMemorySegment(F, sT, o, ORDER).div(scale);
            FloatVector x1 = FloatVector.fromMemorySegment(F, sT, o + VB, ORDER).div(scale);
            if (mask != null) {
                x0 = x0.add(bias);
                x1 = x1.add(bias);
            }
            x0.intoMemorySegment(sT, o, ORDER);
            x1.intoMemorySegment(sT, o + VB, ORDER);
        }
    }

    /**
     * One block of the online softmax for NR queries (two vectors per key row): new max m' = max(m, block max),
     * correction c = e^{m - m'} (1 where m = m', so -inf rows stay finite), P = e^{S - m'} in place,
     * sum = sum·c + Σ P. Stats hold [max | sum | correction] rows of NR floats.
     */
    private static void updateStats(MemorySegment sT, int nkb, MemorySegment stats, long st) {
        blockMax(sT, nkb, stats, st + 2 * ROW);
        newMaxAndCorrection(stats, st);
        exponentiate(sT, nkb, stats, st);
    }

    /** The max over the block's score rows, into the correction row for now. */
    private static void blockMax(MemorySegment sT, int nkb, MemorySegment stats, long at) {
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0;
        for (int j = 0; j < nkb; j++) {
            m0 = m0.max(FloatVector.fromMemorySegment(F, sT, j * ROW, ORDER));
            m1 = m1.max(FloatVector.fromMemorySegment(F, sT, j * ROW + VB, ORDER));
        }
        m0.intoMemorySegment(stats, at, ORDER);
        m1.intoMemorySegment(stats, at + VB, ORDER);
    }

    private static void newMaxAndCorrection(MemorySegment stats, long st) {
        for (long o = st; o < st + ROW; o += VB) {
            FloatVector m = FloatVector.fromMemorySegment(F, stats, o, ORDER);
            FloatVector n = m.max(FloatVector.fromMemorySegment(F, stats, o + 2 * ROW, ORDER));
            n.intoMemorySegment(stats, o, ORDER);
            m.sub(n).blend(0f, m.eq(n)).intoMemorySegment(stats, o + 2 * ROW, ORDER);
        }
        VectorMath.exp(stats, st + 2 * ROW, NR);
    }

    /** P = e^{S - max} in place; sum = sum·correction + Σ P. */
    private static void exponentiate(MemorySegment sT, int nkb, MemorySegment stats, long st) {
        subtractRow(sT, nkb, stats, st);
        VectorMath.exp(sT, 0, (long) nkb * NR);
        FloatVector sum0 = FloatVector.zero(F), sum1 = FloatVector.zero(F);
        for (int j = 0; j < nkb; j++) {
            sum0 = sum0.add(FloatVector.fromMemorySegment(F, sT, j * ROW, ORDER));
            sum1 = sum1.add(FloatVector.fromMemorySegment(F, sT, j * ROW + VB, ORDER));
        }
        long l = st + ROW, c = st + 2 * ROW;
        FloatVector.fromMemorySegment(F, stats, l, ORDER).fma(FloatVector.fromMemorySegment(F, stats, c, ORDER), sum0)
                .intoMemorySegment(stats, l, ORDER);
        FloatVector.fromMemorySegment(F, stats, l + VB, ORDER).fma(FloatVector.fromMemorySegment(F, stats, c + VB, ORDER), sum1)
                .intoMemorySegment(stats, l + VB, ORDER);
    }

    /** P = e^{S - max} / sum in place, with the final max and sum of each query. */
    private static void normalize(MemorySegment sT, int nkb, MemorySegment stats, long st) {
        subtractRow(sT, nkb, stats, st);
        VectorMath.exp(sT, 0, (long) nkb * NR);
        FloatVector l0 = FloatVector.fromMemorySegment(F, stats, st + ROW, ORDER);
        FloatVector l1 = FloatVector.fromMemorySegment(F, stats, st + ROW + VB, ORDER);
        for (int j = 0; j < nkb; j++) {
            long o = j * ROW;
            FloatVector.fromMemorySegment(F, sT, o, ORDER).div(l0).intoMemorySegment(sT, o, ORDER);
            FloatVector.fromMemorySegment(F, sT, o + VB, ORDER).div(l1).intoMemorySegment(sT, o + VB, ORDER);
        }
    }

    /** Sᵀ rows minus the stats row at st (each query's max). */
    private static void subtractRow(MemorySegment sT, int nkb, MemorySegment stats, long st) {
        FloatVector m0 = FloatVector.fromMemorySegment(F, stats, st, ORDER);
        FloatVector m1 = FloatVector.fromMemorySegment(F, stats, st + VB, ORDER);
        for (int j = 0; j < nkb; j++) {
            long o = j * ROW;
            FloatVector.fromMemorySegment(F, sT, o, ORDER).sub(m0).intoMemorySegment(sT, o, ORDER);
            FloatVector.fromMemorySegment(F, sT, o + VB, ORDER).sub(m1).intoMemorySegment(sT, o + VB, ORDER);
        }
    }

    /** Oᵀ = Oᵀ·correction + pv, rows of NR queries. */
    private static void combine(MemorySegment oT, long oo, MemorySegment pv, int rows, MemorySegment stats, long co) {
        FloatVector c0 = FloatVector.fromMemorySegment(F, stats, co, ORDER);
        FloatVector c1 = FloatVector.fromMemorySegment(F, stats, co + VB, ORDER);
        for (int r = 0; r < rows; r++) {
            long o = oo + r * ROW, p = r * ROW;
            FloatVector.fromMemorySegment(F, oT, o, ORDER).fma(c0, FloatVector.fromMemorySegment(F, pv, p, ORDER))
                    .intoMemorySegment(oT, o, ORDER);
            FloatVector.fromMemorySegment(F, oT, o + VB, ORDER).fma(c1, FloatVector.fromMemorySegment(F, pv, p + VB, ORDER))
                    .intoMemorySegment(oT, o + VB, ORDER);
        }
    }
}
