package dev.perceiver.jmh;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.PackedMatrix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;


/**
 * c = a·w^T with w packed once, as a Linear layer runs; shape "MxNxK". The {@code gflop} counter is GFLOP/s
 * (2·M·N·K per product). Shapes: the 1024³ yardstick, the Linear shapes the speed issue holds to the FMA peak
 * (512x3072x1024 through 2048x1280x256, as {@code ../shared/tools/blas_gemm.c} runs them), the cross-attention
 * projections (50176x512x261), the classification query (1x1000x1024, 8x1024x1024) and the flow decoder's queries
 * (182528x322x322).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GemmBenchmark extends KernelBenchmark {
    @Param({"1024x1024x1024", "512x3072x1024", "512x1024x1024", "2048x512x512", "2048x1536x512", "3136x1024x322",
            "50176x1024x512", "2048x1280x256", "50176x512x261", "1x1000x1024", "8x1024x1024", "182528x322x322"})
    public String shape;
    /** Weight matrices taken in turn: enough of them that each comes from memory, not cache, as a model's layers do. */
    @Param({"1"})
    public int weights;

    /** What the product does to its outputs, as a Linear layer's: none, bias, gelu (bias, GELU) or residual (bias, + c). */
    @Param({"none"})
    public String epilogue;

    private Matrix a, c;
    private Epilogue e;
    private PackedMatrix[] w;
    private int next;
    private double gflopPerOp;

    @Setup
    public void setUp() {
        int[] d = BenchData.dims(shape);
        open();
        a = BenchData.random(arena, d[0], d[2], 1);
        w = new PackedMatrix[weights];
        for (int i = 0; i < weights; i++) w[i] = k.packTransposed(BenchData.random(arena, d[1], d[2], 2 + i));
        c = BenchData.random(arena, d[0], d[1], 3);
        Matrix bias = BenchData.random(arena, 1, d[1], 4);
        e = switch (epilogue) {
            case "none" -> Epilogue.NONE;
            case "bias" -> Epilogue.bias(bias);
            case "gelu" -> Epilogue.bias(bias).withActivation(Activation.GELU);
            case "residual" -> Epilogue.bias(bias).withResidual(c);
            default -> throw new IllegalArgumentException("epilogue: none, bias, gelu or residual, not " + epilogue);
        };
        gflopPerOp = 2.0 * d[0] * d[1] * d[2] / 1e9;
    }

    @Benchmark
    public void gemm(Rate rate) {
        k.gemm(pool, a, w[next], c, e);
        next = (next + 1) % weights;
        rate.gflop += gflopPerOp;
    }
}
