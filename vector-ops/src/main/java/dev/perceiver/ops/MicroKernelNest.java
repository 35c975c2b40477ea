package dev.perceiver.ops;

import java.util.SplittableRandom;

/**
 * The matrix product's loop nest with nothing around it, for profiling where a product loses to its micro-kernel: one
 * KC pass of {@link VectorGemm#microKernel} over slices of B (KC x NR each, as a packed panel's), each slice passed by
 * the same tiles of A, each (slice, tile) accumulating into its own C tile, as a unit's pass does. One slice keeps B,
 * A and C in L1 or L2 and measures the micro-kernel alone; 16 slices are a 1,024-column unit's pass (B slices and C
 * tiles in L2); 128 put 4 MiB of B beyond L2. No packing, no epilogue, one thread.
 */
public final class MicroKernelNest {
    private static final int MR = VectorGemm.MR, NR = VectorGemm.NR, KC = VectorGemm.KC;
    private final float[] a, b, c;
    private final int tiles, slices;
    /** Where B starts in b. */
    private int b0;

    public MicroKernelNest(int tiles, int slices) {
        if (tiles < 1 || slices < 1) throw new IllegalArgumentException("tiles and slices must be positive");
        this.tiles = tiles;
        this.slices = slices;
        a = random(tiles * MR * KC, 1);
        b = random(slices * KC * NR + VectorAlignment.SLACK, 2);
        c = new float[slices * tiles * MR * NR];
    }

    /** One pass over every slice and tile; C accumulates, as every pass after a product's first does. */
    public void run() {
        int aligned = VectorAlignment.alignedIndex(b, 0);
        // A collector moved the array: slide B to where loads are aligned, as a product's B slices are.
        if (aligned != b0) {
            System.arraycopy(b, b0, b, aligned, slices * KC * NR);
            b0 = aligned;
        }
        for (int s = 0; s < slices; s++)
            for (int t = 0; t < tiles; t++)
                VectorGemm.microKernel(a, t * MR * KC, b, b0 + s * KC * NR, KC, c, (s * tiles + t) * MR * NR, true);
    }

    /** Floating-point operations of one {@link #run}. */
    public double flop() {
        return 2.0 * slices * tiles * MR * NR * KC;
    }

    /** C element (row i, column j) of tile t on slice s: for tests. */
    float c(int s, int t, int i, int j) {
        return c[(s * tiles + t) * MR * NR + i * NR + j];
    }

    /** A · B of tile t's row i and slice s's column j, one product of the micro-kernel's sum: for tests. */
    double dot(int s, int t, int i, int j) {
        double sum = 0;
        for (int kk = 0; kk < KC; kk++)
            sum += (double) a[t * MR * KC + kk * MR + i] * b[b0 + s * KC * NR + kk * NR + j];
        return sum;
    }

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextDouble(-1, 1);
        return x;
    }
}
