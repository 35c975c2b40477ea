package dev.perceiver.runtime;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.Parallel;

import java.lang.foreign.SegmentAllocator;

/**
 * Where the model's Linear layers and standard attention run: nearly all of a pass's FLOPs. Weights are prepared once
 * per model (packed for the CPU kernels, uploaded for a GPU). The interface is deliberately narrower than the model:
 * everything else runs on the host's {@link #kernels()} with {@link #parallel()}, on every backend, a GPU's too:
 * norms, softmax, element-wise work, the merge of attention blocks, the conv classifier's 7x7 convolution and pooling,
 * and the factored cross-attention (its tables live in host memory and its products are small and irregular).
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
