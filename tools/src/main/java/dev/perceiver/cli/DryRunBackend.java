package dev.perceiver.cli;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.PackedMatrix;
import dev.perceiver.ops.Parallel;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.Scratch;

import java.lang.foreign.SegmentAllocator;

/**
 * A backend that computes nothing: its products and its kernels leave their outputs as they are, so a pass only
 * counts its FLOPs and the scratch memory it takes. Counts the bytes packed weights would take.
 */
final class DryRunBackend implements Backend {
    private final Kernels kernels;
    private final int panelWidth;
    private long packedBytes;

    DryRunBackend(Kernels kernels) {
        this.kernels = new NoCompute(kernels);
        this.panelWidth = kernels.panelWidth();
    }

    record Shape(int in, int out) implements PreparedLinear {}

    @Override
    public String name() {
        return "dry run";
    }

    @Override
    public Kernels kernels() {
        return kernels;
    }

    @Override
    public Parallel parallel() {
        return Parallel.SERIAL;
    }

    @Override
    public PreparedLinear prepareLinear(Matrix weight, Matrix bias, SegmentAllocator arena) {
        int panels = (weight.rows() + panelWidth - 1) / panelWidth;
        packedBytes += (long) panels * panelWidth * weight.cols() * Float.BYTES;
        return new Shape(weight.cols(), weight.rows());
    }

    /** What packing every Linear weight for the CPU kernels would take. */
    long packedBytes() {
        return packedBytes;
    }

    @Override
    public void linear(Matrix x, PreparedLinear w, Activation act, Matrix residual, Matrix out, Scratch scratch) {}

    @Override
    public void attention(Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out, Matrix probs, Matrix lse,
                          Scratch scratch) {}

    @Override
    public void close() {}

    /**
     * The model's direct kernel calls (norms, softmax, the convolution, factored cross-attention) without their
     * arithmetic. Packing still packs: the model keeps what it packs at load. The convolution keeps its im2col copy, a
     * scratch buffer that a real pass takes, and skips its product.
     */
    private record NoCompute(Kernels real) implements Kernels {
        @Override
        public String name() {
            return "dry run of " + real.name();
        }

        @Override
        public int panelWidth() {
            return real.panelWidth();
        }

        @Override
        public void gemm(Parallel p, Matrix a, PackedMatrix b, Matrix c, Epilogue epilogue) {}

        @Override
        public void layerNorm(Parallel p, Matrix x, Matrix gamma, Matrix beta, float eps, Matrix y) {}

        @Override
        public void layerNormStats(Parallel p, Matrix x, float eps, float[] mean, float[] rstd) {}

        @Override
        public void softmaxRows(Parallel p, Matrix x, Matrix maskBias, Matrix lse) {}

        @Override
        public void activation(Parallel p, Matrix x, Activation act) {}

        @Override
        public void add(Parallel p, Matrix a, Matrix b, Matrix out) {}

        @Override
        public void scaleShift(Parallel p, Matrix x, Matrix scale, Matrix shift, Activation act) {}

        @Override
        public void foldLayerNorm(Parallel p, Matrix x, Matrix fixed, float[] rstd, float[] delta, float[] sums,
                                  float[] constant, float scale, boolean tokensInRows) {}

        @Override
        public void gridSums(Parallel p, Matrix probs, float[] weight, int first, int line, Matrix along,
                             Matrix lines) {}

        @Override
        public void attention(Parallel p, Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out,
                              Matrix probs, Matrix lse, SegmentAllocator scratch) {}

        @Override
        public void mergeAttention(Parallel p, Matrix acc, Matrix accLse, Matrix block, Matrix blockLse, int heads) {}

        @Override
        public void maxPool2d(Parallel p, Matrix x, int h, int w, int kernel, int stride, Matrix out) {}
    }
}
