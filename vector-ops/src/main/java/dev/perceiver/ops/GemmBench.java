package dev.perceiver.ops;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Measures a {@link Kernels#gemm} rate the way the engine calls it: a weight packed once, random activations, a fresh
 * output, no epilogue. Warms up first (C2 compiles the kernels), then times runs until the budget is spent.
 * GFLOP/s counts 2·m·n·k per product.
 */
public final class GemmBench {
    private static final int MIN_RUNS = 3, MAX_RUNS = 100;

    private GemmBench() {}

    /** m x k times k x n: median and best over runs filling about budget (at least 3, plus warm-up). */
    public static Throughput measure(Kernels kernels, Parallel p, int m, int n, int k, Duration budget) {
        try (Arena arena = Arena.ofShared()) {
            Matrix a = random(arena, m, k, 1), c = Matrix.of(arena.allocate(Math.max(1L, (long) m * n) * Float.BYTES, 64), 0, m, n);
            PackedMatrix b = kernels.packTransposed(random(arena, n, k, 2), arena);
            long warmUntil = System.nanoTime() + budget.toNanos() / 4;
            int warm = 0;
            while (warm < 2 || (System.nanoTime() < warmUntil && warm < MAX_RUNS)) {
                kernels.gemm(p, a, b, c, Epilogue.NONE);
                warm++;
            }
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

    private static Matrix random(Arena arena, int rows, int cols, long seed) {
        Matrix x = Matrix.of(arena.allocate(Math.max(1L, (long) rows * cols) * Float.BYTES, 64), 0, rows, cols);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < (long) rows * cols; i++) x.segment().setAtIndex(Matrix.FLOAT, i, (float) r.nextDouble(-1, 1));
        return x;
    }
}
