package dev.perceiver.jmh;

import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.VectorKernels;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Shared helpers: kernels by name and random native matrices. */
final class BenchData {
    private BenchData() {}

    /** "vector" or "scalar". */
    static Kernels kernels(String name) {
        return switch (name) {
            case "vector" -> VectorKernels.INSTANCE;
            case "scalar" -> Kernels.scalar();
            default -> throw new IllegalArgumentException("kernels: vector or scalar, not " + name);
        };
    }

    static Matrix random(Arena arena, int rows, int cols, long seed) {
        Matrix m = Matrix.of(arena.allocate(Math.max(1L, (long) rows * cols) * Float.BYTES, 64), 0, rows, cols);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < (long) rows * cols; i++)
            m.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) r.nextDouble(-1, 1));
        return m;
    }

    /** Parses "AxBxC..." into its numbers. */
    static int[] dims(String shape) {
        String[] parts = shape.split("x");
        int[] d = new int[parts.length];
        for (int i = 0; i < parts.length; i++) d[i] = Integer.parseInt(parts[i]);
        return d;
    }
}
