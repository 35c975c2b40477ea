package dev.perceiver.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GemmTest {
    private static final Kernels SCALAR = Kernels.scalar();
    private static final Kernels VECTOR = VectorKernels.INSTANCE;

    /** m, n, k: edges of every blocking (MR 4, NR 16, 32 or 64, KC 128, MB 192), k spanning several KC passes. */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(1, 1, 1), Arguments.of(3, 7, 33), Arguments.of(7, 33, 3), Arguments.of(33, 3, 7),
                Arguments.of(1, 1000, 7), Arguments.of(1000, 3, 33), Arguments.of(13, 50, 600),
                Arguments.of(97, 17, 256), Arguments.of(100, 64, 257), Arguments.of(6, 48, 1), Arguments.of(8, 33, 520),
                Arguments.of(193, 1100, 129));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void scalarMatchesDoubleReference(int m, int n, int k) {
        try (TestMatrices t = new TestMatrices(m * 31L + n * 7L + k)) {
            Matrix a = t.strided(m, k), w = t.random(n, k), bias = t.random(1, n), res = t.random(m, n), c = t.zeros(m, n);
            PackedMatrix b = SCALAR.packTransposed(w);
            SCALAR.gemm(Parallel.SERIAL, a, b, c, new Epilogue(bias, Activation.GELU, res));
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double dot = 0, mag = 0;
                    for (int kk = 0; kk < k; kk++) {
                        dot += (double) a.get(i, kk) * w.get(j, kk);
                        mag += Math.abs((double) a.get(i, kk) * w.get(j, kk));
                    }
                    double pre = dot + bias.get(0, j);
                    double want = pre * 0.5 * Erf.erfc(-pre / Math.sqrt(2)) + res.get(i, j);
                    assertThat((double) c.get(i, j)).as("c[%d][%d]", i, j)
                            .isCloseTo(want, org.assertj.core.data.Offset.offset(1e-5 * (mag + 2)));
                }
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void vectorEqualsScalarBitForBit(int m, int n, int k) {
        try (TestMatrices t = new TestMatrices(m * 17L + n * 5L + k)) {
            Matrix a = t.strided(m, k), bias = t.random(1, n), res = t.strided(m, n);
            PackedMatrix b = VECTOR.packTransposed(t.random(n, k));
            for (Epilogue e : new Epilogue[] {Epilogue.NONE, Epilogue.bias(bias), new Epilogue(bias, Activation.RELU, res)}) {
                Matrix want = t.zeros(m, n), got = t.strided(m, n);
                SCALAR.gemm(Parallel.SERIAL, a, b, want, e);
                VECTOR.gemm(Parallel.SERIAL, a, b, got, e);
                assertThat(got.toArray()).as("%s", e).containsExactly(want.toArray());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void geluEpilogueWithinOneUlpOfScalar(int m, int n, int k) {
        try (TestMatrices t = new TestMatrices(m * 3L + n * 11L + k)) {
            Matrix a = t.random(m, k), bias = t.random(1, n);
            PackedMatrix b = VECTOR.packTransposed(t.random(n, k));
            Epilogue e = Epilogue.bias(bias).withActivation(Activation.GELU);
            Matrix want = t.zeros(m, n), got = t.zeros(m, n);
            SCALAR.gemm(Parallel.SERIAL, a, b, want, e);
            VECTOR.gemm(Parallel.SERIAL, a, b, got, e);
            Ulps.assertWithin(got.toArray(), want.toArray(), 1);
        }
    }

    /**
     * A unit's packed rows of A serve the thread's next unit of the same rows when all of k fits the buffer, and are
     * packed pass by pass otherwise: 192 rows x 3,000 do not fit (KEPT_FLOATS), 100 rows do; both in two column
     * units, one thread and two, equal to the scalar twin.
     */
    @Test
    void rowsOfAKeptOrNotForTheNextColumnsEqualTheScalarTwin() {
        try (TestMatrices t = new TestMatrices(10); ExecutorParallel two = new ExecutorParallel(2)) {
            for (int m : new int[] {192, 100}) {
                int n = 600, k = 3000;
                assertThat((long) VectorGemm.roundUp(m, VectorGemm.MR) * k > VectorGemm.KEPT_FLOATS)
                        .as("%d rows do not fit", m).isEqualTo(m == 192);
                Matrix a = t.random(m, k), bias = t.random(1, n);
                PackedMatrix b = VECTOR.packTransposed(t.random(n, k));
                Matrix want = t.zeros(m, n), one = t.zeros(m, n), both = t.zeros(m, n);
                SCALAR.gemm(Parallel.SERIAL, a, b, want, Epilogue.bias(bias));
                VECTOR.gemm(Parallel.SERIAL, a, b, one, Epilogue.bias(bias));
                VECTOR.gemm(two, a, b, both, Epilogue.bias(bias));
                assertThat(one.toArray()).as("%d rows, one thread", m).containsExactly(want.toArray());
                assertThat(both.toArray()).as("%d rows, two threads", m).containsExactly(want.toArray());
            }
        }
    }

    @Test
    void residualMayBeTheOutput() {
        try (TestMatrices t = new TestMatrices(5)) {
            Matrix a = t.random(40, 300), bias = t.random(1, 70), c = t.random(40, 70), expected = t.copy(c);
            PackedMatrix b = VECTOR.packTransposed(t.random(70, 300));
            SCALAR.gemm(Parallel.SERIAL, a, b, expected, new Epilogue(bias, Activation.RELU, expected));
            VECTOR.gemm(Parallel.SERIAL, a, b, c, new Epilogue(bias, Activation.RELU, c));
            assertThat(c.toArray()).containsExactly(expected.toArray());
        }
    }

    @Test
    void packedFromStoredLayoutEqualsPackedTransposed() {
        try (TestMatrices t = new TestMatrices(6)) {
            Matrix a = t.random(9, 40), w = t.random(37, 40), wt = t.zeros(40, 37);
            for (int i = 0; i < 37; i++)
                for (int j = 0; j < 40; j++) wt.set(j, i, w.get(i, j));
            Matrix c1 = t.zeros(9, 37), c2 = t.zeros(9, 37);
            VECTOR.gemm(Parallel.SERIAL, a, VECTOR.packTransposed(w), c1, Epilogue.NONE);
            VECTOR.gemm(Parallel.SERIAL, a, VECTOR.pack(wt), c2, Epilogue.NONE);
            assertThat(c2.toArray()).containsExactly(c1.toArray());
        }
    }

    @Test
    void packingIntoAnEarlierResultEqualsPackingAnew() {
        try (TestMatrices t = new TestMatrices(7)) {
            Matrix large = t.random(33, 70), small = t.random(7, 33), larger = t.random(40, 70);
            PackedMatrix first = VECTOR.pack(large);
            PackedMatrix reused = VECTOR.pack(small, first);  // fits: the same array, its old values cleared
            assertThat(reused.data()).isSameAs(first.data());
            PackedMatrix fresh = VECTOR.pack(small);
            for (int kk = 0; kk < 7; kk++)
                for (int col = 0; col < fresh.panels() * fresh.panelWidth(); col++)
                    assertThat(reused.get(kk, col)).as("(%d, %d)", kk, col).isEqualTo(fresh.get(kk, col));
            PackedMatrix grown = VECTOR.pack(larger, reused);  // does not fit: a new array
            assertThat(grown.data()).isNotSameAs(first.data());
            assertThat(grown.get(39, 69)).isEqualTo(larger.get(39, 69));
        }
    }

    @Test
    void emptyInnerDimensionGivesTheEpilogueOfZero() {
        try (TestMatrices t = new TestMatrices(7)) {
            Matrix bias = t.random(1, 20), c = t.random(5, 20);
            VECTOR.gemm(Parallel.SERIAL, t.zeros(5, 0), VECTOR.packTransposed(t.zeros(20, 0)), c, Epilogue.bias(bias));
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < 20; j++) assertThat(c.get(i, j)).isEqualTo(bias.get(0, j));
        }
    }

    @Test
    void outputsDoNotDependOnThreadCount() {
        try (TestMatrices t = new TestMatrices(8);
             ExecutorParallel two = new ExecutorParallel(2); ExecutorParallel three = new ExecutorParallel(3)) {
            // several units each; then a band of rows per thread (two threads, and three for 790 rows), and all rows
            // and a share of the columns per thread
            int[][] shapes = {{37, 70, 300}, {200, 33, 520}, {1, 2000, 600}, {5, 1000, 300}, {130, 40, 300},
                    {300, 500, 260}, {790, 200, 130}, {300, 700, 260}};
            for (int[] s : shapes) {
                Matrix a = t.random(s[0], s[2]), bias = t.random(1, s[1]), res = t.random(s[0], s[1]);
                PackedMatrix b = VECTOR.packTransposed(t.random(s[1], s[2]));
                Epilogue e = new Epilogue(bias, Activation.GELU, res);
                Matrix one = t.zeros(s[0], s[1]), c2 = t.zeros(s[0], s[1]), c3 = t.zeros(s[0], s[1]);
                VECTOR.gemm(Parallel.SERIAL, a, b, one, e);
                VECTOR.gemm(two, a, b, c2, e);
                VECTOR.gemm(three, a, b, c3, e);
                assertThat(c2.toArray()).as("2 threads, %dx%dx%d", s[0], s[1], s[2]).containsExactly(one.toArray());
                assertThat(c3.toArray()).as("3 threads, %dx%dx%d", s[0], s[1], s[2]).containsExactly(one.toArray());
            }
            assertThat(VectorGemm.split(300, 500, 260, 2).rowsPerUnit()).as("a band of 300 rows / 2").isEqualTo(152);
            assertThat(VectorGemm.split(300, 700, 260, 2)).as("all 300 rows, the columns shared")
                    .isEqualTo(new VectorGemm.Split(300, 4));
            assertThat(VectorGemm.split(790, 200, 130, 3).rowsPerUnit()).as("a band of 790 rows / 3").isEqualTo(264);
        }
    }

    /**
     * Units fit the thread's buffers (at most MB rows or a thread's band, a whole number of MR-row tiles, at most NB
     * columns, at most UNIT_FLOATS accumulators) for any shape and thread count; one thread alone takes units of up to
     * MAX_BAND_ROWS rows whose A it keeps; two threads get an even share of language-mlm's 256 x 1280 x 1280
     * products (which had been cut into 15 equal units, the last one run by one thread alone; now all rows and half
     * the columns each), and a band of rows each of the vision models' 512 x 1024 x 1024.
     */
    @Test
    void unitsFitTheBuffersAndShareTheWorkEvenly() {
        for (int m : new int[] {1, 7, 33, 256, 512, 784, 1000, 2048, 50176})
            for (int n : new int[] {1, 64, 262, 1000, 1280, 3072})
                for (int threads = 1; threads <= 3; threads++) {
                    int subs = VectorGemm.ceilDiv(n, VectorGemm.NR);
                    VectorGemm.Split s = VectorGemm.split(m, n, 512, threads);
                    assertThat(s.rowsPerUnit()).as("rows per unit, %dx%d on %d threads", m, n, threads)
                            .isBetween(VectorGemm.MR, VectorGemm.MAX_BAND_ROWS).matches(r -> r % VectorGemm.MR == 0);
                    if (s.rowsPerUnit() > VectorGemm.MB && threads > 1)
                        assertThat(VectorGemm.ceilDiv(m, s.rowsPerUnit())).as("bands or all rows, %dx%d", m, n)
                                .isIn(1, threads);
                    if (s.rowsPerUnit() >= m && threads > 1 && m > VectorGemm.MB) {
                        int per = VectorGemm.ceilDiv(subs, s.colUnits()), units = VectorGemm.ceilDiv(subs, per);
                        // taken in turn, the units give no thread more than a unit's columns more than another
                        int[] work = new int[threads];
                        for (int u = 0; u < units; u++) work[u % threads] += Math.min(per, subs - u * per);
                        assertThat(Arrays.stream(work).max().getAsInt() - Arrays.stream(work).min().getAsInt())
                                .as("column shares, %dx%d on %d threads", m, n, threads).isLessThanOrEqualTo(per);
                    }
                    if (threads == 1)
                        assertThat(VectorGemm.ceilDiv(m, s.rowsPerUnit())).as("one thread's row units, %dx%d", m, n)
                                .isEqualTo(VectorGemm.ceilDiv(m, VectorGemm.MAX_BAND_ROWS));
                    int cols = VectorGemm.ceilDiv(subs, s.colUnits()) * VectorGemm.NR;
                    assertThat(cols).as("columns per unit").isLessThanOrEqualTo(VectorGemm.NB);
                    assertThat(cols * s.rowsPerUnit()).as("accumulators per unit, %dx%d on %d threads", m, n, threads)
                            .isLessThanOrEqualTo(VectorGemm.UNIT_FLOATS);
                }
        VectorGemm.Split mlm = VectorGemm.split(256, 1280, 1280, 2);
        assertThat(mlm).as("language-mlm's 256 x 1280 x 1280: all rows, four units of 320 columns")
                .isEqualTo(new VectorGemm.Split(256, 4));
        assertThat(VectorGemm.split(512, 1024, 1024, 2).rowsPerUnit()).as("vision latents' rows per unit").isEqualTo(256);
        assertThat(VectorGemm.split(512, 1024, 1024, 1).rowsPerUnit()).as("one thread, all 512 rows").isEqualTo(512);
        assertThat(VectorGemm.split(512, 1024, 1280, 1).rowsPerUnit()).as("one thread, A of k = 1280 kept")
                .isEqualTo(256);
    }

    @Test
    void rejectsPanelsItCannotRead() {
        try (TestMatrices t = new TestMatrices(9)) {
            PackedMatrix odd = PackedMatrix.packTransposed(t.random(8, 4), 5);
            assertThatThrownBy(() -> VECTOR.gemm(Parallel.SERIAL, t.random(2, 4), odd, t.zeros(2, 8), Epilogue.NONE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("panels of 5");
        }
    }
}
