package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.util.List;
import java.util.Map;

/** A preprocessor of one float input (image, video, audio, one-hot label). */
interface ModalityPreprocessor {

    /** Channels of each output token: the encoder's kv_dim. */
    int numChannels();

    /** input as given by the caller, named for error messages. */
    Preprocessed apply(Run run, Tensor input, String name);

    /**
     * As {@link #apply(Run, Tensor, String)}, with the reference's interpolate_pos_encoding: a preprocessor with a
     * trainable 2-D position table resizes it to the input's grid; the others accept and ignore it, as in the
     * reference.
     */
    default Preprocessed apply(Run run, Tensor input, String name, boolean interpolatePosEncoding) {
        return apply(run, input, name);
    }

    /** Writes a preprocessor's features, [B·N, Cf] channels-last, into the rows it is given. */
    @FunctionalInterface
    interface FeatureWriter {
        void write(Matrix features);
    }

    /**
     * [features ‖ positions] (concat) or features + positions (add) for B inputs of n tokens, with positions [n, Cp]
     * shared by the whole batch: transformers' _build_network_inputs after flattening. The features are written
     * straight into the output, so whatever scratch memory the writer takes is freed before this returns.
     * layoutKey names the grid the positions belong to: concatenated positions are the same on every pass with it,
     * and a Fourier grid's are not even written (the encoder builds them where it needs them, see {@link EncoderInput})
     * unless whole says that the head reads the whole input again.
     */
    static Preprocessed withPositions(Run run, int batch, int n, int cf, PositionEncoding.Positions positions,
                                      boolean concat, boolean whole, String name, Object layoutKey,
                                      FeatureWriter features) {
        int cp = positions.cols();
        if (positions.rows() != n)
            throw new InvalidInputException(name + ": " + n + " tokens but " + positions.rows() + " positions");
        if (!concat && cf != cp)
            throw new InvalidInputException(name + ": cannot add " + cp + "-channel positions to " + cf + "-channel features");
        if (concat && positions.grid() != null && !whole) {
            Tensor out = run.tensor(batch, n, cf);
            long mark = run.scratch().mark();
            features.write(out.reshape(batch * n, cf).matrix());
            run.scratch().release(mark);
            InputLayout layout = new InputLayout(layoutKey,
                    List.of(new InputLayout.Segment(0, n, cf, positions.grid(), new float[0])));
            return new Preprocessed(EncoderInput.ofVarying(batch, cf + cp, layout, List.of(out)), null, Map.of("", out));
        }
        Tensor out = run.tensor(batch, n, concat ? cf + cp : cf);
        // Adding positions overwrites the features in out, so they get a tensor of their own (kept as withoutPos).
        Tensor withoutPos = concat ? out.slice(2, 0, cf) : run.tensor(batch, n, cf);
        long mark = run.scratch().mark();
        features.write(concat ? out.reshape(batch * n, cf + cp).matrix().cols(0, cf) : withoutPos.matrix());
        Matrix table = concat ? null : positions.table(run);
        for (int b = 0; b < batch; b++) {
            Matrix o = out.select(0, b).matrix();
            if (concat) positions.write(o.cols(cf, cf + cp));
            else run.kernels().add(run.parallel(), withoutPos.select(0, b).matrix(), table, o);
        }
        run.scratch().release(mark);
        InputLayout layout = concat ? new InputLayout(layoutKey, List.of(new InputLayout.Segment(0, n, cf,
                positions.grid(), positions.grid() != null ? new float[0] : null))) : null;
        return new Preprocessed(EncoderInput.of(out, layout), null, Map.of("", withoutPos));
    }

    /** Checks x has the given rank, naming the input and the expected layout otherwise. */
    static void requireRank(Tensor x, String name, String layout, int... ranks) {
        for (int r : ranks) if (x.rank() == r) return;
        throw new InvalidInputException(name + " must be " + layout + ", got shape " + java.util.Arrays.toString(x.shape()));
    }
}
