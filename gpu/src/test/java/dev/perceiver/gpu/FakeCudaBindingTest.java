package dev.perceiver.gpu;

import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.Parallel;
import dev.perceiver.runtime.DeviceMode;
import dev.perceiver.runtime.GpuOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static dev.perceiver.gpu.ProductChecks.Finish;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Binding tests against a FAKE CUDA runtime and cuBLAS (CPU stand-ins compiled from src/test/resources/fakecuda,
 * see {@link FakeCuda}). They are not GPU tests: they run the whole FFM path (discovery by folder, symbol binding,
 * descriptors, out-parameters, status mapping, buffer lifetimes) and check the row-major trick, leading dimensions
 * and batch strides against a Java reference, on a library that computes cuBLAS's definition naively and rejects
 * what cuBLAS rejects. Numerical behaviour on a real GPU is {@link RealGpuTest}'s job.
 */
@DisplayName("binding tests against a fake CUDA/cuBLAS (not GPU tests)")
class FakeCudaBindingTest {
    private static final double REL = 1e-4;

    private GpuContext gpu;

    @BeforeEach
    void openContext() {
        FakeCuda.reset();
        gpu = detectFake().orElseThrow().open();
    }

    @AfterEach
    void closeContext() {
        gpu.close();
        FakeCuda.reset();
        assertThat(FakeCuda.cublas("fake_live_handles")).as("cuBLAS handles left open").isZero();
        assertThat(FakeCuda.cudart("fake_live_allocations")).as("device buffers left allocated").isZero();
    }

    private static GpuDetection detectFake() {
        return GpuDevice.detect(GpuOptions.onlyIn(FakeCuda.dir()));
    }

    // ---- detection and probe ----

    @Test
    void detectsTheFakeDeviceAndDescribesIt() {
        GpuDetection detection = detectFake();

        assertThat(detection.available()).as(detection.reason()).isTrue();
        assertThat(detection.reason()).isEmpty();
        assertThat(detection.orElseThrow().description()).isEqualTo(
                "Fake CUDA device (CPU) (device 0 of 1, compute capability 8.9), CUDA runtime 12.8, "
                        + FakeCuda.dir().resolve("libcudart.so.12") + " + " + FakeCuda.dir().resolve("libcublas.so.12"));
        assertThat(GpuDevice.select(DeviceMode.GPU, GpuOptions.onlyIn(FakeCuda.dir())).available()).isTrue();
    }

    @Test
    void probeFailuresBecomeOneReasonEach() {
        FakeCuda.setCudart("fake_device_count", 0);
        assertThat(detectFake().reason())
                .isEqualTo("cudaGetDeviceCount failed: CUDA error 100 (no CUDA-capable device is detected)");
        FakeCuda.reset();

        assertThat(GpuDevice.detect(GpuOptions.onlyIn(FakeCuda.dir()).withDevice(1)).reason())
                .isEqualTo("CUDA device 1 was asked for in the GPU options, but cudaGetDeviceCount found 1");

        FakeCuda.setCublas("fake_create_status", 1);
        assertThat(detectFake().reason()).isEqualTo("cublasCreate_v2 failed: CUBLAS_STATUS_NOT_INITIALIZED (1)");
        FakeCuda.reset();

        FakeCuda.setCublas("fake_gemm_corrupt", 1);
        assertThat(detectFake().reason()).startsWith("the SGEMM smoke test on Fake CUDA device (CPU)")
                .endsWith("returned [-1.0, -4.0, -1.0, -4.0] instead of [-2.0, -5.0, -2.0, -5.0]");
    }

    @Test
    void aMissingSymbolIsTheReason() {
        Path dir = FakeCuda.dirWithoutStridedBatched();
        assertThat(GpuDevice.detect(GpuOptions.onlyIn(dir)).reason())
                .isEqualTo(dir.resolve("libcublas.so.12") + " has no symbol cublasSgemmStridedBatched");
    }

    @Test
    void aMissingDependencyIsExplained() {
        Path dir = FakeCuda.dirWithMissingDependency();
        assertThat(GpuDevice.detect(GpuOptions.onlyIn(dir)).reason())
                .startsWith(dir.resolve("libcublas.so.12") + " cannot be loaded: ")
                .contains("libfakedep.so: cannot open shared object file");
    }

    @Test
    void fp32IsExactUnlessTf32IsAskedFor() {
        assertThat(FakeCuda.cublas("fake_math_mode")).as("CUBLAS_DEFAULT_MATH").isZero();
        try (GpuContext tf32 = GpuDevice.detect(GpuOptions.onlyIn(FakeCuda.dir()).withTf32(true)).orElseThrow().open()) {
            assertThat(FakeCuda.cublas("fake_math_mode")).as("CUBLAS_TF32_TENSOR_OP_MATH").isEqualTo(3);
        }
    }

    // ---- products ----

    static Stream<Arguments> linearShapes() {
        List<Arguments> cases = new ArrayList<>();
        int[][] shapes = {{1, 1, 1}, {1, 33, 3}, {3, 7, 33}, {7, 3, 1}, {33, 33, 7}, {7, 1, 33}};
        long seed = 1;
        for (int[] s : shapes)
            for (int pad : new int[] {0, 3})
                for (Finish finish : Finish.values()) cases.add(Arguments.of(s[0], s[1], s[2], pad, finish, seed++));
        return cases.stream();
    }

    @ParameterizedTest(name = "T={0} I={1} O={2} pad={3} {4}")
    @MethodSource("linearShapes")
    void linearMatchesTheReference(int t, int in, int out, int pad, Finish finish, long seed) {
        ProductChecks.checkLinear(gpu, seed, t, in, out, pad, finish, REL);
    }

    static Stream<Arguments> attentionShapes() {
        return Stream.of(
                Arguments.of(1, 1, 1, 1, 1, 0), Arguments.of(3, 7, 1, 33, 7, 2), Arguments.of(7, 3, 3, 1, 3, 0),
                Arguments.of(33, 7, 3, 7, 1, 5), Arguments.of(1, 33, 7, 3, 3, 1), Arguments.of(7, 33, 3, 33, 7, 0));
    }

    @ParameterizedTest(name = "Nq={0} Nk={1} heads={2} d={3} dv={4} pad={5}")
    @MethodSource("attentionShapes")
    void attentionProductsMatchTheReference(int nq, int nk, int heads, int d, int dv, int pad) {
        ProductChecks.checkAttention(gpu, nq * 1000L + nk, nq, nk, heads, d, dv, pad, REL);
    }

    @Test
    void attentionWorksOnStridedDeviceViews() { // q, k, v: column blocks of one fused projection; scores and out: blocks too
        int n = 7, heads = 3, d = 5, width = heads * d;
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer qkv = gpu.upload(ProductChecks.random(arena, new Random(3), n, 3 * width, 2));
             DeviceBuffer scores = gpu.allocate(heads * n, n + 4);
             DeviceBuffer out = gpu.allocate(n, 2 * width)) {
            Matrix host = ProductChecks.padded(arena, n, 3 * width, 0);
            gpu.download(qkv.matrix(), host);
            Matrix q = host.cols(0, width), k = host.cols(width, 2 * width), v = host.cols(2 * width, 3 * width);
            DeviceMatrix dq = qkv.matrix().cols(0, width), dk = qkv.matrix().cols(width, 2 * width);
            DeviceMatrix dv = qkv.matrix().cols(2 * width, 3 * width), dout = out.matrix().cols(width, 2 * width);
            DeviceMatrix ds = scores.matrix().cols(1, n + 1);

            gpu.attentionScores(dq, dk, heads, 0.5f, ds);
            Matrix s = ProductChecks.padded(arena, heads * n, n, 0);
            gpu.download(ds, s);
            ProductChecks.assertClose(s, ProductChecks.scores(q, k, heads, 0.5f), REL, "scores of column blocks");

            gpu.attentionValues(ds, dv, heads, dout);
            Matrix o = ProductChecks.padded(arena, n, width, 0);
            gpu.download(dout, o);
            ProductChecks.assertClose(o, ProductChecks.values(s, v, heads), REL, "values into a column block");
        }
    }

    @Test
    void deviceResidentLinearAndHeapBackedHostMatrices() {
        float[] x = {1, 2, 3, 4, 5, 6}, w = {1, 1, 1, 0, 1, 0, 2, 0, 0, -1, 0, 0}, y = new float[8];
        try (DeviceBuffer dx = gpu.upload(Matrix.of(MemorySegment.ofArray(x), 0, 2, 3));
             DeviceBuffer dw = gpu.upload(Matrix.of(MemorySegment.ofArray(w), 0, 4, 3));
             DeviceBuffer dy = gpu.allocate(2, 4)) {
            gpu.linear(dx.matrix(), dw.matrix(), dy.matrix());
            gpu.download(dy.matrix(), Matrix.of(MemorySegment.ofArray(y), 0, 2, 4));
        }
        assertThat(y).containsExactly(6, 2, 2, -1, 15, 5, 8, -4);
    }

    @Test
    void concurrentCallersShareOneContext() throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> runs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                long seed = 100 + i;
                runs.add(pool.submit(() -> {
                    for (int j = 0; j < 10; j++) ProductChecks.checkLinear(gpu, seed * 31 + j, 7, 33, 3, 1, Finish.BIAS_GELU, REL);
                }));
            }
            for (Future<?> run : runs) run.get();
        }
    }

    // ---- buffers and errors ----

    @Test
    void buffersAreFreedExactlyOnce() {
        DeviceBuffer a = gpu.allocate(3, 7), b = gpu.allocate(1, 1), c = gpu.allocate(33, 1);
        assertThat(FakeCuda.cudart("fake_live_allocations")).isEqualTo(3);

        a.close();
        a.close(); // a second cudaFree of the same pointer would fail in the fake and throw here
        assertThat(a.isOpen()).isFalse();
        assertThat(FakeCuda.cudart("fake_live_allocations")).isEqualTo(2);
        assertThatThrownBy(() -> gpu.download(a.matrix(), ProductChecks.padded(Arena.ofAuto(), 3, 7, 0)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("freed");

        gpu.close(); // frees b and c
        assertThat(FakeCuda.cudart("fake_live_allocations")).isZero();
        assertThat(b.isOpen() || c.isOpen()).isFalse();
        b.close();
        gpu.close();
        assertThatThrownBy(() -> gpu.allocate(1, 1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void buffersBelongToTheirContext() {
        try (GpuContext other = detectFake().orElseThrow().open(); DeviceBuffer foreign = other.allocate(2, 2);
             DeviceBuffer y = gpu.allocate(2, 2)) {
            assertThatThrownBy(() -> gpu.linear(foreign.matrix(), foreign.matrix(), y.matrix()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("another GpuContext");
        }
    }

    @Test
    void cublasStatusesBecomeGpuExceptions() {
        try (Arena arena = Arena.ofConfined(); DeviceBuffer w = gpu.allocate(3, 3); DeviceBuffer s = gpu.allocate(3, 3)) {
            FakeCuda.setCublas("fake_gemm_status", 7);
            assertThatThrownBy(() -> gpu.linear(Parallel.SERIAL, ProductChecks.padded(arena, 3, 3, 0), w.matrix(),
                    Epilogue.NONE, ProductChecks.padded(arena, 3, 3, 0)))
                    .isInstanceOfSatisfying(GpuException.class, e -> {
                        assertThat(e.op()).isEqualTo("cublasSgemm_v2");
                        assertThat(e.code()).isEqualTo(7);
                    })
                    .hasMessage("cublasSgemm_v2 failed: CUBLAS_STATUS_INVALID_VALUE (7)");

            FakeCuda.setCublas("fake_gemm_status", 13);
            assertThatThrownBy(() -> gpu.attentionScores(w.matrix(), w.matrix(), 1, 1f, s.matrix()))
                    .hasMessage("cublasSgemmStridedBatched failed: CUBLAS_STATUS_EXECUTION_FAILED (13)");
        }
        assertThat(CudaApi.cublasStatus(42)).isEqualTo("cuBLAS status 42");
    }

    @Test
    void cudaStatusesBecomeGpuExceptions() {
        FakeCuda.setCudart("fake_malloc_status", 2);
        assertThatThrownBy(() -> gpu.allocate(1024, 1024))
                .isInstanceOfSatisfying(GpuException.class, e -> assertThat(e.op()).isEqualTo("cudaMalloc"))
                .hasMessage("cudaMalloc failed: CUDA error 2 (out of memory)");
    }

    @Test
    void shapesAndReadOnlyTargetsAreCheckedBeforeCuda() {
        int gemmCalls = FakeCuda.cublas("fake_gemm_calls");
        try (Arena arena = Arena.ofConfined(); DeviceBuffer b = gpu.allocate(2, 3)) {
            Matrix readOnly = Matrix.of(arena.allocate(24).asReadOnly(), 0, 2, 3);
            assertThatThrownBy(() -> gpu.download(b.matrix(), readOnly)).hasMessageContaining("read-only");
            assertThatThrownBy(() -> gpu.upload(ProductChecks.padded(arena, 3, 2, 0), b.matrix()))
                    .hasMessage("upload target is 2x3, expected 3x2");
            assertThatThrownBy(() -> gpu.attentionScores(b.matrix(), b.matrix(), 2, 1f, b.matrix()))
                    .hasMessage("attention: 3 query channels do not split into 2 heads");
        }
        assertThat(FakeCuda.cublas("fake_gemm_calls")).as("GEMMs that reached cuBLAS").isEqualTo(gemmCalls);
    }
}
