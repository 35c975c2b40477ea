package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.util.Arrays;
import java.util.Map;

/**
 * transformers' PerceiverBasicDecoder: queries from a position encoding ({@code output_position_encodings}) of the
 * output points, which attend to the latents ({@code decoding_cross_attention}, never masked), then
 * {@code final_layer}. With position_encoding_only it only builds queries (the multimodal decoder's modalities).
 */
final class BasicDecoder {

    /** The reference constructor's arguments that the heads set. */
    record Spec(int outputNumChannels, int[] outputIndexDims, int numChannels, Integer qkChannels, Integer vChannels,
                int numHeads, int wideningFactor, boolean useQueryResidual, boolean concatPreprocessedInput,
                boolean finalProject, boolean positionEncodingOnly, int trainableChannels,
                FourierPositionEncoding fourier, boolean noPositionEncoding) {

        static Spec of(int outputNumChannels, int[] outputIndexDims, int numChannels) {
            return new Spec(outputNumChannels, outputIndexDims, numChannels, null, null, 1, 1, false, false, true,
                    false, 0, null, false);
        }

        Spec attention(Integer qk, Integer v, int heads, boolean queryResidual) {
            return new Spec(outputNumChannels, outputIndexDims, numChannels, qk, v, heads, wideningFactor,
                    queryResidual, concatPreprocessedInput, finalProject, positionEncodingOnly, trainableChannels,
                    fourier, noPositionEncoding);
        }

        Spec finalProject(boolean project) {
            return new Spec(outputNumChannels, outputIndexDims, numChannels, qkChannels, vChannels, numHeads,
                    wideningFactor, useQueryResidual, concatPreprocessedInput, project, positionEncodingOnly,
                    trainableChannels, fourier, noPositionEncoding);
        }

        Spec queriesOnly() {
            return new Spec(outputNumChannels, outputIndexDims, numChannels, qkChannels, vChannels, numHeads,
                    wideningFactor, useQueryResidual, concatPreprocessedInput, finalProject, true, trainableChannels,
                    fourier, noPositionEncoding);
        }

        Spec trainable(int channels) {
            return new Spec(outputNumChannels, outputIndexDims, numChannels, qkChannels, vChannels, numHeads,
                    wideningFactor, useQueryResidual, concatPreprocessedInput, finalProject, positionEncodingOnly,
                    channels, null, false);
        }

        Spec fourier(FourierPositionEncoding f) {
            return new Spec(outputNumChannels, outputIndexDims, numChannels, qkChannels, vChannels, numHeads,
                    wideningFactor, useQueryResidual, concatPreprocessedInput, finalProject, positionEncodingOnly, 0,
                    f, false);
        }

        Spec withoutPositionEncoding() {
            return new Spec(outputNumChannels, outputIndexDims, numChannels, qkChannels, vChannels, numHeads,
                    wideningFactor, useQueryResidual, concatPreprocessedInput, finalProject, positionEncodingOnly, 0,
                    null, true);
        }
    }

    final Spec spec;
    final PositionEncoding outputPositionEncodings;
    final PerceiverLayer decodingCrossAttention;
    final Linear finalLayer;
    /** Query projection of the trainable query table (input-independent), when that table is the whole query. */
    /** Set once the kernels are compiled (see {@link Weights#afterWarmUp}), before the model is returned. */
    private Matrix tableQueries;

    BasicDecoder(Weights w, PerceiverConfig config, Spec spec, Activation act) {
        this.spec = spec;
        int outputPoints = spec.outputIndexDims() == null ? 0
                : Math.toIntExact(Arrays.stream(spec.outputIndexDims()).asLongStream().reduce(1, Math::multiplyExact));
        if (spec.noPositionEncoding()) outputPositionEncodings = null;
        else if (spec.fourier() != null) outputPositionEncodings = PositionEncoding.fourier(spec.fourier(), null);
        else outputPositionEncodings = PositionEncoding.trainable(w.at("output_position_encodings"), outputPoints,
                    spec.trainableChannels(), null);
        if (spec.positionEncodingOnly()) {
            decodingCrossAttention = null;
            finalLayer = null;
        } else {
            decodingCrossAttention = new PerceiverLayer(w.at("decoding_cross_attention"), true, spec.qkChannels(),
                    spec.vChannels(), spec.numHeads(), spec.numChannels(), config.dLatents(), spec.wideningFactor(),
                    spec.useQueryResidual(), config.crossAttentionShapeForAttention(), act);
            finalLayer = spec.finalProject()
                    ? w.linear("final_layer", spec.numChannels(), spec.outputNumChannels()) : null;
        }
        if (decodingCrossAttention != null && outputPositionEncodings != null && outputPositionEncodings.isTrainable()
                && !spec.concatPreprocessedInput()) {
            w.afterWarmUp(() -> {
                Run load = Run.atLoad(w);
                tableQueries = decodingCrossAttention.projectConstantQueries(load,
                        outputPositionEncodings.forGrid(load, spec.outputIndexDims(), "decoder query").projected());
            });
        }
    }

    /** PerceiverClassificationDecoder: one trainable query, query residual on, logits [B, num_labels]. */
    static BasicDecoder classification(Weights w, PerceiverConfig c, Activation act) {
        return new BasicDecoder(w, c, Spec.of(c.numLabels(), new int[] {1}, c.dLatents())
                .attention(null, null, 1, true).trainable(c.dLatents()), act);
    }

    /** A classification decoder's logits [B, num_labels] from the latents z, in result memory. */
    Map<String, Tensor> classify(Run run, Tensor z) {
        int batch = z.dim(0);
        return run.stage("decoder", () -> {
            Tensor out = forward(run, query(run, batch, null, null), z);
            return Map.of("", run.keep(out.reshape(batch, out.dim(2))));
        });
    }

    int numQueryChannels() {
        if (outputPositionEncodings == null)
            throw new IllegalStateException("a decoder without position encoding builds no queries");
        if (spec.positionEncodingOnly()) return outputPositionEncodings.outputSize();
        return spec.finalProject() ? spec.outputNumChannels() : spec.numChannels();
    }

    int outputChannels() {
        return finalLayer != null ? finalLayer.out() : spec.numChannels();
    }

    /**
     * Queries [B, Nq, C] for points (flat indices into output_index_dims; null means all of them). A trainable
     * encoding always returns its whole table, as the reference does. withoutPos is prepended when the decoder
     * concatenates the preprocessed input.
     */
    Tensor query(Run run, int batch, long[] points, Tensor withoutPos) {
        Matrix pos;
        if (outputPositionEncodings.isTrainable()) {
            pos = outputPositionEncodings.forGrid(run, spec.outputIndexDims(), "decoder query").projected();
        } else {
            long[] all = points != null ? points : allPoints(spec.outputIndexDims());
            pos = outputPositionEncodings.at(run, spec.outputIndexDims(), all);
        }
        int pre = 0;
        if (spec.concatPreprocessedInput()) {
            if (withoutPos == null || withoutPos.dim(1) != pos.rows())
                throw new InvalidInputException("this decoder concatenates the preprocessed input to its " + pos.rows()
                        + " queries and needs as many input tokens");
            pre = withoutPos.dim(2);
        }
        Tensor q = run.tensor(batch, pos.rows(), pre + pos.cols());
        for (int b = 0; b < batch; b++) {
            Matrix qb = q.select(0, b).matrix();
            if (pre > 0) qb.cols(0, pre).copyFrom(withoutPos.select(0, b).matrix());
            qb.cols(pre, pre + pos.cols()).copyFrom(pos);
        }
        return q;
    }

    static long[] allPoints(int[] dims) {
        long n = Arrays.stream(dims).asLongStream().reduce(1, Math::multiplyExact);
        long[] all = new long[Math.toIntExact(n)];
        for (int i = 0; i < all.length; i++) all[i] = i;
        return all;
    }

    /**
     * query [B, Nq, num_channels], as {@link #query} built it, attends to z [B, N, d_latents] → [B, Nq, output
     * channels].
     */
    Tensor forward(Run run, Tensor query, Tensor z) {
        int batch = query.dim(0), nq = query.dim(1);
        if (query.dim(2) != spec.numChannels())
            throw new InvalidInputException("decoder queries have " + query.dim(2) + " channels, the decoder takes "
                    + spec.numChannels());
        Tensor probs = run.outputAttentions
                ? run.result(batch, decodingCrossAttention.numHeads, nq, z.dim(1)) : null;
        if (finalLayer == null) {
            Tensor attended = run.tensor(batch, nq, spec.numChannels());
            decodingCrossAttention.forward(run, query, z, null, attended, probs, tableQueries);
            if (probs != null) run.crossAttentions.add(probs);
            return attended;
        }
        // final_layer takes each chunk of attended queries as it is done: no [B, Nq, num_channels] tensor.
        Tensor out = run.tensor(batch, nq, finalLayer.out());
        Matrix logits = out.matrix();
        decodingCrossAttention.forward(run, query, z, null, null, probs, tableQueries,
                (r, first, rows) -> finalLayer.apply(r, rows, logits.rows(first, first + rows.rows())));
        if (probs != null) run.crossAttentions.add(probs);
        return out;
    }
}
