package dev.perceiver.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The row kernels against their scalar twins on odd shapes, strided views and aliased outputs. */
class RowKernelsTest {
    private static final Kernels SCALAR = Kernels.scalar();
    private static final Kernels VECTOR = VectorKernels.INSTANCE;

    static Stream<Arguments> shapes() {
        return Stream.of(Arguments.of(1, 1), Arguments.of(3, 7), Arguments.of(7, 33), Arguments.of(33, 3),
                Arguments.of(2, 1000), Arguments.of(5, 17), Arguments.of(64, 16));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void layerNormInPlaceWithinTwoUlps(int rows, int cols) {
        try (TestMatrices t = new TestMatrices(rows * 100L + cols)) {
            Matrix x = t.strided(rows, cols), gamma = t.random(1, cols), beta = t.random(1, cols);
            for (int c = 0; c < cols; c++) x.set(0, c, x.get(0, c) * 100 + 30);  // a row far from zero mean
            Matrix want = t.zeros(rows, cols);
            SCALAR.layerNorm(Parallel.SERIAL, x, gamma, beta, 1e-5f, want);
            VECTOR.layerNorm(Parallel.SERIAL, x, gamma, beta, 1e-5f, x);
            assertNear(x, want, 2, 1e-6f);
        }
    }

    /** The statistics are the ones layerNorm normalises with, bit for bit: with gamma 1, beta 0 it gives (x - mean)·rstd. */
    @ParameterizedTest
    @MethodSource("shapes")
    void layerNormStatsAreLayerNormsOwn(int rows, int cols) {
        for (Kernels k : new Kernels[] {SCALAR, VECTOR})
            try (TestMatrices t = new TestMatrices(rows * 100L + cols)) {
                Matrix x = t.strided(rows, cols), ones = t.zeros(1, cols), y = t.zeros(rows, cols);
                for (int c = 0; c < cols; c++) x.set(0, c, x.get(0, c) * 100 + 30);
                ones.fill(1f);
                float[] mean = new float[rows], rstd = new float[rows];
                k.layerNormStats(Parallel.SERIAL, x, 1e-5f, mean, rstd);
                k.layerNorm(Parallel.SERIAL, x, ones, t.zeros(1, cols), 1e-5f, y);
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                        assertThat(y.get(r, c)).as("%s (%d, %d)", k.name(), r, c)
                                .isEqualTo((x.get(r, c) - mean[r]) * rstd[r] + 0f);
            }
    }

    /** Probabilities within two ulps of the scalar twin; both give each row's log Σ e^x (mask added) to 1e-5. */
    @ParameterizedTest
    @MethodSource("shapes")
    void softmaxWithinTwoUlps(int rows, int cols) {
        try (TestMatrices t = new TestMatrices(rows * 10L + cols)) {
            Matrix mask = t.zeros(1, cols);
            for (int c = 0; c < cols; c += 2) mask.set(0, c, -3.4028235e38f);
            for (Matrix m : new Matrix[] {null, mask}) {
                Matrix x = t.strided(rows, cols);
                t.fillRandom(x, 20f);
                Matrix input = t.copy(x), want = t.copy(x), wantLse = t.zeros(rows, 1), lse = t.zeros(rows, 1);
                SCALAR.softmaxRows(Parallel.SERIAL, want, m, wantLse);
                VECTOR.softmaxRows(Parallel.SERIAL, x, m, lse);
                assertNear(x, want, 2, 1e-30f);
                for (int r = 0; r < rows; r++) {
                    double sum = 0;
                    for (int c = 0; c < cols; c++) sum += Math.exp((double) input.get(r, c) + (m == null ? 0 : m.get(0, c)));
                    double tolerance = 1e-5 * Math.max(1, Math.abs(Math.log(sum)));
                    assertThat((double) wantLse.get(r, 0)).isCloseTo(Math.log(sum), within(tolerance));
                    assertThat((double) lse.get(r, 0)).isCloseTo(Math.log(sum), within(tolerance));
                }
            }
        }
    }

    @Test
    void fullyMaskedSoftmaxRowIsUniform() {
        try (TestMatrices t = new TestMatrices(2)) {
            Matrix x = t.random(3, 37), mask = t.zeros(1, 37);
            mask.fill(-3.4028235e38f);
            VECTOR.softmaxRows(Parallel.SERIAL, x, mask);
            assertThat(x.toArray()).containsOnly(1f / 37);
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void activationsOnStridedRows(int rows, int cols) {
        try (TestMatrices t = new TestMatrices(rows + cols * 3L)) {
            for (Activation act : Activation.values()) {
                Matrix x = t.strided(rows, cols);
                t.fillRandom(x, 6f);
                Matrix want = t.copy(x);
                SCALAR.activation(Parallel.SERIAL, want, act);
                float left = x.segment().getAtIndex(Matrix.FLOAT, x.offset() - 1);
                VECTOR.activation(Parallel.SERIAL, x, act);
                assertNear(x, want, act == Activation.GELU ? 1 : 0, 0f);
                assertThat(x.segment().getAtIndex(Matrix.FLOAT, x.offset() - 1)).as("untouched neighbour").isEqualTo(left);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void addIsExactAndMayWriteAnOperand(int rows, int cols) {
        try (TestMatrices t = new TestMatrices(rows * 7L + cols)) {
            Matrix a = t.strided(rows, cols), b = t.random(rows, cols), want = t.zeros(rows, cols);
            SCALAR.add(Parallel.SERIAL, a, b, want);
            VECTOR.add(Parallel.SERIAL, a, b, a);
            assertThat(a.toArray()).containsExactly(want.toArray());
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void scaleShift(int rows, int cols) {
        try (TestMatrices t = new TestMatrices(rows * 5L + cols)) {
            for (Activation act : Activation.values()) {
                Matrix x = t.strided(rows, cols), scale = t.random(1, cols), shift = t.random(1, cols);
                Matrix want = t.copy(x);
                SCALAR.scaleShift(Parallel.SERIAL, want, scale, shift, act);
                VECTOR.scaleShift(Parallel.SERIAL, x, scale, shift, act);
                assertNear(x, want, act == Activation.GELU ? 1 : 0, 0f);
            }
        }
    }

    /**
     * The vector kernel does the scalar twin's operations in its order: the same floats, tokens in rows or columns,
     * with a fixed part or without (null: as if it were zeros).
     */
    @ParameterizedTest
    @MethodSource("shapes")
    void foldLayerNorm(int rows, int cols) {
        try (TestMatrices t = new TestMatrices(rows * 7L + cols)) {
            for (boolean tokensInRows : new boolean[] {true, false})
                for (boolean withFixed : new boolean[] {true, false}) {
                    int tokens = tokensInRows ? rows : cols, others = tokensInRows ? cols : rows;
                    Matrix x = t.strided(rows, cols), fixed = withFixed ? t.strided(rows, cols) : t.zeros(rows, cols);
                    float[] rstd = t.random(1, tokens).toArray(), delta = t.random(1, tokens).toArray();
                    float[] sums = t.random(1, others).toArray(), constant = t.random(1, others).toArray();
                    Matrix before = t.copy(x), want = t.copy(x);
                    SCALAR.foldLayerNorm(Parallel.SERIAL, want, fixed, rstd, delta, sums, constant, 8f, tokensInRows);
                    VECTOR.foldLayerNorm(Parallel.SERIAL, x, withFixed ? fixed : null, rstd, delta, sums, constant, 8f,
                            tokensInRows);
                    assertThat(x.toArray()).containsExactly(want.toArray());
                    // The formula, in double, at the last element (past the last whole vector on odd shapes).
                    int r = rows - 1, c = cols - 1, tk = tokensInRows ? r : c, o = tokensInRows ? c : r;
                    double one = ((double) rstd[tk] * ((double) before.get(r, c) + fixed.get(r, c)
                            + (double) delta[tk] * sums[o]) + constant[o]) / 8;
                    assertThat((double) want.get(r, c)).isCloseTo(one, within(1e-5 * (1 + Math.abs(one))));
                }
        }
    }

    /**
     * Grid sums against the scalar twin and against the sums taken token by token in double, on lines shorter and
     * longer than a vector, ragged, and tokens that start and end in the middle of a line; on three threads alike.
     */
    @ParameterizedTest
    @MethodSource("shapes")
    void gridSums(int rows, int cols) {
        try (TestMatrices t = new TestMatrices(rows * 13L + cols); ExecutorParallel three = new ExecutorParallel(3)) {
            Matrix probs = t.strided(rows, cols);
            float[] weight = t.random(1, cols + 3).toArray();
            for (int line : new int[] {1, 7, 16, 33}) {
                for (int first : new int[] {0, 5, 40}) {
                    int touched = Kernels.gridLines(first, cols, line);
                    Matrix along = t.zeros(rows, line), lines = t.zeros(rows, touched);
                    Matrix wantAlong = t.zeros(rows, line), wantLines = t.zeros(rows, touched);
                    SCALAR.gridSums(Parallel.SERIAL, probs, weight, first, line, wantAlong, wantLines);
                    VECTOR.gridSums(three, probs, weight, first, line, along, lines);
                    double[][] along2 = new double[rows][line], lines2 = new double[rows][touched];
                    for (int r = 0; r < rows; r++)
                        for (int i = 0; i < cols; i++) {
                            double w = (double) probs.get(r, i) * weight[i];
                            along2[r][(first + i) % line] += w;
                            lines2[r][(first + i) / line - first / line] += w;
                        }
                    for (int r = 0; r < rows; r++) {
                        for (int j = 0; j < line; j++) {
                            assertThat((double) along.get(r, j)).as("along %d %d line %d first %d", r, j, line, first)
                                    .isCloseTo(along2[r][j], within(1e-5 * (1 + Math.abs(along2[r][j]))));
                            assertThat(wantAlong.get(r, j)).isCloseTo(along.get(r, j), within(1e-5f));
                        }
                        for (int l = 0; l < touched; l++) {
                            assertThat((double) lines.get(r, l)).as("line %d %d line %d first %d", r, l, line, first)
                                    .isCloseTo(lines2[r][l], within(1e-5 * (1 + Math.abs(lines2[r][l]))));
                            assertThat(wantLines.get(r, l)).isCloseTo(lines.get(r, l), within(1e-5f));
                        }
                    }
                }
            }
            assertThatThrownBy(() -> VECTOR.gridSums(Parallel.SERIAL, probs, weight, 0, 7, t.zeros(rows, 6), null))
                    .hasMessageContaining("grid sums along the last axis");
        }
    }

    @Test
    void rowKernelsDoNotDependOnThreadCount() {
        try (TestMatrices t = new TestMatrices(11); ExecutorParallel three = new ExecutorParallel(3)) {
            Matrix x = t.random(150, 77), gamma = t.random(1, 77), beta = t.random(1, 77);
            Matrix one = t.zeros(150, 77), many = t.zeros(150, 77);
            VECTOR.layerNorm(Parallel.SERIAL, x, gamma, beta, 1e-5f, one);
            VECTOR.layerNorm(three, x, gamma, beta, 1e-5f, many);
            assertThat(many.toArray()).containsExactly(one.toArray());
            VECTOR.softmaxRows(Parallel.SERIAL, one, gamma);
            VECTOR.softmaxRows(three, many, gamma);
            assertThat(many.toArray()).containsExactly(one.toArray());
        }
    }

    /** Within ulps of want, or within an absolute floor for values near zero. */
    private static void assertNear(Matrix got, Matrix want, double ulps, float floor) {
        float[] g = got.toArray(), w = want.toArray();
        for (int i = 0; i < w.length; i++)
            if (Math.abs(g[i] - w[i]) > floor)
                assertThat(Ulps.distance(g[i], w[i])).as("element %d: %s vs %s", i, g[i], w[i]).isLessThanOrEqualTo(ulps);
    }
}
