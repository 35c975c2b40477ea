package dev.perceiver.model;

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
     * [features ‖ positions] (concat) or features + positions (add), for features [B, N, Cf] and positions [N, Cp]
     * shared by the whole batch: transformers' _build_network_inputs after flattening. layoutKey names the grid the
     * positions belong to: concatenated positions are the same on every pass with that key.
     */
    static Preprocessed withPositions(Run run, Tensor features, Matrix positions, boolean concat, String name,
                                      Object layoutKey) {
        int batch = features.dim(0), n = features.dim(1), cf = features.dim(2), cp = positions.cols();
        if (positions.rows() != n)
            throw new InvalidInputException(name + ": " + n + " tokens but " + positions.rows() + " positions");
        if (!concat && cf != cp)
            throw new InvalidInputException(name + ": cannot add " + cp + "-channel positions to " + cf + "-channel features");
        Tensor out = run.tensor(batch, n, concat ? cf + cp : cf);
        for (int b = 0; b < batch; b++) {
            Matrix f = features.select(0, b).matrix(), o = out.select(0, b).matrix();
            if (concat) {
                o.cols(0, cf).copyFrom(f);
                o.cols(cf, cf + cp).copyFrom(positions);
            } else {
                run.kernels().add(run.parallel(), f, positions, o);
            }
        }
        InputLayout layout = concat ? new InputLayout(layoutKey, List.of(new InputLayout.Segment(0, n, cf))) : null;
        return new Preprocessed(out, null, Map.of("", features), layout);
    }

    /** Checks x has the given rank, naming the input and the expected layout otherwise. */
    static void requireRank(Tensor x, String name, String layout, int... ranks) {
        for (int r : ranks) if (x.rank() == r) return;
        throw new InvalidInputException(name + " must be " + layout + ", got shape " + java.util.Arrays.toString(x.shape()));
    }
}
