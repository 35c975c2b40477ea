package dev.perceiver.gpu;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.HostBackend;
import dev.perceiver.runtime.Scratch;
import dev.perceiver.runtime.ThreadPool;

import java.lang.foreign.SegmentAllocator;

/**
 * Runs the model's matrix products on a GPU with cuBLAS: Linear weights are uploaded once when the model loads,
 * attention products run as batched GEMMs over heads. Activations travel to the device and back per product, and
 * softmax, norms and epilogues run on the CPU kernels: the simple first step, not yet the fast one.
 */
public final class GpuBackend extends HostBackend {
    /** Attention scores held at once (floats), so long key sets are processed a query chunk at a time. */
    private static final long SCORES_PER_CHUNK = 32L << 20;

    private final GpuContext gpu;
    private final long scoresPerChunk;

    /** Owns gpu and pool and closes them with the backend. */
    public GpuBackend(GpuContext gpu, Kernels kernels, ThreadPool pool) {
        this(gpu, kernels, pool, SCORES_PER_CHUNK);
    }

    GpuBackend(GpuContext gpu, Kernels kernels, ThreadPool pool, long scoresPerChunk) {
        super(kernels, pool);
        this.gpu = gpu;
        this.scoresPerChunk = scoresPerChunk;
    }

    @Override
    public String name() {
        return "gpu (" + gpu.description() + "), host: " + hostDescription();
    }

    record GpuLinear(DeviceBuffer weight, Matrix bias) implements PreparedLinear {
        @Override
        public int in() {
            return weight.cols();
        }

        @Override
        public int out() {
            return weight.rows();
        }
    }

    @Override
    public PreparedLinear prepareLinear(Matrix weight, Matrix bias, SegmentAllocator arena) {
        return new GpuLinear(gpu.upload(weight), bias);
    }

    @Override
    public void linear(Matrix x, PreparedLinear w, Activation act, Matrix residual, Matrix out, Scratch scratch) {
        GpuLinear l = (GpuLinear) w;
        gpu.linear(pool, x, l.weight().matrix(), new Epilogue(l.bias(), act, residual), out);
    }

    @Override
    public void attention(Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out, Matrix probs,
                          Matrix lse, Scratch scratch) {
        int nq = q.rows(), nk = k.rows(), dv = v.cols() / heads;
        float scale = (float) (1.0 / Math.sqrt(q.cols() / heads));
        int chunk = (int) Math.clamp(scoresPerChunk / Math.max(1L, (long) heads * nk), 1, Math.max(1, nq));
        try (DeviceBuffer keys = gpu.upload(k); DeviceBuffer values = gpu.upload(v)) {
            for (int q0 = 0; q0 < nq; q0 += chunk) {
                int q1 = Math.min(nq, q0 + chunk), rows = q1 - q0;
                long mark = scratch.mark();
                Matrix host = Matrix.of(scratch.allocate((long) heads * rows * nk * Float.BYTES, 64), 0, heads * rows, nk);
                try (DeviceBuffer qd = gpu.upload(q.rows(q0, q1)); DeviceBuffer scores = gpu.allocate(heads * rows, nk);
                     DeviceBuffer ctx = gpu.allocate(rows, heads * dv)) {
                    gpu.attentionScores(qd.matrix(), keys.matrix(), heads, scale, scores.matrix());
                    gpu.download(scores.matrix(), host);
                    if (lse != null) logSumExp(host, maskBias, lse, nq, q0, rows);
                    kernels.softmaxRows(pool, host, maskBias);
                    if (probs != null)
                        for (int h = 0; h < heads; h++)
                            probs.rows(h * nq + q0, h * nq + q1).copyFrom(host.rows(h * rows, (h + 1) * rows));
                    gpu.upload(host, scores.matrix());
                    gpu.attentionValues(scores.matrix(), values.matrix(), heads, ctx.matrix());
                    gpu.download(ctx.matrix(), out.rows(q0, q1));
                }
                scratch.release(mark);
            }
        }
    }

    /** lse rows of the chunk's queries from its scaled scores (heads·rows x nk, head-major), before the softmax. */
    private void logSumExp(Matrix scores, Matrix maskBias, Matrix lse, int nq, int q0, int rows) {
        pool.forRange(scores.rows(), 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < scores.cols(); j++)
                    max = Math.max(max, scores.get(r, j) + (maskBias == null ? 0f : maskBias.get(0, j)));
                for (int j = 0; j < scores.cols(); j++)
                    sum += Math.exp(scores.get(r, j) + (maskBias == null ? 0f : maskBias.get(0, j)) - max);
                lse.set(r / rows * nq + q0 + r % rows, 0, (float) (max + Math.log(sum)));
            }
        });
    }

    @Override
    public void close() {
        gpu.close();
        super.close();
    }
}
