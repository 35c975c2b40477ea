package dev.perceiver.model;

import dev.perceiver.loader.CheckpointException;
import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.LongAdder;


/**
 * One pre-LN attention block (transformers' PerceiverLayer), cross- or self-attention:
 * {@code A = attention.output.dense(MHA(layernorm1(x), layernorm2(kv))) [+ x]}, then {@code y = A + mlp(layernorm(A))}.
 * Fields follow the state_dict: {@code attention.self.{layernorm1, layernorm2, query, key, value}},
 * {@code attention.output.dense}, {@code layernorm}, {@code mlp.{dense1, dense2}}. Projections that read the same
 * input run as one product: query, key and value of a self-attention layer, key and value of a cross-attention.
 */
final class PerceiverLayer {
    /** Query rows handled at once: bounds memory for decoders with hundreds of thousands of queries. */
    private static final int QUERY_CHUNK = 2048;
    /** Key/value rows normalised and projected at once, so a long input is never normalised as a whole. */
    private static final int KV_CHUNK = 4096;
    /**
     * Keys and values (floats) above which a cross-attention projects and attends to them a block of this size at a
     * time, merging the blocks' softmax exactly, instead of holding all of them (the flow encoder: 182,528 x 644):
     * {@link Perceiver.Options#keyBlockFloats()}.
     */
    final long keyBlockFloats;
    /** Key blocks attended so far (tests read it to see that the block path ran). */
    final LongAdder keyBlocks = new LongAdder();

    /** The state_dict scope, e.g. {@code perceiver.encoder.self_attends.0}: the layer's name in a trace. */
    final String name;
    final boolean isCrossAttention;
    final int numHeads;
    final int qDim;
    final int qkChannels;
    final int vChannels;
    final boolean useQueryResidual;
    final Activation activation;
    // attention.self: layernorm1, layernorm2 and the query/key/value projections
    final LayerNorm layernorm1;
    final LayerNorm layernorm2;
    /** query for cross-attention; null for self-attention, where it is part of {@link #projections}. */
    final Linear query;
    /**
     * One-head cross-attention without query residual only: the query projection folded into the keys (see
     * {@link #foldQuery}), for queries many enough that the folded form costs less ({@link #foldingPays}); null
     * otherwise.
     */
    final Linear foldedQuery;
    /**
     * One-head cross-attention only: the key projection as a product for constant queries ([kvDim, qk], see
     * {@link #foldKey}) and the value projection as stored, to run after the attention, for key sets long enough that
     * this costs less ({@link #keyFoldingPays}); null otherwise.
     */
    final Linear keyIntoQueries, valueAfter;
    final int kvDim;
    /** [key, value] for cross-attention, [query, key, value] for self-attention, side by side. */
    final Linear projections;
    /** Cross-attention only: key and value weights as stored, valid while the model loads (for {@link FactoredCrossAttention}). */
    final Weights.Dense key;
    final Weights.Dense value;
    // attention.output
    final Linear dense;
    final LayerNorm layernorm;
    // mlp
    final Linear dense1;
    final Linear dense2;

    /** Channel widths after the reference's defaulting rules (spec §2.2). */
    record Channels(int qk, int v, int out) {
        static Channels resolve(boolean cross, Integer qk, Integer v, int qDim, int kvDim, String shapeForAttention,
                                int heads, String where) {
            if (cross && qk == null) {
                qk = switch (shapeForAttention) {
                    case "q" -> qDim;
                    case "kv" -> kvDim;
                    default -> throw new IllegalArgumentException("unknown cross_attention_shape_for_attention '"
                            + shapeForAttention + "' (expected q or kv)");
                };
            } else if (qk == null) {
                qk = qDim;
            }
            if (v == null) v = qk;
            if (qk % heads != 0 || v % heads != 0)
                throw new IllegalArgumentException(where + ": qk_channels " + qk + " and v_channels " + v
                        + " must be divisible by the " + heads + " heads");
            return new Channels(qk, v, cross ? qDim : v);
        }
    }

    PerceiverLayer(Weights w, boolean isCrossAttention, Integer qkChannels, Integer vChannels, int numHeads, int qDim,
                   int kvDim, int wideningFactor, boolean useQueryResidual, String shapeForAttention,
                   Activation activation) {
        Channels ch = Channels.resolve(isCrossAttention, qkChannels, vChannels, qDim, kvDim, shapeForAttention, numHeads,
                w.name("attention"));
        if (ch.out() != qDim)
            throw new CheckpointException(null, w.name("attention") + ": self-attention output width " + ch.out()
                    + " differs from its input width " + qDim + " (v_channels must be None or equal to d_latents)");
        this.name = w.scope();
        this.keyBlockFloats = w.options().keyBlockFloats();
        this.isCrossAttention = isCrossAttention;
        this.numHeads = numHeads;
        this.qDim = qDim;
        this.qkChannels = ch.qk();
        this.vChannels = ch.v();
        this.useQueryResidual = useQueryResidual;
        this.activation = activation;
        Weights self = w.at("attention").at("self");
        this.layernorm1 = self.layerNorm("layernorm1", qDim);
        if (isCrossAttention) {
            // key and value stay as stored: FactoredCrossAttention folds them into its tables.
            this.key = self.dense("key", kvDim, ch.qk());
            this.value = self.dense("value", kvDim, ch.v());
            this.layernorm2 = self.layerNorm("layernorm2", kvDim);
            Staging.Mark mark = self.mark();
            Weights.Dense q = self.dense("query", qDim, ch.qk());
            this.query = self.fuse(q);
            this.foldedQuery = numHeads == 1 && !useQueryResidual && w.options().factoredCrossAttention()
                    ? foldQuery(self, q, qDim, ch.qk()) : null;
            self.release(mark);
            this.projections = self.fuse(key, value);
            boolean fold = numHeads == 1 && w.options().factoredCrossAttention();
            this.keyIntoQueries = fold ? foldKey(self, key, kvDim, ch.qk()) : null;
            this.valueAfter = fold ? self.fuse(value) : null;
        } else {
            Staging.Mark mark = self.mark();
            Weights.Dense k = self.dense("key", kvDim, ch.qk()), v = self.dense("value", kvDim, ch.v());
            this.projections = self.fuse(self.dense("query", qDim, ch.qk()), k, v);
            self.release(mark);
            this.key = null;
            this.value = null;
            this.layernorm2 = null;
            this.query = null;
            this.foldedQuery = null;
            this.keyIntoQueries = null;
            this.valueAfter = null;
        }
        this.kvDim = kvDim;
        this.dense = w.at("attention").at("output").linear("dense", ch.v(), ch.out());
        this.layernorm = w.layerNorm("layernorm", qDim);
        this.dense1 = w.at("mlp").linear("dense1", qDim, wideningFactor * qDim);
        this.dense2 = w.at("mlp").linear("dense2", wideningFactor * qDim, qDim);
    }

    /**
     * The query projection q = LN(x)·W_qᵀ + b_q folded into one head's keys: a key k times the result's transpose is
     * [k·W_q·√(qDim/qk) | b_q·kᵀ/√qk], and the attention kernel, given LN(x) as queries, the first qDim columns as
     * keys and the last as a mask, computes LN(x)·(k·W_q)ᵀ/√qDim + b_q·kᵀ/√qk = q·kᵀ/√qk, the reference's score.
     */
    private static Linear foldQuery(Weights self, Weights.Dense q, int qDim, int qk) {
        try (Arena temp = Arena.ofConfined()) {
            Matrix w = transposed(q.weight(), (float) Math.sqrt((double) qDim / qk), 1, temp);
            for (int o = 0; o < qk; o++) w.set(qDim, o, q.bias().get(0, o) * (float) (1 / Math.sqrt(qk)));
            return self.computedLinear(w);
        }
    }

    /** w [out, in] transposed and times scale, as rows [0, in) of a new [in + extraRows, out] matrix in arena. */
    private static Matrix transposed(Matrix w, float scale, int extraRows, Arena arena) {
        Matrix t = Tensor.zeros(arena, w.cols() + extraRows, w.rows()).matrix();
        for (int o = 0; o < w.rows(); o++)
            for (int c = 0; c < w.cols(); c++) t.set(c, o, w.get(o, c) * scale);
        return t;
    }

    /**
     * The key projection k = LN(x)·W_kᵀ + b_k folded into one head's queries: q times the result's transpose is
     * q·W_k·√(kvDim/qk), and the attention kernel, given that as queries and LN(x) as keys, computes
     * q·W_k·LN(x)ᵀ/√qk = (q·kᵀ - q·b_kᵀ)/√qk: the reference's score less a term the same for every key of a query,
     * which the softmax cancels.
     */
    private static Linear foldKey(Weights self, Weights.Dense k, int kvDim, int qk) {
        try (Arena temp = Arena.ofConfined()) {
            return self.computedLinear(transposed(k.weight(), (float) Math.sqrt((double) kvDim / qk), 0, temp));
        }
    }

    /**
     * Whether nq constant queries over nk keys an item cost fewer multiply-adds with the key projection folded into
     * the queries ({@link #foldKey}) and the value projection after the attention (Σ pⱼ·(LN(xⱼ)·W_vᵀ + b_v) =
     * (Σ pⱼ·LN(xⱼ))·W_vᵀ + b_v, the pⱼ summing to 1): keys and values are then LN(x) itself, never projected. Optical
     * flow's encoder (2,048 latents over 182,528 tokens of 322 channels) skips its 76 GFLOP of key and value
     * projections.
     */
    boolean keyFoldingPays(long nq, long nk) {
        if (keyIntoQueries == null) return false;
        long direct = nk * ((long) kvDim + nq) * (qkChannels + vChannels);
        long folded = nk * nq * 2L * kvDim + nq * (long) kvDim * (qkChannels + vChannels);
        return folded < direct;
    }

    /** constantQueries times {@link #keyIntoQueries}: the queries of a layer whose key projection folds away. */
    private Matrix foldKeyIntoQueries(Run run, Matrix constantQueries) {
        Matrix q = run.matrix(constantQueries.rows(), kvDim);
        keyIntoQueries.applyUncounted(run, constantQueries, q, Activation.NONE, null);
        return q;
    }

    /** ctx times the value projection, for a layer whose attention weighed LN(x) itself ({@link #keyFoldingPays}). */
    private Matrix valuesAfter(Run run, Matrix ctx) {
        Matrix v = run.matrix(ctx.rows(), vChannels);
        valueAfter.applyUncounted(run, ctx, v, Activation.NONE, null);
        return v;
    }

    /**
     * Whether nq queries per item over nk keys cost fewer multiply-adds with the query and output projections folded
     * into the keys and values ({@link #foldQuery}; values times the output dense, whose bias passes through the
     * probabilities, which sum to 1): the attention then runs over qDim-wide keys and values, and neither projection
     * runs per query. Optical flow's decoder (182,528 queries, 322 channels, over 2,048 latents of 512) does 46% fewer.
     */
    boolean foldingPays(long nq, int nk) {
        if (foldedQuery == null) return false;
        long direct = nq * ((long) qDim * qkChannels + (long) nk * (qkChannels + vChannels) + (long) vChannels * qDim);
        long folded = nq * nk * 2L * qDim + (long) nk * ((qDim + 1L) * qkChannels + (long) vChannels * qDim);
        return folded < direct;
    }

    /**
     * The query projection of constant query rows (latents, a trainable query table), computed once when the
     * model loads so passes skip it; for cross-attention layers only.
     */
    Matrix projectConstantQueries(Run run, Matrix x) {
        Matrix q = Tensor.zeros(run.resultArena(), x.rows(), qkChannels).matrix();
        query.apply(run, layernorm1.apply(run, x), q);
        return q;
    }

    /**
     * x: [B, Nq, q_dim]; kv: [B, Nk, kv_dim] for cross-attention, null for self-attention; maskBias: additive
     * [B, Nk] or [B, Nq, Nk], or null; out: [B, Nq, q_dim]; probs: [B, heads, Nq, Nk] to fill, or null.
     * constantQueries: this layer's {@link #projectConstantQueries} of x's rows (the same for every batch item), or null.
     */
    void forward(Run run, Tensor x, Tensor kv, Tensor maskBias, Tensor out, Tensor probs, Matrix constantQueries) {
        forward(run, x, kv, maskBias, out, probs, constantQueries, null);
    }

    /** Takes a layer's output a chunk of rows at a time: rows [firstRow, firstRow + rows.rows()) of the flat [B·Nq]. */
    @FunctionalInterface
    interface RowSink {
        void accept(Run run, int firstRow, Matrix rows);
    }

    /**
     * forward handing each chunk of output rows to sink as it is done, so long query sets (a decoder's hundreds of
     * thousands of points) need no output tensor of their own: out may then be null.
     */
    void forward(Run run, Tensor x, Tensor kv, Tensor maskBias, Tensor out, Tensor probs, Matrix constantQueries,
                 RowSink sink) {
        long t0 = run.beginSpan();
        forwardUntraced(run, x, kv, maskBias, out, probs, constantQueries, sink);
        run.endSpan(TraceEvent.LAYER, name, t0);
    }

    private void forwardUntraced(Run run, Tensor x, Tensor kv, Tensor maskBias, Tensor out, Tensor probs,
                                 Matrix constantQueries, RowSink sink) {
        if (isCrossAttention && probs == null && (maskBias == null || maskBias.rank() == 2)
                && (long) kv.dim(1) * (qkChannels + vChannels) > keyBlockFloats) {
            forwardInKeyBlocks(run, x, kv, maskBias, out, constantQueries, sink);
            return;
        }
        int batch = x.dim(0), nq = x.dim(1);
        long mark = run.scratch().mark();
        Matrix rows = x.matrix();
        // Keys and values of every batch item; self-attention gets its queries from the same product.
        Matrix queries = null, keys, values;
        int nk;
        boolean keysFolded = isCrossAttention && constantQueries != null && keyFoldingPays(nq, kv.dim(1));
        if (keysFolded) {
            nk = kv.dim(1);
            keys = values = layernorm2.apply(run, kv.matrix());
            run.countFlops(2L * batch * nk * kvDim * (qkChannels + vChannels));  // the reference's projections
            constantQueries = foldKeyIntoQueries(run, constantQueries);
        } else if (isCrossAttention) {
            nk = kv.dim(1);
            Matrix kvRows = projectKeysAndValues(run, kv.matrix());
            keys = kvRows.cols(0, qkChannels);
            values = kvRows.cols(qkChannels, qkChannels + vChannels);
        } else {
            nk = nq;
            Matrix qkv = projections.apply(run, layernorm1.apply(run, rows));
            queries = qkv.cols(0, qkChannels);
            keys = qkv.cols(qkChannels, 2 * qkChannels);
            values = qkv.cols(2 * qkChannels, 2 * qkChannels + vChannels);
        }
        if (constantQueries != null) run.countFlops(2L * batch * nq * qDim * qkChannels);
        Folded folded = isCrossAttention && probs == null && maskBias == null && constantQueries == null
                && foldingPays(nq, nk) ? fold(run, keys, values, batch, nk) : null;
        // Chunks of the flat [B·Nq] rows, so that a batch's feed-forward products take several items' rows at once;
        // each item's rows of a chunk attend to its own keys. Probabilities are stored head-major per batch item, so
        // with them a chunk is one item.
        int chunk = probs != null ? nq : QUERY_CHUNK, total = batch * nq;
        Matrix outRows = out == null ? null : out.matrix();
        for (int r0 = 0; r0 < total; r0 += chunk) {
            int r1 = Math.min(total, r0 + chunk);
            long inner = run.scratch().mark();
            Matrix xq = rows.rows(r0, r1);
            Matrix dest = outRows != null ? outRows.rows(r0, r1) : run.matrix(r1 - r0, qDim);
            if (folded != null) {
                forwardFolded(run, folded, xq, r0, nq, dest);
            } else {
                Matrix q = queries != null ? queries.rows(r0, r1)
                        : constantQueries != null ? null
                        : query.apply(run, layernorm1.apply(run, xq));
                Matrix ctx = run.matrix(r1 - r0, values.cols());
                for (int s0 = r0, s1; s0 < r1; s0 = s1) {
                    int b = s0 / nq, q0 = s0 % nq;
                    s1 = Math.min(r1, (b + 1) * nq);
                    attend(run, q != null ? q.rows(s0 - r0, s1 - r0) : constantQueries.rows(q0, q0 + s1 - s0),
                            keys.rows(b * nk, (b + 1) * nk), values.rows(b * nk, (b + 1) * nk),
                            maskBias == null ? null : maskBias.select(0, b), q0, ctx.rows(s0 - r0, s1 - r0),
                            probs == null ? null : probs.select(0, b).matrix());
                }
                feedForward(run, xq, keysFolded ? valuesAfter(run, ctx) : ctx, dest);
            }
            if (sink != null) sink.accept(run, r0, dest);
            run.scratch().release(inner);
        }
        run.scratch().release(mark);
    }

    /**
     * Every item's keys and values with the query and output projections folded in ({@link #foldingPays}): keys
     * [B·nk, qDim], each item's score offsets as a mask [B, nk], values [B·nk, qDim] (the output dense's, bias included).
     */
    private Folded fold(Run run, Matrix keys, Matrix values, int batch, int nk) {
        Matrix keyRows = run.matrix(batch * nk, qDim + 1), valueRows = run.matrix(batch * nk, qDim);
        foldedQuery.applyUncounted(run, keys, keyRows, Activation.NONE, null);
        dense.applyUncounted(run, values, valueRows, Activation.NONE, null);
        Tensor mask = run.tensor(batch, nk);
        Matrix m = mask.matrix();
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < nk; j++) m.set(b, j, keyRows.get(b * nk + j, qDim));
        return new Folded(keyRows.cols(0, qDim), valueRows, mask, nk);
    }

    /** One pass's folded keys and values of nk per item, and their score offsets. */
    private record Folded(Matrix keys, Matrix values, Tensor mask, int nk) {}

    /**
     * out = the layer's output for query rows [r0, r0 + x.rows()) of the flat [B·nq]: LN(x) attends to the folded keys
     * and values, counted as the reference's query, attention and output products.
     */
    private void forwardFolded(Run run, Folded f, Matrix x, int r0, int nq, Matrix out) {
        Matrix normed = layernorm1.apply(run, x), a = run.matrix(x.rows(), qDim);
        run.countFlops(2L * x.rows() * (qkChannels + vChannels) * qDim);
        for (int s0 = r0, s1; s0 < r0 + x.rows(); s0 = s1) {
            int b = s0 / nq;
            s1 = Math.min(r0 + x.rows(), (b + 1) * nq);
            attend(run, normed.rows(s0 - r0, s1 - r0), f.keys().rows(b * f.nk(), (b + 1) * f.nk()),
                    f.values().rows(b * f.nk(), (b + 1) * f.nk()), f.mask().select(0, b), s0 % nq,
                    a.rows(s0 - r0, s1 - r0), null);
        }
        mlp(run, a, out);
    }

    /**
     * forward for a key set too long to project at once: every query attends to one key block at a time, the blocks
     * LN(x) itself where the key and value projections fold away ({@link #keyFoldingPays}), else projected.
     */
    private void forwardInKeyBlocks(Run run, Tensor x, Tensor kv, Tensor maskBias, Tensor out, Matrix constantQueries,
                                    RowSink sink) {
        int batch = x.dim(0), nq = x.dim(1), nk = kv.dim(1);
        boolean fold = constantQueries != null && keyFoldingPays(nq, nk);
        int valueWidth = fold ? kvDim : vChannels;
        // Folded, the keys and values are LN(x) twice over (the attention copies both): a block holds as many floats.
        int block = (int) Math.max(1, keyBlockFloats / (fold ? 2L * kvDim : qkChannels + vChannels));
        if (constantQueries != null) run.countFlops(2L * batch * nq * qDim * qkChannels);
        for (int b = 0; b < batch; b++) {
            long mark = run.scratch().mark();
            Matrix xb = x.select(0, b).matrix(), src = kv.select(0, b).matrix();
            Matrix q = constantQueries == null ? query.apply(run, layernorm1.apply(run, xb))
                    : fold ? foldKeyIntoQueries(run, constantQueries) : constantQueries;
            Matrix ctx = run.matrix(nq, valueWidth), lse = run.matrix(numHeads * nq, 1);
            Matrix part = run.matrix(nq, valueWidth), partLse = run.matrix(numHeads * nq, 1);
            lse.fill(Float.NEGATIVE_INFINITY);
            ctx.fill(0f);
            Matrix mask = maskBias == null ? null : maskBias.select(0, b).reshape(1, nk).matrix();
            for (int k0 = 0; k0 < nk; k0 += block) {
                int k1 = Math.min(nk, k0 + block);
                long inner = run.scratch().mark();
                Matrix keys, values;
                if (fold) {
                    keys = values = layernorm2.apply(run, src.rows(k0, k1));
                    run.countFlops(2L * (k1 - k0) * kvDim * (qkChannels + vChannels));  // the reference's projections
                } else {
                    Matrix kvRows = projectKeysAndValues(run, src.rows(k0, k1));
                    keys = kvRows.cols(0, qkChannels);
                    values = kvRows.cols(qkChannels, qkChannels + vChannels);
                }
                keyBlocks.increment();
                run.countFlops(2L * nq * (k1 - k0) * (qkChannels + vChannels));
                long t0 = run.beginSpan();
                run.backend().attention(q, keys, values, numHeads, mask == null ? null : mask.cols(k0, k1), part, null,
                        partLse, run.scratch());
                run.kernels().mergeAttention(run.parallel(), ctx, lse, part, partLse, numHeads);
                if (run.traced()) traceAttention(run, t0, nq, k1 - k0, keys.cols(), values.cols());
                run.scratch().release(inner);
            }
            Matrix dest = out != null ? out.select(0, b).matrix() : run.matrix(nq, qDim);
            feedForward(run, xb, fold ? valuesAfter(run, ctx) : ctx, dest);
            if (sink != null) sink.accept(run, b * nq, dest);
            run.scratch().release(mark);
        }
    }

    /** [keys | values] = [key | value](layernorm2(src)), a chunk of rows at a time. */
    private Matrix projectKeysAndValues(Run run, Matrix src) {
        Matrix kv = run.matrix(src.rows(), qkChannels + vChannels);
        for (int r0 = 0; r0 < src.rows(); r0 += KV_CHUNK) {
            int r1 = Math.min(src.rows(), r0 + KV_CHUNK);
            long mark = run.scratch().mark();
            projections.apply(run, layernorm2.apply(run, src.rows(r0, r1)), kv.rows(r0, r1));
            run.scratch().release(mark);
        }
        return kv;
    }

    /** ctx = MHA(q, keys, values) for query rows q0.. of one batch item. */
    private void attend(Run run, Matrix q, Matrix keys, Matrix values, Tensor maskBias, int q0, Matrix ctx, Matrix probs) {
        run.countFlops(2L * q.rows() * keys.rows() * (qkChannels + vChannels));
        long t0 = run.beginSpan();
        if (maskBias == null || maskBias.rank() == 1) {
            Matrix mask = maskBias == null ? null : maskBias.reshape(1, keys.rows()).matrix();
            run.backend().attention(q, keys, values, numHeads, mask, ctx, probs, null, run.scratch());
            if (run.traced()) traceAttention(run, t0, q.rows(), keys.rows(), keys.cols(), values.cols());
            return;
        }
        // A mask per query ([B, Nq, Nk]) is rare: attend one query row at a time with its own mask row.
        Matrix rowProbs = probs == null ? null : run.matrix(numHeads, keys.rows());
        for (int i = 0; i < q.rows(); i++) {
            Matrix mask = maskBias.select(0, q0 + i).reshape(1, keys.rows()).matrix();
            run.backend().attention(q.row(i), keys, values, numHeads, mask, ctx.row(i), rowProbs, null, run.scratch());
            if (probs != null)
                for (int h = 0; h < numHeads; h++) probs.row(h * q.rows() + i).copyFrom(rowProbs.row(h));
        }
        if (run.traced()) traceAttention(run, t0, q.rows(), keys.rows(), keys.cols(), values.cols());
    }

    /** The kernel's shape: a folded layer's widths differ from the reference's ({@link #foldingPays}). */
    private void traceAttention(Run run, long t0, int queries, int keys, int qkWidth, int vWidth) {
        run.endSpan(TraceEvent.KERNEL, "attention", t0, Run.args("heads", numHeads, "queries", queries, "keys", keys,
                "qk_channels", qkWidth, "v_channels", vWidth));
    }

    /** out = A + dense2(act(dense1(layernorm(A)))) with A = dense(ctx) [+ x]. */
    void feedForward(Run run, Matrix x, Matrix ctx, Matrix out) {
        Matrix a = run.matrix(x.rows(), dense.out());
        dense.apply(run, ctx, a, Activation.NONE, useQueryResidual ? x : null);
        mlp(run, a, out);
    }

    /** out = A + dense2(act(dense1(layernorm(A)))). */
    private void mlp(Run run, Matrix a, Matrix out) {
        Matrix hidden = run.matrix(a.rows(), dense1.out());
        dense1.apply(run, layernorm.apply(run, a), hidden, activation, null);
        dense2.apply(run, hidden, out, Activation.NONE, a);
    }
}
