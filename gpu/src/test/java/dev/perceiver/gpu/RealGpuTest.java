package dev.perceiver.gpu;

import dev.perceiver.runtime.GpuOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.perceiver.gpu.ProductChecks.Finish;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real-GPU tests: they run only where {@link GpuDevice#detect} with the default options (system search)
 * finds a working CUDA device, and are skipped with its reason elsewhere, as on CI. They compare the cuBLAS products
 * with the Java reference and the CPU kernels at 1e-4 relative, which exact FP32 (no TF32) must meet.
 */
@DisplayName("real-GPU tests (skipped without a CUDA device)")
class RealGpuTest {
    private static final double REL = 1e-4;
    private static GpuContext gpu;

    @BeforeAll
    static void openGpu() {
        GpuDetection detection = GpuDevice.detect(GpuOptions.defaults());
        assumeTrue(detection.available(), () -> "no GPU to test on: " + detection.reason());
        gpu = detection.orElseThrow().open();
    }

    @AfterAll
    static void closeGpu() {
        if (gpu != null) gpu.close();
    }

    @ParameterizedTest(name = "T={0} I={1} O={2} pad={3} {4}")
    @CsvSource({
            "1, 1, 1, 0, NONE", "3, 7, 33, 3, BIAS_GELU", "33, 1, 7, 1, BIAS_RELU_RESIDUAL",
            "7, 33, 3, 0, GELU_RESIDUAL_IN_PLACE", "257, 768, 129, 5, BIAS_GELU", "2048, 256, 1024, 0, BIAS",
            "1, 2048, 2049, 3, BIAS_RELU_RESIDUAL"})
    void linearMatchesTheCpu(int t, int in, int out, int pad, Finish finish) {
        ProductChecks.checkLinear(gpu, t * 31L + in, t, in, out, pad, finish, REL);
    }

    @ParameterizedTest(name = "Nq={0} Nk={1} heads={2} d={3} dv={4} pad={5}")
    @CsvSource({
            "1, 1, 1, 1, 1, 0", "3, 7, 1, 33, 7, 2", "33, 7, 3, 7, 1, 5",
            "256, 2048, 8, 32, 32, 0", "2048, 256, 1, 261, 261, 3", "513, 513, 16, 64, 64, 1"})
    void attentionProductsMatchTheCpu(int nq, int nk, int heads, int d, int dv, int pad) {
        ProductChecks.checkAttention(gpu, nq * 1000L + nk, nq, nk, heads, d, dv, pad, REL);
    }
}
