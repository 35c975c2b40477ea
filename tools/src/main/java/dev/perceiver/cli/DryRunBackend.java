package dev.perceiver.cli;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.Parallel;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.Scratch;

import java.lang.foreign.SegmentAllocator;

/**
 * A backend that skips the matrix products (outputs are left as they are) but lets everything else run, so a pass
 * reports its FLOPs and scratch memory in a fraction of the time. Counts the bytes packed weights would take.
 */
final class DryRunBackend implements Backend {
    private final Kernels kernels;
    private final int panelWidth;
    private long packedBytes;

    DryRunBackend(Kernels kernels) {
        this.kernels = kernels;
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
}
