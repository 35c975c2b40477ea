package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.util.concurrent.atomic.LongAdder;

/**
 * The latents attend once to the input ({@code cross_attention}), then {@code num_blocks} times through the same
 * {@code self_attends} layers (weights shared across blocks). No mask reaches the self-attention layers.
 */
final class PerceiverEncoder {
    final PerceiverLayer crossAttention;
    final PerceiverLayer[] selfAttends;
    final int numBlocks;
    /**
     * The cross-attention's query projection of the latents, which do not depend on the input. Set once the kernels
     * are compiled (see {@link Weights#afterWarmUp}), before the model is returned, as is factored.
     */
    private Matrix latentQueries;
    /** Null when {@link Perceiver.Options#factoredCrossAttention()} is off: the direct computation always runs. */
    private FactoredCrossAttention factored;
    /** Forward passes whose cross-attention ran factored (tests read it to see which path ran). */
    final LongAdder factoredPasses = new LongAdder();

    PerceiverEncoder(Weights w, PerceiverConfig c, int kvDim, Tensor latents, Activation act) {
        if (c.dLatents() % c.numSelfAttentionHeads() != 0 || c.dLatents() % c.numCrossAttentionHeads() != 0)
            throw new IllegalArgumentException("d_latents " + c.dLatents() + " must be divisible by num_self_attention_heads "
                    + c.numSelfAttentionHeads() + " and num_cross_attention_heads " + c.numCrossAttentionHeads());
        this.crossAttention = new PerceiverLayer(w.at("cross_attention"), true, c.qkChannels(), c.vChannels(),
                c.numCrossAttentionHeads(), c.dLatents(), kvDim, c.crossAttentionWideningFactor(), c.useQueryResidual(),
                c.crossAttentionShapeForAttention(), act);
        this.selfAttends = new PerceiverLayer[c.numSelfAttendsPerBlock()];
        for (int i = 0; i < selfAttends.length; i++)
            selfAttends[i] = new PerceiverLayer(w.at("self_attends", i), false, c.qkChannels(), c.vChannels(),
                    c.numSelfAttentionHeads(), c.dLatents(), c.dLatents(), c.selfAttentionWideningFactor(), true,
                    c.crossAttentionShapeForAttention(), act);
        this.numBlocks = c.numBlocks();
        w.afterWarmUp(() -> {
            latentQueries = crossAttention.projectConstantQueries(Run.atLoad(w), latents.matrix());
            factored = w.options().factoredCrossAttention()
                    ? new FactoredCrossAttention(crossAttention, latentQueries, w.arena()) : null;
        });
    }

    /** Whether the cross-attention runs factored where an input layout lets it. */
    boolean factors() {
        return factored != null;
    }

    long factoredPassesWeighingInputs() {
        return factored == null ? 0 : factored.weighedPasses.sum();
    }

    int factoredTableBuilds() {
        return factored == null ? 0 : factored.tableBuilds();
    }

    /**
     * Builds the factored cross-attention's tables of inputs' layout now and runs it once (see
     * {@link FactoredCrossAttention#prepare}), if a pass of it would run factored.
     */
    void prepare(Run run, EncoderInput inputs) {
        if (runsFactored(inputs, null)) factored.prepare(run, inputs);
    }

    /**
     * The one choice of the cross-attention's form: factored where the input layout is known, its fixed channels pay
     * and the mask (if any) is one per token.
     */
    private boolean runsFactored(EncoderInput inputs, Tensor maskBias) {
        return factored != null && inputs.layout() != null && (maskBias == null || maskBias.rank() == 2)
                && factored.worthIt(inputs.layout(), inputs.tokens());
    }

    /**
     * latents [B, N, d_latents], inputs [B, M, kv_dim], maskBias [B, M] (or [B, N, M], or null) → [B, N, d_latents].
     */
    Tensor forward(Run run, Tensor latents, EncoderInput inputs, Tensor maskBias) {
        int batch = latents.dim(0), n = latents.dim(1), d = latents.dim(2);
        Tensor z = run.stage("encoder_cross_attention", () -> {
            Tensor out = run.tensor(batch, n, d);
            Tensor probs = run.outputAttentions
                    ? run.result(batch, crossAttention.numHeads, n, inputs.tokens()) : null;
            if (runsFactored(inputs, maskBias)) {
                crossAttendFactored(run, latents, inputs, maskBias, out, probs);
                factoredPasses.increment();
            } else {
                crossAttention.forward(run, latents, inputs.tensor(run), maskBias, out, probs, latentQueries);
            }
            if (probs != null) run.crossAttentions.add(probs);
            return out;
        });
        return run.stage("latent_blocks", () -> {
            Tensor state = z;
            Tensor spare = run.tensor(batch, n, d);
            for (int block = 0; block < numBlocks; block++) {
                long t0 = run.beginSpan();
                for (PerceiverLayer layer : selfAttends) {
                    if (run.outputHiddenStates) run.hiddenStates.add(run.keep(state));
                    Tensor probs = run.outputAttentions ? run.result(batch, layer.numHeads, n, n) : null;
                    layer.forward(run, state, null, null, spare, probs, null);
                    if (probs != null) run.attentions.add(probs);
                    Tensor t = state;
                    state = spare;
                    spare = t;
                }
                if (run.outputHiddenStates) run.hiddenStates.add(run.keep(state));
                run.endSpan(TraceEvent.BLOCK, "latent block " + block, t0);
            }
            return state;
        });
    }

    private void crossAttendFactored(Run run, Tensor latents, EncoderInput inputs, Tensor maskBias, Tensor out,
                                     Tensor probs) {
        PerceiverLayer l = crossAttention;
        int batch = latents.dim(0), n = latents.dim(1), m = inputs.tokens(), kv = inputs.channels();
        // The reference's work: query, key and value projections and both attention products.
        run.countFlops(2L * batch * (n * (long) l.qDim * l.qkChannels + m * (long) kv * (l.qkChannels + l.vChannels)
                + n * (long) m * (l.qkChannels + l.vChannels)));
        long t0 = run.beginSpan();
        for (int b = 0; b < batch; b++) {
            long mark = run.scratch().mark();
            Matrix ctx = run.matrix(n, l.vChannels);
            Matrix mask = maskBias == null ? null : maskBias.select(0, b).reshape(1, m).matrix();
            factored.attend(run, inputs, b, mask, ctx,
                    probs == null ? null : probs.select(0, b).matrix());
            l.feedForward(run, latents.select(0, b).matrix(), ctx, out.select(0, b).matrix());
            run.scratch().release(mark);
        }
        run.endSpan(TraceEvent.LAYER, l.name + " (factored)", t0);
    }
}
