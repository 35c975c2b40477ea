package dev.perceiver.model;

import dev.perceiver.loader.CheckpointException;
import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

/**
 * One pre-LN attention block (transformers' PerceiverLayer), cross- or self-attention:
 * {@code A = attention.output.dense(MHA(layernorm1(x), layernorm2(kv))) [+ x]}, then {@code y = A + mlp(layernorm(A))}.
 * Fields follow the state_dict: {@code attention.self.{layernorm1, layernorm2, query, key, value}},
 * {@code attention.output.dense}, {@code layernorm}, {@code mlp.{dense1, dense2}}.
 */
final class PerceiverLayer {
    /** Query rows handled at once: bounds memory for decoders with hundreds of thousands of queries. */
    private static final int QUERY_CHUNK = 2048;
    /** Key/value rows normalised and projected at once, so a long input is never normalised as a whole. */
    private static final int KV_CHUNK = 4096;

    final boolean isCrossAttention;
    final int numHeads;
    final int qkChannels;
    final int vChannels;
    final boolean useQueryResidual;
    final Activation activation;
    // attention.self
    final LayerNorm layernorm1;
    final LayerNorm layernorm2;
    final Linear query;
    final Linear key;
    final Linear value;
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
        this.isCrossAttention = isCrossAttention;
        this.numHeads = numHeads;
        this.qkChannels = ch.qk();
        this.vChannels = ch.v();
        this.useQueryResidual = useQueryResidual;
        this.activation = activation;
        Weights self = w.at("attention").at("self");
        this.layernorm1 = self.layerNorm("layernorm1", qDim);
        this.layernorm2 = isCrossAttention ? self.layerNorm("layernorm2", kvDim) : null;
        this.query = self.linear("query", qDim, ch.qk());
        this.key = self.linear("key", kvDim, ch.qk());
        this.value = self.linear("value", kvDim, ch.v());
        this.dense = w.at("attention").at("output").linear("dense", ch.v(), ch.out());
        this.layernorm = w.layerNorm("layernorm", qDim);
        this.dense1 = w.at("mlp").linear("dense1", qDim, wideningFactor * qDim);
        this.dense2 = w.at("mlp").linear("dense2", wideningFactor * qDim, qDim);
    }

    /**
     * x: [B, Nq, q_dim]; kv: [B, Nk, kv_dim] for cross-attention, null for self-attention; maskBias: additive
     * [B, Nk] or [B, Nq, Nk], or null; out: [B, Nq, q_dim]; probs: [B, heads, Nq, Nk] to fill, or null.
     */
    void forward(Run run, Tensor x, Tensor kv, Tensor maskBias, Tensor out, Tensor probs) {
        int batch = x.dim(0), nq = x.dim(1);
        Tensor src = isCrossAttention ? kv : x;
        int nk = src.dim(1);
        long mark = run.scratch().mark();
        Matrix keys = run.matrix(batch * nk, qkChannels);
        Matrix values = run.matrix(batch * nk, vChannels);
        projectKeysAndValues(run, src.matrix(), keys, values);
        // Probabilities are stored head-major per batch element, so their rows cannot be split into chunks.
        int chunk = probs != null ? nq : QUERY_CHUNK;
        for (int b = 0; b < batch; b++) {
            Matrix kb = keys.rows(b * nk, (b + 1) * nk), vb = values.rows(b * nk, (b + 1) * nk);
            Matrix xb = x.select(0, b).matrix(), ob = out.select(0, b).matrix();
            Tensor mb = maskBias == null ? null : maskBias.select(0, b);
            Matrix pb = probs == null ? null : probs.select(0, b).matrix();
            for (int q0 = 0; q0 < nq; q0 += chunk) {
                int q1 = Math.min(nq, q0 + chunk);
                long inner = run.scratch().mark();
                Matrix ctx = attend(run, xb.rows(q0, q1), kb, vb, mb, q0, pb);
                feedForward(run, xb.rows(q0, q1), ctx, ob.rows(q0, q1));
                run.scratch().release(inner);
            }
        }
        run.scratch().release(mark);
    }

    /** keys = key(norm(src)), values = value(norm(src)), a chunk of rows at a time. */
    private void projectKeysAndValues(Run run, Matrix src, Matrix keys, Matrix values) {
        LayerNorm norm = isCrossAttention ? layernorm2 : layernorm1;
        for (int r0 = 0; r0 < src.rows(); r0 += KV_CHUNK) {
            int r1 = Math.min(src.rows(), r0 + KV_CHUNK);
            long mark = run.scratch().mark();
            Matrix normed = norm.apply(run, src.rows(r0, r1));
            key.apply(run, normed, keys.rows(r0, r1));
            value.apply(run, normed, values.rows(r0, r1));
            run.scratch().release(mark);
        }
    }

    /** The heads' attention output [rows, v] for query rows x (rows q0.. of the batch element). */
    private Matrix attend(Run run, Matrix x, Matrix keys, Matrix values, Tensor maskBias, int q0, Matrix probs) {
        Matrix q = query.apply(run, layernorm1.apply(run, x));
        Matrix ctx = run.matrix(x.rows(), vChannels);
        run.countFlops(2L * x.rows() * keys.rows() * (qkChannels + vChannels));
        if (maskBias == null || maskBias.rank() == 1) {
            Matrix mask = maskBias == null ? null : maskBias.reshape(1, keys.rows()).matrix();
            run.backend().attention(q, keys, values, numHeads, mask, ctx, probs, run.scratch());
            return ctx;
        }
        // A mask per query ([B, Nq, Nk]) is rare: attend one query row at a time with its own mask row.
        for (int i = 0; i < x.rows(); i++) {
            Matrix mask = maskBias.select(0, q0 + i).reshape(1, keys.rows()).matrix();
            Matrix rowProbs = null;
            if (probs != null) {
                rowProbs = run.matrix(numHeads, keys.rows());
            }
            run.backend().attention(q.row(i), keys, values, numHeads, mask, ctx.row(i), rowProbs, run.scratch());
            if (probs != null)
                for (int h = 0; h < numHeads; h++) probs.row(h * x.rows() + i).copyFrom(rowProbs.row(h));
        }
        return ctx;
    }

    /** out = A + dense2(act(dense1(layernorm(A)))) with A = dense(ctx) [+ x]. */
    private void feedForward(Run run, Matrix x, Matrix ctx, Matrix out) {
        Matrix a = run.matrix(x.rows(), dense.out());
        dense.apply(run, ctx, a, Activation.NONE, useQueryResidual ? x : null);
        Matrix hidden = run.matrix(x.rows(), dense1.out());
        dense1.apply(run, layernorm.apply(run, a), hidden, activation, null);
        dense2.apply(run, hidden, out, Activation.NONE, a);
    }
}
