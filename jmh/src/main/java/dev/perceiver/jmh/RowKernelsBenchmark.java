package dev.perceiver.jmh;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Matrix;
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
 * The row kernels on "ROWSxCOLS" activations: 512x1024 (vision latents) and 50176x261 (Fourier image inputs).
 * {@code gelem} is billions of elements per second; {@code gflop} counts nominal flops per element:
 * layerNorm 8 (two reductions, normalize, scale, shift), softmax 6 (mask, max, subtract, exp, sum, scale),
 * GELU 1 (as one activation; its real cost is ~25 double operations).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RowKernelsBenchmark extends KernelBenchmark {
    @Param({"512x1024", "50176x261"})
    public String shape;

    private Matrix x, y, gamma, beta, mask, fresh;
    private double gelemPerOp;

    @Setup
    public void setUp() {
        int[] d = BenchData.dims(shape);
        open();
        x = BenchData.random(arena, d[0], d[1], 1);
        fresh = BenchData.random(arena, d[0], d[1], 1);
        y = BenchData.random(arena, d[0], d[1], 2);
        gamma = BenchData.random(arena, 1, d[1], 3);
        beta = BenchData.random(arena, 1, d[1], 4);
        mask = BenchData.random(arena, 1, d[1], 5);
        gelemPerOp = (double) d[0] * d[1] / 1e9;
    }

    @Benchmark
    public void layerNorm(ElementRate rate) {
        k.layerNorm(pool, x, gamma, beta, 1e-5f, y);
        rate.gelem += gelemPerOp;
        rate.gflop += 8 * gelemPerOp;
    }

    /** Softmax of a copy of the same scores each time (the copy is part of the measured work). */
    @Benchmark
    public void softmax(ElementRate rate) {
        y.copyFrom(fresh);
        k.softmaxRows(pool, y, mask);
        rate.gelem += gelemPerOp;
        rate.gflop += 6 * gelemPerOp;
    }

    /** GELU in place on y, refreshed from the same inputs each time (the copy is part of the measured work). */
    @Benchmark
    public void gelu(ElementRate rate) {
        y.copyFrom(fresh);
        k.activation(pool, y, Activation.GELU);
        rate.gelem += gelemPerOp;
        rate.gflop += gelemPerOp;
    }
}
