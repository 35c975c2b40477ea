package dev.perceiver.gpu;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Erf;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.Parallel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Runs the GPU products on random inputs and compares them with a plain Java reference (double accumulation) and
 * with the CPU kernels. Host matrices are strided views inside segments padded with a sentinel, which must survive:
 * that checks every pitch and leading dimension. Shared by the fake-library binding tests and the real-GPU tests.
 */
final class ProductChecks {
    private static final float SENTINEL = -7777f;

    private ProductChecks() {}

    /** How the Linear's output is finished. */
    enum Finish {
        NONE, BIAS, BIAS_GELU, BIAS_RELU_RESIDUAL, GELU_RESIDUAL_IN_PLACE
    }

    static void checkLinear(GpuContext gpu, long seed, int t, int in, int out, int pad, Finish finish, double rel) {
        Random rnd = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            Matrix x = random(arena, rnd, t, in, pad), w = random(arena, rnd, out, in, pad);
            Matrix y = finish == Finish.GELU_RESIDUAL_IN_PLACE ? random(arena, rnd, t, out, pad) : padded(arena, t, out, pad);
            Matrix bias = random(arena, rnd, 1, out, pad);
            Epilogue epilogue = switch (finish) {
                case NONE -> Epilogue.NONE;
                case BIAS -> Epilogue.bias(bias);
                case BIAS_GELU -> Epilogue.bias(bias).withActivation(Activation.GELU);
                case BIAS_RELU_RESIDUAL -> Epilogue.bias(bias).withActivation(Activation.RELU)
                        .withResidual(random(arena, rnd, t, out, pad));
                case GELU_RESIDUAL_IN_PLACE -> new Epilogue(null, Activation.GELU, y);
            };
            float[] expected = linear(x, w, epilogue);
            float[] cpu = cpuLinear(arena, x, w, epilogue);

            try (DeviceBuffer weight = gpu.upload(w)) {
                gpu.linear(Parallel.SERIAL, x, weight.matrix(), epilogue, y);
            }
            String what = "linear T=" + t + " I=" + in + " O=" + out + " pad=" + pad + " " + finish;
            assertClose(y, expected, rel, what + " vs reference");
            assertClose(y, cpu, rel, what + " vs CPU kernels");
            assertOnlyViewWritten(y, what);
        }
    }

    /** Scores, a softmax on the host, then values; against the reference and the CPU attention kernel. */
    static void checkAttention(GpuContext gpu, long seed, int nq, int nk, int heads, int d, int dv, int pad, double rel) {
        Random rnd = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            Matrix q = random(arena, rnd, nq, heads * d, pad), k = random(arena, rnd, nk, heads * d, pad);
            Matrix v = random(arena, rnd, nk, heads * dv, pad);
            Matrix scores = padded(arena, heads * nq, nk, pad), out = padded(arena, nq, heads * dv, pad);
            float scale = (float) (1 / Math.sqrt(d));
            String what = "attention Nq=" + nq + " Nk=" + nk + " H=" + heads + " d=" + d + " dv=" + dv + " pad=" + pad;

            try (DeviceBuffer dq = gpu.upload(q); DeviceBuffer dk = gpu.upload(k); DeviceBuffer dvs = gpu.upload(v);
                 DeviceBuffer ds = gpu.allocate(heads * nq, nk); DeviceBuffer dout = gpu.allocate(nq, heads * dv)) {
                gpu.attentionScores(dq.matrix(), dk.matrix(), heads, scale, ds.matrix());
                gpu.download(ds.matrix(), scores);
                assertClose(scores, scores(q, k, heads, scale), rel, what + " scores");

                Kernels.scalar().softmaxRows(Parallel.SERIAL, scores, null);
                gpu.upload(scores, ds.matrix());
                gpu.attentionValues(ds.matrix(), dvs.matrix(), heads, dout.matrix());
                gpu.download(dout.matrix(), out);
            }
            assertClose(out, values(scores, v, heads), rel, what + " values");
            assertOnlyViewWritten(scores, what + " scores");
            assertOnlyViewWritten(out, what + " values");

            Matrix cpuOut = padded(arena, nq, heads * dv, 0), cpuProbs = padded(arena, heads * nq, nk, 0);
            Kernels.scalar().attention(Parallel.SERIAL, q, k, v, heads, null, cpuOut, cpuProbs, arena);
            assertClose(scores, cpuProbs.toArray(), rel, what + " probabilities vs CPU attention");
            assertClose(out, cpuOut.toArray(), rel, what + " output vs CPU attention");
        }
    }

    // ---- host matrices ----

    /** A rows x cols view, row stride cols + pad, starting pad floats into a segment otherwise full of SENTINEL. */
    static Matrix padded(Arena arena, int rows, int cols, int pad) {
        int stride = cols + pad;
        long floats = pad + (long) rows * stride + pad;
        MemorySegment segment = arena.allocate(Math.max(1, floats) * Float.BYTES, 64);
        for (long i = 0; i < floats; i++) segment.setAtIndex(JAVA_FLOAT, i, SENTINEL);
        return new Matrix(segment, pad, rows, cols, stride);
    }

    static Matrix random(Arena arena, Random rnd, int rows, int cols, int pad) {
        Matrix m = padded(arena, rows, cols, pad);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) m.set(r, c, rnd.nextFloat() * 2 - 1);
        return m;
    }

    static void assertOnlyViewWritten(Matrix m, String what) {
        long floats = m.segment().byteSize() / Float.BYTES;
        for (long i = 0; i < floats; i++) {
            long rel = i - m.offset();
            boolean inside = rel >= 0 && rel / m.stride() < m.rows() && rel % m.stride() < m.cols();
            if (!inside && m.segment().getAtIndex(JAVA_FLOAT, i) != SENTINEL)
                fail(what + ": float " + i + " outside the " + m + " view was overwritten");
        }
    }

    /** Within rel of expected, measured against max(1, |expected|) so that results near zero are compared absolutely. */
    static void assertClose(Matrix actual, float[] expected, double rel, String what) {
        assertThat(actual.size()).as(what + " size").isEqualTo(expected.length);
        for (int r = 0; r < actual.rows(); r++)
            for (int c = 0; c < actual.cols(); c++) {
                float e = expected[r * actual.cols() + c], a = actual.get(r, c);
                if (!(Math.abs(a - e) <= rel * Math.max(1, Math.abs(e))))
                    fail(what + ": (" + r + ", " + c + ") is " + a + ", expected " + e + " within " + rel + " relative");
            }
    }

    // ---- plain Java references ----

    static float[] linear(Matrix x, Matrix w, Epilogue e) {
        float[] y = new float[x.rows() * w.rows()];
        for (int t = 0; t < x.rows(); t++)
            for (int o = 0; o < w.rows(); o++) {
                double acc = 0;
                for (int i = 0; i < x.cols(); i++) acc += (double) x.get(t, i) * w.get(o, i);
                float v = (float) acc;
                if (e.bias() != null) v += e.bias().get(0, o);
                v = switch (e.activation()) {
                    case NONE -> v;
                    case GELU -> Erf.gelu(v);
                    case RELU -> Math.max(0, v);
                };
                if (e.residual() != null) v += e.residual().get(t, o);
                y[t * w.rows() + o] = v;
            }
        return y;
    }

    /** The CPU path the engine takes without a GPU; the residual is copied, as y may be it. */
    private static float[] cpuLinear(Arena arena, Matrix x, Matrix w, Epilogue e) {
        Matrix y = padded(arena, x.rows(), w.rows(), 0);
        if (e.residual() != null) {
            Matrix residual = padded(arena, x.rows(), w.rows(), 0);
            residual.copyFrom(e.residual());
            e = e.withResidual(residual);
        }
        Kernels cpu = Kernels.scalar();
        cpu.gemm(Parallel.SERIAL, x, cpu.packTransposed(w), y, e);
        return y.toArray();
    }

    /** (H·Nq) x Nk, head-major: scale · q_h·k_hᵀ. */
    static float[] scores(Matrix q, Matrix k, int heads, float scale) {
        int nq = q.rows(), nk = k.rows(), d = q.cols() / heads;
        float[] s = new float[heads * nq * nk];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < nq; i++)
                for (int j = 0; j < nk; j++) {
                    double acc = 0;
                    for (int c = h * d; c < (h + 1) * d; c++) acc += (double) q.get(i, c) * k.get(j, c);
                    s[(h * nq + i) * nk + j] = (float) (scale * acc);
                }
        return s;
    }

    /** Nq x (H·dv): row i, head h is probs_h[i]·v_h. */
    static float[] values(Matrix probs, Matrix v, int heads) {
        int nk = v.rows(), nq = probs.rows() / heads, dv = v.cols() / heads;
        float[] out = new float[nq * heads * dv];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < nq; i++)
                for (int c = 0; c < dv; c++) {
                    double acc = 0;
                    for (int j = 0; j < nk; j++) acc += (double) probs.get(h * nq + i, j) * v.get(j, h * dv + c);
                    out[i * heads * dv + h * dv + c] = (float) acc;
                }
        return out;
    }
}
