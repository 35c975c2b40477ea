package dev.perceiver.gpu;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.GpuOptions;
import dev.perceiver.runtime.Scratch;
import dev.perceiver.runtime.ThreadPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The GPU backend, against the fake CUDA libraries (binding tests, not GPU tests): its Linear layers and its
 * chunked attention (host softmax, probabilities head-major) give what the CPU backend gives.
 */
class GpuBackendTest {
    private GpuBackend gpu;
    private CpuBackend cpu;
    private Arena arena;
    private Scratch scratch;

    @BeforeEach
    void open() {
        FakeCuda.reset();
        // Chunks of at most 50 scores, so every shape below is split into several query chunks.
        gpu = new GpuBackend(GpuDevice.detect(GpuOptions.onlyIn(FakeCuda.dir())).orElseThrow().open(), Kernels.scalar(),
                new ThreadPool(2), 50);
        cpu = new CpuBackend(Kernels.scalar(), new ThreadPool(1));
        arena = Arena.ofShared();
        scratch = new Scratch();
    }

    @AfterEach
    void close() {
        gpu.close();
        cpu.close();
        scratch.close();
        arena.close();
        assertThat(FakeCuda.cudart("fake_live_allocations")).as("device buffers left allocated").isZero();
    }

    private Matrix random(Random rnd, int rows, int cols) {
        Matrix m = Matrix.of(arena.allocate((long) rows * cols * Float.BYTES, 64), 0, rows, cols);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) m.set(r, c, (float) rnd.nextGaussian());
        return m;
    }

    @ParameterizedTest(name = "{0}x{1} -> {2}")
    @CsvSource({"1, 7, 3", "7, 33, 9", "33, 16, 40"})
    void linearLayersMatchTheCpu(int rows, int in, int out) {
        Random rnd = new Random(rows * 31 + in);
        Matrix x = random(rnd, rows, in), w = random(rnd, out, in), b = random(rnd, 1, out), res = random(rnd, rows, out);
        Backend.PreparedLinear g = gpu.prepareLinear(w, b, arena), c = cpu.prepareLinear(w, b, arena);
        Matrix got = random(rnd, rows, out), want = random(rnd, rows, out);
        gpu.linear(x, g, Activation.GELU, res, got, scratch);
        cpu.linear(x, c, Activation.GELU, res, want, scratch);
        assertClose(got, want);
    }

    @ParameterizedTest(name = "nq {0}, nk {1}, heads {2}")
    @CsvSource({"1, 1, 1", "7, 13, 1", "9, 5, 3", "33, 7, 2"})
    void chunkedAttentionWithMaskAndProbabilitiesMatchesTheCpu(int nq, int nk, int heads) {
        Random rnd = new Random(nq * 7 + nk);
        int dqk = 4, dv = 3;
        Matrix q = random(rnd, nq, heads * dqk), k = random(rnd, nk, heads * dqk), v = random(rnd, nk, heads * dv);
        Matrix mask = random(rnd, 1, nk);
        for (int j = 0; j < nk; j += 2) mask.set(0, j, -3.4028235e38f);
        Matrix got = random(rnd, nq, heads * dv), want = random(rnd, nq, heads * dv);
        Matrix gotProbs = random(rnd, heads * nq, nk), wantProbs = random(rnd, heads * nq, nk);
        Matrix gotLse = random(rnd, heads * nq, 1), wantLse = random(rnd, heads * nq, 1);
        gpu.attention(q, k, v, heads, mask, got, gotProbs, gotLse, scratch);
        cpu.attention(q, k, v, heads, mask, want, wantProbs, wantLse, scratch);
        assertClose(got, want);
        assertClose(gotProbs, wantProbs);
        assertClose(gotLse, wantLse);
    }

    private static void assertClose(Matrix got, Matrix want) {
        float[] g = got.toArray(), w = want.toArray();
        double max = 0;
        for (float f : w) max = Math.max(max, Math.abs(f));
        for (int i = 0; i < g.length; i++)
            assertThat((double) g[i]).as("element %d", i).isCloseTo(w[i], org.assertj.core.data.Offset.offset(1e-5 * Math.max(1, max)));
    }
}
