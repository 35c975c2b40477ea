package dev.perceiver.runtime;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.PackedMatrix;

import java.lang.foreign.SegmentAllocator;

/** Runs everything on the CPU kernels; Linear weights are packed into panels once, when the model loads. */
public final class CpuBackend extends HostBackend {

    /** Owns pool and closes it with the backend. */
    public CpuBackend(Kernels kernels, ThreadPool pool) {
        super(kernels, pool);
    }

    @Override
    public String name() {
        return "cpu, " + hostDescription();
    }

    record CpuLinear(PackedMatrix weight, Matrix bias) implements PreparedLinear {
        @Override
        public int in() {
            return weight.k();
        }

        @Override
        public int out() {
            return weight.n();
        }
    }

    @Override
    public PreparedLinear prepareLinear(Matrix weight, Matrix bias, SegmentAllocator arena) {
        return new CpuLinear(kernels.packTransposed(weight), bias);
    }

    @Override
    public void linear(Matrix x, PreparedLinear w, Activation act, Matrix residual, Matrix out, Scratch scratch) {
        CpuLinear l = (CpuLinear) w;
        kernels.gemm(pool, x, l.weight(), out, new Epilogue(l.bias(), act, residual));
    }

    @Override
    public void attention(Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out, Matrix probs, Matrix lse,
                          Scratch scratch) {
        kernels.attention(pool, q, k, v, heads, maskBias, out, probs, lse, scratch);
    }
}
