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
    private final float[] a, b, c;
    private final int kc, tiles, slices;

    public MicroKernelNest(int tiles, int slices) {
        if (tiles < 1 || slices < 1) throw new IllegalArgumentException("tiles and slices must be positive");
        kc = VectorGemm.KC;
        this.tiles = tiles;
        this.slices = slices;
        a = random(tiles * VectorGemm.MR * kc, 1);
        b = random(slices * kc * VectorGemm.NR, 2);
        c = new float[slices * tiles * VectorGemm.MR * VectorGemm.NR];
    }

    /** One pass over every slice and tile; C accumulates, as every pass after a product's first does. */
    public void run() {
        int mr = VectorGemm.MR, nr = VectorGemm.NR;
        for (int s = 0; s < slices; s++)
            for (int t = 0; t < tiles; t++)
                VectorGemm.microKernel(a, t * mr * kc, b, s * kc * nr, kc, c, (s * tiles + t) * mr * nr, true);
    }

    /** Floating-point operations of one {@link #run}. */
    public double flop() {
        return 2.0 * slices * tiles * VectorGemm.MR * VectorGemm.NR * kc;
    }

    /** C element (row i, column j) of tile t on slice s: for tests. */
    float c(int s, int t, int i, int j) {
        return c[(s * tiles + t) * VectorGemm.MR * VectorGemm.NR + i * VectorGemm.NR + j];
    }

    /** A · B of tile t's row i and slice s's column j, one product of the micro-kernel's sum: for tests. */
    double dot(int s, int t, int i, int j) {
        double sum = 0;
        for (int kk = 0; kk < kc; kk++)
            sum += (double) a[t * VectorGemm.MR * kc + kk * VectorGemm.MR + i] * b[s * kc * VectorGemm.NR + kk * VectorGemm.NR + j];
        return sum;
    }

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextDouble(-1, 1);
        return x;
    }
}
