package dev.perceiver.ops;

import java.lang.foreign.Arena;

/**
 * Runs every vector kernel on small shapes until C2 has compiled them, once per JVM, before a model's first pass.
 * Until then a kernel runs interpreted or in C1 code, where a Vector API operation allocates instead of being one
 * instruction: the first large product of a fresh JVM spent seconds that way before the micro-kernel had been called
 * often enough to reach C2. Small shapes reach the compile thresholds in a fraction of that time; the kernels' loops
 * get the same code whatever the trip counts seen here.
 */
final class WarmUp {
    /**
     * A round of the tiny shapes below takes 4-20 µs once C2 has compiled the kernels, and 0.2-1 ms while any of them
     * still runs interpreted or in C1 code (where Vector API operations allocate): the median of the last WINDOW rounds
     * under this bound means compiled, on any machine.
     */
    private static final long COMPILED_ROUND_NANOS = 100_000;
    private static final int WINDOW = 64;
    /**
     * At least this many rounds: a method reaches C2 after about 600 calls whose loops ran 15,000 back edges in all
     * (HotSpot's tiered thresholds, raised while the compile queue is long, as it is during a load), and each round
     * calls every kernel once with most loops running a few times: at 2,000 rounds GELU was still in C1 code when the
     * load ended.
     */
    private static final int MIN_ROUNDS = 10_000;
    /**
     * Never longer than this. On a loaded 2-core machine C2 took 8 s to reach the kernels (its queue full of the
     * JDK's own startup methods); the time is spent either way, here or in the first pass, where it costs more.
     */
    private static final long BUDGET_NANOS = 10_000_000_000L;

    /**
     * Runs a loop as two ranges through one call site that every kernel's loop body passes, as the engine's thread
     * pool does. With Parallel.SERIAL, C2 inlined each body into its kernel's caller and compiled it nowhere else: the
     * first pass on the pool then called the bodies (the product's units, attention, layer norm) on their own, in C1
     * code, and ran its latent blocks at half speed.
     */
    private static final Parallel SPLIT = new Parallel() {
        @Override
        public void forRange(int n, int grain, RangeBody body) {
            int mid = n >= 2 * grain ? n / 2 : n;
            if (mid > 0) body.run(0, mid);
            if (mid < n) body.run(mid, n);
        }

        @Override
        public int threads() {
            return 2;
        }
    };

    private WarmUp() {}

    /** Warms the kernels up; returns the rounds run. */
    static int run(Kernels k) {
        try (Arena arena = Arena.ofConfined()) {
            Shapes s = new Shapes(arena, k.panelWidth());
            long start = System.nanoTime();
            long[] recent = new long[WINDOW];
            int rounds = 0;
            while (System.nanoTime() - start < BUDGET_NANOS) {
                long t0 = System.nanoTime();
                s.round(k, rounds);
                recent[rounds++ % WINDOW] = System.nanoTime() - t0;
                if (rounds >= MIN_ROUNDS && rounds % WINDOW == 0 && median(recent) < COMPILED_ROUND_NANOS) break;
            }
            return rounds;
        }
    }

    private static long median(long[] v) {
        long[] sorted = v.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /**
     * The smallest operands that still take every branch and run every loop more than once (a loop C2 has never
     * seen repeat is compiled to trap when it does): a Linear layer with each epilogue, attention with and without
     * probabilities and mask, the row kernels. Interpreted, a Vector API operation costs microseconds.
     */
    private static final class Shapes {
        /**
         * Values for the element-wise functions (GELU, ReLU, e^x) to loop over many times a round. Called on a few
         * values only, GELU had reached C1 but not C2 when a 2,000-round warm-up passed the round-time test (its C1
         * code costs little on a few values), and vision-conv's first 512 x 1024 x 1024 product with GELU then took
         * 1.4 s instead of 5 ms; its loop's back edges count towards C2 as calls do.
         */
        private static final int ELEMENTWISE = 512;
        /**
         * Width of the two-head attention's heads: past a 512-bit vector's 16 lanes and ragged, so that the attention's
         * transposes run both their whole blocks and the rest (manyQueries' heads of 3 only the rest).
         */
        private static final int HEAD = 17;
        final Matrix x, y, gridOut, small, bias, out, q, keys, values, att, probs, lse, gamma, beta, row, mask, wide,
                deep, deepOut, tall, manyQueries, manyOut, along, lines;
        /** deep's product runs over more than one KC slice (accumulating into the tiles), which only real shapes did. */
        final PackedMatrix w, narrow, deepW, wide3;
        /** The last packing of y: packed per pass (the factored cross-attention's values), so warmed up too. */
        PackedMatrix packed;
        final float[] a, b, c, fold;

        Shapes(Arena arena, int nr) {
            int mr = VectorGemm.MR, kc = 6;
            x = random(arena, mr + 1, kc, 1);  // two row tiles, the second padded
            w = PackedMatrix.packTransposed(random(arena, nr + 2, kc, 2), nr);  // two column sub-panels
            y = random(arena, mr + 1, nr + 2, 0);
            // x · wide3 runs as 2 x 2 units (two row tiles, three sub-panels): units after one of other rows, which
            // pack A again, where x · w's second unit reuses the rows its first packed; with only the latter, the test
            // of the kept rows trapped in the first real product of several row units.
            wide3 = PackedMatrix.packTransposed(random(arena, 2 * nr + 2, kc, 20), nr);
            gridOut = random(arena, mr + 1, 2 * nr + 2, 0);
            small = random(arena, 2, kc, 12);  // the epilogues, on one narrow tile: GELU is the costliest to interpret
            narrow = PackedMatrix.packTransposed(random(arena, 3, kc, 13), nr);
            bias = random(arena, 1, 3, 3);
            out = random(arena, 2, 3, 4);
            q = random(arena, 3, 2 * HEAD, 5);
            keys = random(arena, 2 * mr + 1, 2 * HEAD, 6);
            values = random(arena, 2 * mr + 1, 2 * HEAD, 7);
            att = random(arena, 3, 2 * HEAD, 0);
            probs = random(arena, 2 * 3, 2 * mr + 1, 0);
            lse = random(arena, 2 * 3, 1, 0);
            gamma = random(arena, 1, 2 * VectorMath.F.length() + 1, 8);
            beta = random(arena, 1, 2 * VectorMath.F.length() + 1, 9);
            row = random(arena, 2, 2 * VectorMath.F.length() + 1, 10);
            mask = random(arena, 1, 2 * mr + 1, 11);
            // one head's queries in two units, which share one copy of the keys and values
            manyQueries = random(arena, VectorAttention.MIN_QUERIES + 1, 3, 18);
            manyOut = random(arena, VectorAttention.MIN_QUERIES + 1, 3, 0);
            wide = random(arena, 1, ELEMENTWISE, 14);
            deep = random(arena, 1, VectorGemm.KC + 1, 15);
            deepW = PackedMatrix.packTransposed(random(arena, 1, VectorGemm.KC + 1, 16), nr);
            deepOut = random(arena, 1, 1, 0);
            a = new float[mr * 3];
            b = new float[3 * nr];
            c = new float[mr * nr];
            fold = gamma.toArray();  // long enough for a token or column value of row or tall, either way
            // foldLayerNorm loops over rows: on two rows its C1 code had not reached C2 when vision-learned's first
            // pass folded 50,176 tokens with it.
            tall = random(arena, fold.length - 1, fold.length, 17);
            // row's tokens on lines of a vector and one: whole vectors and the rest, lines cut at either end or not
            along = random(arena, row.rows(), VectorMath.F.length() + 1, 0);
            lines = random(arena, row.rows(), 3, 0);
        }

        void round(Kernels k, int i) {
            Parallel p = SPLIT;
            VectorGemm.microKernel(a, 0, b, 0, 3, c, 0, (i & 1) == 1);
            k.gemm(p, x, w, y, Epilogue.NONE);
            k.gemm(p, x, wide3, gridOut, Epilogue.NONE);
            k.gemm(p, deep, deepW, deepOut, Epilogue.NONE);
            if (i % 2 == 0) k.gemm(p, small, narrow, out, new Epilogue(bias, Activation.GELU, null));
            else k.gemm(p, small, narrow, out, new Epilogue(null, Activation.RELU, out));
            if (i % 2 == 0) k.attention(p, q, keys, values, 2, mask, att, null, null, null);
            else k.attention(p, q, keys, values, 2, null, att, probs, lse, null);
            k.attention(p, manyQueries, keys.cols(0, 3), values.cols(0, 3), 1, i % 2 == 0 ? mask : null, manyOut,
                    null, null, null);
            k.layerNorm(p, row, gamma, beta, 1e-5f, row);
            k.softmaxRows(p, row, i % 2 == 0 ? null : gamma);
            k.add(p, row, row, row);
            k.scaleShift(p, row, gamma, beta, i % 2 == 0 ? Activation.NONE : Activation.GELU);
            k.activation(p, row, Activation.RELU);
            k.activation(p, wide, Activation.GELU);
            k.activation(p, wide, Activation.RELU);
            k.softmaxRows(p, wide, null);  // e^x over the row; its sum of 1 keeps the values in range round after round
            k.foldLayerNorm(p, tall, i % 4 < 2 ? tall : null, fold, fold, fold, fold, 2f, i % 2 == 0);
            int first = i % 3, line = along.cols();
            k.gridSums(p, row, fold, first, line, along,
                    lines.cols(0, Kernels.gridLines(first, row.cols(), line)));
            packed = k.pack(y, packed);
        }

        private static Matrix random(Arena arena, int rows, int cols, long seed) {
            Matrix m = Matrix.of(arena.allocate((long) rows * cols * Float.BYTES, 64), 0, rows, cols);
            float[] values = new float[cols];
            java.util.Random r = new java.util.Random(seed);
            for (int i = 0; i < rows; i++) {
                for (int c = 0; c < cols; c++) values[c] = seed == 0 ? 0f : r.nextFloat() * 2 - 1;
                m.setRow(i, values, 0);
            }
            return m;
        }
    }
}
