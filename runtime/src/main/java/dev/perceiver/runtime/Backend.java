package dev.perceiver.runtime;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.Parallel;

import java.lang.foreign.SegmentAllocator;

/**
 * Where the model's matrix products run. Weights are prepared once per model (packed for the CPU kernels, uploaded
 * for a GPU); everything else (norms, softmax, element-wise work) runs on {@link #kernels()} with {@link #parallel()}.
 */
public interface Backend extends AutoCloseable {

    String name();

    Kernels kernels();

    Parallel parallel();

    /** A Linear layer's weight (out x in, as torch stores it) and bias (1 x out, or null), prepared for {@link #linear}. */
    PreparedLinear prepareLinear(Matrix weight, Matrix bias, SegmentAllocator arena);

    /** out = act(x·weightᵀ + bias) + residual; residual (or null) may be out itself. */
    void linear(Matrix x, PreparedLinear w, Activation act, Matrix residual, Matrix out, Scratch scratch);

    /**
     * Multi-head scaled dot-product attention, as {@link Kernels#attention}; lse (heads·nq x 1), if non-null, gets
     * each row's log-sum-exp for {@link Kernels#mergeAttention}.
     */
    void attention(Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out, Matrix probs, Matrix lse,
                   Scratch scratch);

    @Override
    void close();

    /** A prepared Linear layer. */
    interface PreparedLinear {
        int in();

        int out();
    }
}
