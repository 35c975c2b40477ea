package dev.perceiver.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Multi-head attention on the Vector API, computed transposed so that softmax statistics are per vector lane:
 * for a block of keys and NR queries, Sᵀ = K·Qᵀ (keys x queries) comes from {@link VectorGemm#microKernel} on a
 * copy of the block's keys, the online softmax updates each query's running max and sum lane-wise, and Oᵀ = Vᵀ·Pᵀ
 * (value channels x queries) comes from the same micro-kernel on a copy of the block's V rows; both copies are laid
 * out as the micro-kernel's A tiles. Qᵀ is copied once per unit; K and V once per call where a head's queries take
 * several units and the copies fit {@link #MAX_SHARED_PACK}, else once per key block and unit; memory is O(queries per
 * unit x head width + key block) besides that bounded copy, never O(nq·nk). All of it lives in Java arrays, rows
 * copied in and out in bulk, for the reason {@link VectorGemm} gives.
 * <p>
 * Work units are (head, query chunk); every query's result is computed the same way whatever the chunk, so results do
 * not depend on the thread count. With probabilities requested, a first pass finds each query's max and sum and a
 * second pass stores the exactly normalized probabilities and multiplies them into V.
 */
final class VectorAttention {
    private static final VectorSpecies<Float> F = VectorMath.F;
    private static final int L = F.length();
    private static final int MR = VectorGemm.MR, NR = VectorGemm.NR, KC = VectorGemm.KC;

    /** Keys per block: Sᵀ of one query sub-panel (KEY_BLOCK x NR, 32 KiB at 16 lanes) stays in L1/L2 from scores to values. */
    static final int KEY_BLOCK = 32 * MR;
    /**
     * Lane selects over two 16-lane vectors x, y (index j < L picks x[j], L + j picks y[j]): GROUPS_LO interleaves the
     * first two groups of MR lanes of x and y, GROUPS_HI the last two; HALVES_LO and HALVES_HI join the first and the
     * second halves of x and y.
     */
    private static final FloatVector GROUPS_LO = VectorGemm.selects(l -> l / MR % 2 * L + l / (2 * MR) * MR + l % MR),
            GROUPS_HI = VectorGemm.selects(l -> l / MR % 2 * L + L / 2 + l / (2 * MR) * MR + l % MR),
            HALVES_LO = VectorGemm.selects(l -> l / (L / 2) * L + l % (L / 2)),
            HALVES_HI = VectorGemm.selects(l -> l / (L / 2) * L + L / 2 + l % (L / 2));
    /** Queries per unit at most: bounds the per-unit Qᵀ and Oᵀ copies (queries x head width). */
    static final int MAX_QUERIES = 512;
    /** Queries per unit at least: each unit streams all keys and copies all of V, ~3% of its work at 128 queries. */
    static final int MIN_QUERIES = 128;
    /** Units per thread when several run, to even out threads on a busy machine. */
    private static final int UNITS_PER_THREAD = 4;

    /**
     * Floats of K and V copies shared by a call's units at most (32 MiB). Each unit of a head had copied all its keys
     * and values: optical flow's decoder cuts a head's 2,048 queries into 8 units over the same 2,048 x 512 keys.
     */
    static final int MAX_SHARED_PACK = 1 << 23;

    /** A thread's unit, its buffers kept between calls: allocating them per call took 9% of a latent block. */
    private static final ThreadLocal<Unit> UNITS = ThreadLocal.withInitial(Unit::new);
    /** The calling thread's shared copies of K and V, kept between calls as the units' buffers are. */
    private static final ThreadLocal<SharedPack> SHARED = ThreadLocal.withInitial(SharedPack::new);

    private VectorAttention() {}

    static void attention(Parallel p, Matrix q, Matrix k, Matrix v, int heads, Matrix mask, Matrix out, Matrix probs,
                          Matrix lse) {
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
        float invScale = 1f / (float) Math.sqrt(s.dqk());
        Function<SharedPack, Unit> bind = shared -> UNITS.get().bind(s, q, k, v, mask, out, probs, lse, invScale,
                subsPerChunk, shared);
        SharedPack shared = chunksPerHead > 1 && SharedPack.floats(s, heads) <= MAX_SHARED_PACK
                ? SHARED.get().pack(p, s, heads, bind) : null;
        p.forRange(heads * chunksPerHead, 1, (u0, u1) -> {
            Unit unit = bind.apply(shared);
            try {
                for (int u = u0; u < u1; u++) {
                    int q0 = u % chunksPerHead * subsPerChunk * NR;
                    unit.run(u / chunksPerHead, q0, Math.min(s.nq(), q0 + subsPerChunk * NR));
                }
            } finally {
                unit.unbind();
            }
        });
    }

    /**
     * Every head's keys and values, copied once as the units' own per-block copies are ({@link Unit#packBlock}), block
     * after block: the block of head h starting at key kb at {@link #at}.
     */
    private static final class SharedPack {
        float[] keys = new float[0], values = new float[0];
        int dqk, dvPad, blocks;

        static long floats(AttentionShape s, int heads) {
            long keys = (long) heads * VectorGemm.ceilDiv(s.nk(), KEY_BLOCK) * KEY_BLOCK;
            return keys * (s.dqk() + VectorGemm.roundUp(s.dv(), MR));
        }

        /** Copies every head's blocks on p's threads, each through its thread's unit from bind (with no shared pack). */
        SharedPack pack(Parallel p, AttentionShape s, int heads, Function<SharedPack, Unit> bind) {
            dqk = s.dqk();
            dvPad = VectorGemm.roundUp(s.dv(), MR);
            blocks = VectorGemm.ceilDiv(s.nk(), KEY_BLOCK);
            keys = Unit.atLeast(keys, heads * blocks * KEY_BLOCK * dqk);
            values = Unit.atLeast(values, heads * blocks * KEY_BLOCK * dvPad);
            p.forRange(heads * blocks, 1, (b0, b1) -> {
                Unit unit = bind.apply(null);
                try {
                    for (int b = b0; b < b1; b++) {
                        int h = b / blocks, kb = b % blocks * KEY_BLOCK;
                        unit.h = h;
                        unit.packKeysAndValues(kb, Math.min(KEY_BLOCK, s.nk() - kb), true, keys, at(h, kb) * dqk,
                                values, at(h, kb) * dvPad);
                    }
                } finally {
                    unit.unbind();
                }
            });
            return this;
        }

        /** Where head h's block at key kb starts, in keys (times the head's width in floats). */
        int at(int h, int kb) {
            return h * blocks * KEY_BLOCK + kb;
        }
    }

    /** One thread's buffers and the work on one (head, query range). */
    private static final class Unit {
        AttentionShape s;
        Matrix q, k, v, mask, out, probs, lse;
        SharedPack shared;
        /** The current block's keys and values as A tiles: the unit's own copies or the shared ones, from these indices. */
        float[] keys, values;
        int keysAt, valuesAt;
        float invScale;
        int dvPad;
        /** Where Qᵀ, Oᵀ, stats, Sᵀ and pv start in their arrays: on vector boundaries ({@link VectorAlignment}). */
        int qT0, oT0, stats0, sT0, pv0;
        /**
         * Qᵀ [sub][d][NR], Oᵀ [sub][dvPad][NR], stats [sub][max | sum | correction][NR], Sᵀ [key][NR], keys as tiles of
         * MR keys [tile][d][MR], values as tiles of MR channels [tile][key][MR].
         */
        float[] qT = new float[0], oT = new float[0], stats = new float[0], sT = new float[0], pv = new float[0],
                kPack = new float[0], vPack = new float[0], maskRow = new float[0], line = new float[0],
                rows = new float[0];
        int h, q0, q1, subs;

        /** This call's operands, with the buffers grown to its shape. */
        Unit bind(AttentionShape s, Matrix q, Matrix k, Matrix v, Matrix mask, Matrix out, Matrix probs, Matrix lse,
                  float invScale, int maxSubs, SharedPack shared) {
            this.s = s; this.q = q; this.k = k; this.v = v; this.mask = mask; this.out = out; this.probs = probs;
            this.lse = lse; this.shared = shared;
            this.invScale = invScale;
            dvPad = VectorGemm.roundUp(s.dv(), MR);
            qT = atLeast(qT, maxSubs * s.dqk() * NR + VectorAlignment.SLACK);
            oT = atLeast(oT, maxSubs * dvPad * NR + VectorAlignment.SLACK);
            stats = atLeast(stats, maxSubs * 3 * NR + VectorAlignment.SLACK);
            sT = atLeast(sT, KEY_BLOCK * NR + VectorAlignment.SLACK);
            pv = atLeast(pv, dvPad * NR + VectorAlignment.SLACK);
            qT0 = VectorAlignment.alignedIndex(qT, 0);
            oT0 = VectorAlignment.alignedIndex(oT, 0);
            stats0 = VectorAlignment.alignedIndex(stats, 0);
            sT0 = VectorAlignment.alignedIndex(sT, 0);
            pv0 = VectorAlignment.alignedIndex(pv, 0);
            kPack = atLeast(kPack, KEY_BLOCK * s.dqk());
            vPack = atLeast(vPack, KEY_BLOCK * dvPad);
            maskRow = atLeast(maskRow, KEY_BLOCK);
            line = atLeast(line, Math.max(KEY_BLOCK, MR * Math.max(s.dqk(), dvPad)));
            rows = atLeast(rows, NR * Math.max(s.dqk(), s.dv()));
            return this;
        }

        /** Lets go of the call's operands, which the thread-local unit would otherwise keep reachable. */
        void unbind() {
            s = null; q = k = v = mask = out = probs = lse = null;
            shared = null;
            keys = values = null;
        }

        static float[] atLeast(float[] a, int n) {
            return a.length >= n ? a : new float[n];
        }

        void run(int head, int from, int to) {
            h = head; q0 = from; q1 = to; subs = VectorGemm.ceilDiv(to - from, NR);
            packQueries();
            for (int sp = 0; sp < subs; sp++) {
                int st = statsOffset(sp);
                Arrays.fill(stats, st, st + NR, Float.NEGATIVE_INFINITY);
                Arrays.fill(stats, st + NR, st + 2 * NR, 0f);
            }
            Arrays.fill(oT, oT0, oT0 + subs * dvPad * NR, 0f);
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
                scores(sp, nkb);
                updateStats(sT, sT0, nkb, stats, statsOffset(sp));
                values(nkb);
                combine(oT, oTOffset(sp), pv, pv0, dvPad, stats, statsOffset(sp) + 2 * NR);
            }
        }

        /** First pass with probabilities: only each query's max and sum. */
        private void statsBlock(int kb, int nkb) {
            packBlock(kb, nkb, false);
            for (int sp = 0; sp < subs; sp++) {
                scores(sp, nkb);
                updateStats(sT, sT0, nkb, stats, statsOffset(sp));
            }
        }

        /** Second pass: P = exp(S - max) / sum, stored to probs and multiplied into V (Oᵀ += Vᵀ·Pᵀ). */
        private void probsBlock(int kb, int nkb) {
            packBlock(kb, nkb, true);
            for (int sp = 0; sp < subs; sp++) {
                scores(sp, nkb);
                exponentiate(sT, sT0, nkb, stats, statsOffset(sp), true);
                storeProbs(sp, kb, nkb);
                values(nkb);
                Arrays.fill(stats, statsOffset(sp) + 2 * NR, statsOffset(sp) + 3 * NR, 1f);
                combine(oT, oTOffset(sp), pv, pv0, dvPad, stats, statsOffset(sp) + 2 * NR);
            }
        }

        /**
         * Qᵀ·(1/√d) of this unit's queries as [sub-panel][d][NR], zero past the last query: a sub-panel's rows copied
         * whole, then transposed with the stores in order (storing each row's values NR floats apart had taken 6% of a
         * 128-wide head's time).
         */
        private void packQueries() {
            int dqk = s.dqk();
            Matrix qh = q.cols(h * dqk, (h + 1) * dqk);
            for (int sp = 0; sp < subs; sp++) {
                int lanes = lanes(sp), base = qTOffset(sp);
                for (int lane = 0; lane < lanes; lane++) qh.copyRow(q0 + sp * NR + lane, rows, lane * dqk);
                Arrays.fill(rows, lanes * dqk, NR * dqk, 0f);
                transpose(rows, 0, dqk, NR, dqk, qT, base, NR, invScale);
            }
        }

        /** The block's mask values, and its keys and values from the shared copies or copied here. */
        private void packBlock(int kb, int nkb, boolean withValues) {
            if (mask != null) mask.cols(kb, kb + nkb).copyRow(0, maskRow);
            if (shared != null) {
                keys = shared.keys; keysAt = shared.at(h, kb) * s.dqk();
                values = shared.values; valuesAt = shared.at(h, kb) * dvPad;
            } else {
                keys = kPack; keysAt = 0;
                values = vPack; valuesAt = 0;
                packKeysAndValues(kb, nkb, withValues, kPack, 0, vPack, 0);
            }
        }

        /**
         * The block's keys as tiles of MR keys (zero keys up to the next MR) and, if withValues, its V rows as tiles of
         * MR channels (channels [dv, dvPad) zero): the micro-kernel's A operands of Sᵀ = K·Qᵀ and Oᵀ = Vᵀ·Pᵀ, read at
         * constant strides whatever the head's width.
         */
        private void packKeysAndValues(int kb, int nkb, boolean withValues, float[] kDest, int kAt, float[] vDest,
                                       int vAt) {
            int dqk = s.dqk(), dv = s.dv();
            VectorGemm.toTiles(k, kb, kb + nkb, h * dqk, dqk, dqk, line, kDest, kAt);
            if (withValues) {
                Matrix vh = v.cols(h * dv, (h + 1) * dv);
                for (int i = 0; i < MR; i++) Arrays.fill(line, i * dvPad + dv, (i + 1) * dvPad, 0f);
                for (int j = 0; j < nkb; j += MR) {
                    int keys = Math.min(MR, nkb - j);
                    for (int i = 0; i < keys; i++) vh.copyRow(kb + j + i, line, i * dvPad);
                    Arrays.fill(line, keys * dvPad, MR * dvPad, 0f);  // keys up to the next MR are zero
                    valueTiles(line, dvPad, vDest, vAt + j * MR);
                }
            }
        }

        /**
         * MR keys' value rows (row i at lines[i·dvPad, (i + 1)·dvPad)) into their value tiles from index at: channel c
         * of key i to at + (c / MR·KEY_BLOCK + i)·MR + c % MR. With 16 lanes, a vector of channels of each of the MR
         * keys (four tiles' worth) becomes four tiles' MR x MR blocks by two rounds of two-vector lane selects: one-thread
         * 8 x 128 attention 2% faster than channel by channel, 16 x 32 and 8 x (32, 160) on two threads 1-3.5%.
         */
        private static void valueTiles(float[] lines, int dvPad, float[] dest, int at) {
            int c = 0;
            for (; L == 16 && c + L <= dvPad; c += L)
                VectorGemm.selectFourRows(lines, c, dvPad, GROUPS_LO, GROUPS_HI, HALVES_LO, HALVES_HI, dest,
                        at + c / MR * KEY_BLOCK * MR, KEY_BLOCK * MR);
            for (int t = c / MR; t < dvPad / MR; t++)
                for (int i = 0; i < MR; i++)
                    for (int cc = 0; cc < MR; cc++)
                        dest[at + (t * KEY_BLOCK + i) * MR + cc] = lines[i * dvPad + t * MR + cc];
        }

        /**
         * Sᵀ rows [0, nkb) of sub-panel sp: dot products over the head's dqk channels, from the packed keys, KC
         * channels at a time so that the slice of Qᵀ every key tile reads stays in L1 (a 512-wide head's whole Qᵀ
         * sub-panel, 128 KiB, came from L2 for every tile).
         */
        private void scores(int sp, int nkb) {
            int dqk = s.dqk(), tiles = VectorGemm.ceilDiv(nkb, MR), max = statsOffset(sp) + 2 * NR;
            float[] maskValues = mask == null ? null : maskRow;
            Arrays.fill(stats, max, max + NR, Float.NEGATIVE_INFINITY);
            for (int pass = 0, passes = Math.max(1, VectorGemm.ceilDiv(dqk, KC)); pass < passes; pass++) {
                int d0 = pass * KC, kc = Math.min(KC, dqk - d0);
                for (int t = 0; t < tiles; t++) {
                    VectorGemm.microKernel(keys, keysAt + t * MR * dqk + d0 * MR, qT, qTOffset(sp) + d0 * NR, kc, sT,
                            sT0 + t * MR * NR, pass > 0);
                    if (pass == passes - 1)
                        maskAndMax(sT, sT0, t * MR, Math.min(nkb, (t + 1) * MR), maskValues, stats, max);
                }
            }
        }

        /** pv = Vᵀ·Pᵀ for this block's nkb keys: value channels x queries, from the copied V rows. */
        private void values(int nkb) {
            for (int t = 0; t < dvPad / MR; t++)
                VectorGemm.microKernel(values, valuesAt + t * KEY_BLOCK * MR, sT, sT0, nkb, pv, pv0 + t * MR * NR,
                        false);
        }

        private void storeProbs(int sp, int kb, int nkb) {
            Matrix block = probs.cols(kb, kb + nkb);
            for (int lane = 0, lanes = lanes(sp); lane < lanes; lane++) {
                for (int j = 0; j < nkb; j++) line[j] = sT[sT0 + j * NR + lane];
                block.setRow(h * s.nq() + q0 + sp * NR + lane, line, 0);
            }
        }

        /**
         * out = Oᵀ transposed back, divided by each query's sum when the probabilities were not normalized (a vector of
         * queries at a time, in place), then transposed into rows as {@link #packQueries} does the other way; and each
         * query's log-sum-exp, max + log(sum), when asked for.
         */
        private void writeOut(boolean divide) {
            int dv = s.dv();
            Matrix oh = out.cols(h * dv, (h + 1) * dv);
            for (int sp = 0; sp < subs; sp++) {
                int st = statsOffset(sp), base = oTOffset(sp), lanes = lanes(sp);
                if (divide) divideBySums(oT, base, dv, stats, st + NR);
                transpose(oT, base, NR, dv, NR, rows, 0, dv, 1f);
                for (int lane = 0; lane < lanes; lane++) {
                    int query = q0 + sp * NR + lane;
                    if (lse != null)
                        lse.set(h * s.nq() + query, 0, (float) (stats[st + lane] + Math.log(stats[st + NR + lane])));
                    oh.setRow(query, rows, lane * dv);
                }
            }
        }

        /**
         * Queries in sub-panel sp: one loop bound, where a loop that could end on either of two tests trapped when a
         * real shape first ended it on the one the warm-up's few queries never did.
         */
        private int lanes(int sp) {
            return Math.min(NR, q1 - q0 - sp * NR);
        }

        private int statsOffset(int sp) {
            return stats0 + sp * 3 * NR;
        }

        private int oTOffset(int sp) {
            return oT0 + sp * dvPad * NR;
        }

        private int qTOffset(int sp) {
            return qT0 + sp * s.dqk() * NR;
        }
    }

    /**
     * dst[d0 + c·dstStride + r] = src[s0 + r·srcStride + c]·scale for r < rows, c < cols: 16 x 16 blocks by lane
     * interleaves where vectors have 16 lanes ({@link #transpose16}), the rest element by element. Element by element,
     * the queries' and outputs' transposes took 10% of a 128-wide head's time.
     */
    private static void transpose(float[] src, int s0, int srcStride, int rows, int cols, float[] dst, int d0,
                                  int dstStride, float scale) {
        int wholeRows = L == 16 ? rows - rows % 16 : 0, wholeCols = L == 16 ? cols - cols % 16 : 0;
        for (int r = 0; r < wholeRows; r += 16)
            for (int c = 0; c < wholeCols; c += 16)
                transpose16(src, s0 + r * srcStride + c, srcStride, dst, d0 + c * dstStride + r, dstStride, scale);
        for (int r = 0; r < rows; r++)
            for (int c = r < wholeRows ? wholeCols : 0; c < cols; c++)
                dst[d0 + c * dstStride + r] = src[s0 + r * srcStride + c] * scale;
    }

    /**
     * A 16 x 16 block: rows of src (from s, srcStride apart) to columns of dst (from d, rows dstStride apart), times
     * scale. Four rounds that interleave the lanes of rows i and i + 8 into rows 2i and 2i + 1 (the product's tile
     * selects PAIR_LO and PAIR_HI) leave column j in row j.
     * 512-bit vectors only.
     */
    private static void transpose16(float[] src, int s, int srcStride, float[] dst, int d, int dstStride, float scale) {
        FloatVector x0 = FloatVector.fromArray(F, src, s),
                x1 = FloatVector.fromArray(F, src, s + 1 * srcStride),
                x2 = FloatVector.fromArray(F, src, s + 2 * srcStride),
                x3 = FloatVector.fromArray(F, src, s + 3 * srcStride),
                x4 = FloatVector.fromArray(F, src, s + 4 * srcStride),
                x5 = FloatVector.fromArray(F, src, s + 5 * srcStride),
                x6 = FloatVector.fromArray(F, src, s + 6 * srcStride),
                x7 = FloatVector.fromArray(F, src, s + 7 * srcStride),
                x8 = FloatVector.fromArray(F, src, s + 8 * srcStride),
                x9 = FloatVector.fromArray(F, src, s + 9 * srcStride),
                x10 = FloatVector.fromArray(F, src, s + 10 * srcStride),
                x11 = FloatVector.fromArray(F, src, s + 11 * srcStride),
                x12 = FloatVector.fromArray(F, src, s + 12 * srcStride),
                x13 = FloatVector.fromArray(F, src, s + 13 * srcStride),
                x14 = FloatVector.fromArray(F, src, s + 14 * srcStride),
                x15 = FloatVector.fromArray(F, src, s + 15 * srcStride);
        for (int round = 0; round < 4; round++) {
            FloatVector y0 = VectorGemm.PAIR_LO.selectFrom(x0, x8), y1 = VectorGemm.PAIR_HI.selectFrom(x0, x8),
                    y2 = VectorGemm.PAIR_LO.selectFrom(x1, x9), y3 = VectorGemm.PAIR_HI.selectFrom(x1, x9),
                    y4 = VectorGemm.PAIR_LO.selectFrom(x2, x10), y5 = VectorGemm.PAIR_HI.selectFrom(x2, x10),
                    y6 = VectorGemm.PAIR_LO.selectFrom(x3, x11), y7 = VectorGemm.PAIR_HI.selectFrom(x3, x11),
                    y8 = VectorGemm.PAIR_LO.selectFrom(x4, x12), y9 = VectorGemm.PAIR_HI.selectFrom(x4, x12),
                    y10 = VectorGemm.PAIR_LO.selectFrom(x5, x13), y11 = VectorGemm.PAIR_HI.selectFrom(x5, x13),
                    y12 = VectorGemm.PAIR_LO.selectFrom(x6, x14), y13 = VectorGemm.PAIR_HI.selectFrom(x6, x14),
                    y14 = VectorGemm.PAIR_LO.selectFrom(x7, x15), y15 = VectorGemm.PAIR_HI.selectFrom(x7, x15);
            x0 = y0; x1 = y1; x2 = y2; x3 = y3; x4 = y4; x5 = y5; x6 = y6; x7 = y7;
            x8 = y8; x9 = y9; x10 = y10; x11 = y11; x12 = y12; x13 = y13; x14 = y14; x15 = y15;
        }
        x0.mul(scale).intoArray(dst, d); x1.mul(scale).intoArray(dst, d + dstStride);
        x2.mul(scale).intoArray(dst, d + 2 * dstStride); x3.mul(scale).intoArray(dst, d + 3 * dstStride);
        x4.mul(scale).intoArray(dst, d + 4 * dstStride); x5.mul(scale).intoArray(dst, d + 5 * dstStride);
        x6.mul(scale).intoArray(dst, d + 6 * dstStride); x7.mul(scale).intoArray(dst, d + 7 * dstStride);
        x8.mul(scale).intoArray(dst, d + 8 * dstStride); x9.mul(scale).intoArray(dst, d + 9 * dstStride);
        x10.mul(scale).intoArray(dst, d + 10 * dstStride); x11.mul(scale).intoArray(dst, d + 11 * dstStride);
        x12.mul(scale).intoArray(dst, d + 12 * dstStride); x13.mul(scale).intoArray(dst, d + 13 * dstStride);
        x14.mul(scale).intoArray(dst, d + 14 * dstStride); x15.mul(scale).intoArray(dst, d + 15 * dstStride);
    }

    /**
     * Sᵀ rows [from, to) (row j at sT0 + j·NR): s = dot + mask[key] (the queries come scaled by 1/√d), and their max
     * for each query into the running max at stats[at, at + NR) (the correction row, until {@link #updateStats} makes
     * it one). Called on each tile of keys as the micro-kernel leaves it, in L1: a pass over the whole block's scores
     * afterwards (and their scaling) took 12% of a 32-wide head's time.
     */
    private static void maskAndMax(float[] sT, int sT0, int from, int to, float[] mask, float[] stats, int at) {
        for (int o = 0; o < NR; o += L) {
            FloatVector m = FloatVector.fromArray(F, stats, at + o);
            for (int j = from; j < to; j++) {
                FloatVector x = FloatVector.fromArray(F, sT, sT0 + j * NR + o);
                if (mask != null) {
                    x = x.add(mask[j]);
                    x.intoArray(sT, sT0 + j * NR + o);
                }
                m = m.max(x);
            }
            m.intoArray(stats, at + o);
        }
    }

    /**
     * One block of the online softmax for NR queries, the block's max in the correction row: new max
     * m' = max(m, block max), correction c = e^{m - m'} (1 where m = m', so -inf rows stay finite), P = e^{S - m'} in
     * place, sum = sum·c + Σ P. Stats hold [max | sum | correction] rows of NR floats.
     */
    private static void updateStats(float[] sT, int sT0, int nkb, float[] stats, int st) {
        newMaxAndCorrection(stats, st);
        exponentiate(sT, sT0, nkb, stats, st, false);
    }

    private static void newMaxAndCorrection(float[] stats, int st) {
        for (int o = st; o < st + NR; o += L) {
            FloatVector m = FloatVector.fromArray(F, stats, o);
            FloatVector n = m.max(FloatVector.fromArray(F, stats, o + 2 * NR));
            n.intoArray(stats, o);
            m.sub(n).blend(0f, m.eq(n)).intoArray(stats, o + 2 * NR);
        }
        VectorMath.exp(stats, st + 2 * NR, NR);
    }

    /**
     * P = e^{S - max} in place, then either P / sum (normalize: the final max and sum are known) or
     * sum = sum·correction + Σ P.
     */
    private static void exponentiate(float[] sT, int sT0, int nkb, float[] stats, int st, boolean normalize) {
        for (int o = 0; o < NR; o += L) {
            FloatVector max = FloatVector.fromArray(F, stats, st + o), total = FloatVector.fromArray(F, stats, st + NR + o);
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < nkb; j++) {
                FloatVector e = VectorMath.expNonPositive(FloatVector.fromArray(F, sT, sT0 + j * NR + o).sub(max));
                if (normalize) e = e.div(total);
                else sum = sum.add(e);
                e.intoArray(sT, sT0 + j * NR + o);
            }
            if (!normalize) total.fma(FloatVector.fromArray(F, stats, st + 2 * NR + o), sum).intoArray(stats, st + NR + o);
        }
    }

    /** Rows [0, n) of NR queries from index at, each query's lane divided by its sum (sums[so, so + NR)). */
    private static void divideBySums(float[] x, int at, int n, float[] sums, int so) {
        for (int o = 0; o < NR; o += L) {
            FloatVector sum = FloatVector.fromArray(F, sums, so + o);
            for (int r = 0; r < n; r++)
                FloatVector.fromArray(F, x, at + r * NR + o).div(sum).intoArray(x, at + r * NR + o);
        }
    }

    /** Oᵀ = Oᵀ·correction + pv, rows of NR queries (from oo in oT, pv0 in pv). */
    private static void combine(float[] oT, int oo, float[] pv, int pv0, int rows, float[] stats, int co) {
        for (int o = 0; o < NR; o += L) {
            FloatVector c = FloatVector.fromArray(F, stats, co + o);
            for (int r = 0; r < rows; r++)
                FloatVector.fromArray(F, oT, oo + r * NR + o).fma(c, FloatVector.fromArray(F, pv, pv0 + r * NR + o))
                        .intoArray(oT, oo + r * NR + o);
        }
    }
}
