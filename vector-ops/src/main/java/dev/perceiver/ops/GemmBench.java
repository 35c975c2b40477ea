package dev.perceiver.ops;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Measures a {@link Kernels#gemm} rate the way the engine calls it: a weight packed once, random activations, a fresh
 * output, no epilogue. Warms up first, then times runs until the budget is spent. GFLOP/s counts 2·m·n·k per product.
 * <p>
 * Warm-up lasts until the rate is steady, not a fixed time: C1 cannot compile the micro-kernel (too many virtual
 * registers), so it runs in the interpreter, about 100 times slower, until C2 takes it, one to three seconds in.
 */
public final class GemmBench {
    private static final int MIN_RUNS = 3, MAX_RUNS = 100;
    /** Warm-up runs in a row within STEADY of the best rate so far that count as warmed up. */
    private static final int STEADY_RUNS = 5;
    private static final double STEADY = 0.8;
    private static final long MAX_WARMUP_NANOS = 20_000_000_000L;

    private GemmBench() {}

    /** m x k times k x n: median and best over runs filling about budget (at least 3, plus warm-up). */
    public static Throughput measure(Kernels kernels, Parallel p, int m, int n, int k, Duration budget) {
        try (Arena arena = Arena.ofShared()) {
            Matrix a = random(arena, m, k, 1), c = Matrix.of(arena.allocate(Math.max(1L, (long) m * n) * Float.BYTES, 64), 0, m, n);
            PackedMatrix b = kernels.packTransposed(random(arena, n, k, 2));
            warmUp(kernels, p, a, b, c, budget.toNanos() / 4);
            long deadline = System.nanoTime() + budget.toNanos() * 3 / 4;
            double[] seconds = new double[MAX_RUNS];
            int runs = 0;
            while (runs < MIN_RUNS || (runs < MAX_RUNS && System.nanoTime() < deadline)) {
                long t0 = System.nanoTime();
                kernels.gemm(p, a, b, c, Epilogue.NONE);
                seconds[runs++] = (System.nanoTime() - t0) / 1e9;
            }
            return Throughput.of(2.0 * m * n * k, Arrays.copyOf(seconds, runs));
        }
    }

    /** Runs the product until STEADY_RUNS runs in a row came within STEADY of the best rate, and minNanos passed. */
    private static void warmUp(Kernels kernels, Parallel p, Matrix a, PackedMatrix b, Matrix c, long minNanos) {
        long start = System.nanoTime();
        double best = Double.MAX_VALUE;
        int steady = 0;
        while (System.nanoTime() - start < MAX_WARMUP_NANOS && (steady < STEADY_RUNS || System.nanoTime() - start < minNanos)) {
            long t0 = System.nanoTime();
            kernels.gemm(p, a, b, c, Epilogue.NONE);
            double dt = System.nanoTime() - t0;
            best = Math.min(best, dt);
            steady = best >= STEADY * dt ? steady + 1 : 0;
        }
    }

    private static Matrix random(Arena arena, int rows, int cols, long seed) {
        Matrix x = Matrix.of(arena.allocate(Math.max(1L, (long) rows * cols) * Float.BYTES, 64), 0, rows, cols);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < (long) rows * cols; i++) x.segment().setAtIndex(Matrix.FLOAT, i, (float) r.nextDouble(-1, 1));
        return x;
    }
}
