package dev.perceiver.ops;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Native test matrices from one shared arena (kernels may touch them from several threads). */
final class TestMatrices implements AutoCloseable {
    final Arena arena = Arena.ofShared();
    private final Random random;

    TestMatrices(long seed) {
        random = new Random(seed);
    }

    Matrix zeros(int rows, int cols) {
        MemorySegment seg = arena.allocate(Math.max(1, (long) rows * cols) * Float.BYTES, 64);
        return Matrix.of(seg, 0, rows, cols);
    }

    /** Uniform in [-1, 1). */
    Matrix random(int rows, int cols) {
        Matrix m = zeros(rows, cols);
        fillRandom(m, 1f);
        return m;
    }

    /** A rows x cols view into a wider random matrix: stride > cols and a nonzero offset, neighbours random too. */
    Matrix strided(int rows, int cols) {
        return random(rows, cols + 5).cols(3, 3 + cols);
    }

    void fillRandom(Matrix m, float scale) {
        for (int r = 0; r < m.rows(); r++)
            for (int c = 0; c < m.cols(); c++) m.set(r, c, (random.nextFloat() * 2 - 1) * scale);
    }

    Matrix copy(Matrix m) {
        Matrix c = zeros(m.rows(), m.cols());
        c.copyFrom(m);
        return c;
    }

    @Override
    public void close() {
        arena.close();
    }
}
