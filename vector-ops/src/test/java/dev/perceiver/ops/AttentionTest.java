package dev.perceiver.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AttentionTest {
    private static final Kernels SCALAR = Kernels.scalar();
    private static final Kernels VECTOR = VectorKernels.INSTANCE;
    private static final float MASKED = -3.4028235e38f;

    /** nq, nk, heads, dqk, dv: edges of the query sub-panels (16/32), key panels (6) and key blocks (192). */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(1, 1, 1, 1, 1), Arguments.of(3, 7, 1, 5, 7), Arguments.of(7, 33, 3, 4, 6),
                Arguments.of(33, 3, 2, 13, 3), Arguments.of(17, 200, 1, 8, 13), Arguments.of(40, 400, 2, 3, 5),
                Arguments.of(2, 1000, 1, 7, 1), Arguments.of(70, 50, 2, 33, 17), Arguments.of(64, 20, 1, 16, 48));
    }

    /** A pattern of masked keys: none, some, or all. */
    enum Mask { NONE, SOME, ALL }

    static Stream<Arguments> shapesAndMasks() {
        return shapes().flatMap(s -> Stream.of(Mask.values()).map(m -> Arguments.of(s.get()[0], s.get()[1], s.get()[2], s.get()[3], s.get()[4], m)));
    }

    private static Matrix mask(TestMatrices t, int nk, Mask kind) {
        if (kind == Mask.NONE) return null;
        Matrix m = t.zeros(1, nk);
        for (int j = 0; j < nk; j++) m.set(0, j, kind == Mask.ALL || j % 3 == 1 ? MASKED : 0f);
        return m;
    }

    /** q, k, v as column slices of one strided qkv matrix, as a fused projection would leave them. */
    private record Qkv(Matrix q, Matrix k, Matrix v) {
        static Qkv random(TestMatrices t, int nq, int nk, int heads, int dqk, int dv) {
            Matrix qs = t.random(nq, heads * dqk + 3), kv = t.random(nk, heads * (dqk + dv) + 2);
            return new Qkv(qs.cols(2, 2 + heads * dqk), kv.cols(1, 1 + heads * dqk), kv.cols(1 + heads * dqk, 1 + heads * (dqk + dv)));
        }
    }

    @ParameterizedTest
    @MethodSource("shapesAndMasks")
    void scalarMatchesDoubleReference(int nq, int nk, int heads, int dqk, int dv, Mask kind) {
        try (TestMatrices t = new TestMatrices(nq * 7L + nk + heads)) {
            Qkv x = Qkv.random(t, nq, nk, heads, dqk, dv);
            Matrix mask = mask(t, nk, kind), out = t.zeros(nq, heads * dv), probs = t.zeros(heads * nq, nk);
            SCALAR.attention(Parallel.SERIAL, x.q, x.k, x.v, heads, mask, out, probs, t.arena);
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < nq; i++) {
                    double[] p = referenceProbabilities(x, h, i, dqk, mask);
                    for (int j = 0; j < nk; j++)
                        assertThat((double) probs.get(h * nq + i, j)).as("p[%d][%d][%d]", h, i, j).isCloseTo(p[j], within(2e-6));
                    for (int e = 0; e < dv; e++) {
                        double o = 0;
                        for (int j = 0; j < nk; j++) o += p[j] * x.v.get(j, h * dv + e);
                        assertThat((double) out.get(i, h * dv + e)).isCloseTo(o, within(2e-5));
                    }
                }
        }
    }

    /** Softmax in double of float scores: the score and the mask are added in float, as torch does. */
    private static double[] referenceProbabilities(Qkv x, int h, int i, int dqk, Matrix mask) {
        int nk = x.k.rows();
        double[] p = new double[nk];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = 0; j < nk; j++) {
            double dot = 0;
            for (int d = 0; d < dqk; d++) dot += (double) x.q.get(i, h * dqk + d) * x.k.get(j, h * dqk + d);
            float s = (float) (dot / Math.sqrt(dqk));
            if (mask != null) s += mask.get(0, j);
            p[j] = s;
            max = Math.max(max, s);
        }
        for (int j = 0; j < nk; j++) sum += p[j] = Math.exp(p[j] - max);
        for (int j = 0; j < nk; j++) p[j] /= sum;
        return p;
    }

    @ParameterizedTest
    @MethodSource("shapesAndMasks")
    void vectorMatchesScalar(int nq, int nk, int heads, int dqk, int dv, Mask kind) {
        try (TestMatrices t = new TestMatrices(nq * 13L + nk * 3 + dv)) {
            Qkv x = Qkv.random(t, nq, nk, heads, dqk, dv);
            Matrix mask = mask(t, nk, kind);
            Matrix want = t.zeros(nq, heads * dv), wantP = t.zeros(heads * nq, nk);
            Matrix got = t.strided(nq, heads * dv), gotP = t.zeros(heads * nq, nk), streamed = t.zeros(nq, heads * dv);
            SCALAR.attention(Parallel.SERIAL, x.q, x.k, x.v, heads, mask, want, wantP, t.arena);
            VECTOR.attention(Parallel.SERIAL, x.q, x.k, x.v, heads, mask, got, gotP, t.arena);
            VECTOR.attention(Parallel.SERIAL, x.q, x.k, x.v, heads, mask, streamed, null, t.arena);
            assertClose(got, want, 1e-5f);
            assertClose(streamed, want, 1e-5f);
            assertClose(gotP, wantP, 1e-6f);
        }
    }

    private static void assertClose(Matrix got, Matrix want, float tolerance) {
        float[] g = got.toArray(), w = want.toArray();
        for (int i = 0; i < w.length; i++)
            assertThat(g[i]).as("element %d", i).isCloseTo(w[i], within(tolerance * Math.max(1f, Math.abs(w[i]))));
    }

    @Test
    void fullyMaskedKeysGiveUniformWeights() {
        try (TestMatrices t = new TestMatrices(3)) {
            int nq = 5, nk = 250, dv = 4;
            Qkv x = Qkv.random(t, nq, nk, 1, 8, dv);
            Matrix mask = mask(t, nk, Mask.ALL);
            for (Kernels kernels : new Kernels[] {SCALAR, VECTOR}) {
                Matrix out = t.zeros(nq, dv), probs = t.zeros(nq, nk);
                kernels.attention(Parallel.SERIAL, x.q, x.k, x.v, 1, mask, out, probs, t.arena);
                for (int i = 0; i < nq; i++) {
                    for (int j = 0; j < nk; j++) assertThat(probs.get(i, j)).as(kernels.name()).isEqualTo(1f / nk);
                    for (int e = 0; e < dv; e++) {
                        double mean = 0;
                        for (int j = 0; j < nk; j++) mean += x.v.get(j, e) / nk;
                        assertThat((double) out.get(i, e)).as(kernels.name()).isCloseTo(mean, within(1e-5));
                    }
                }
            }
        }
    }

    @Test
    void keysMaskedUntilALaterBlock() {
        try (TestMatrices t = new TestMatrices(4)) {
            int nq = 20, nk = 500, dv = 9;
            Qkv x = Qkv.random(t, nq, nk, 1, 6, dv);
            Matrix mask = t.zeros(1, nk);
            for (int j = 0; j < 420; j++) mask.set(0, j, MASKED);
            Matrix want = t.zeros(nq, dv), got = t.zeros(nq, dv);
            SCALAR.attention(Parallel.SERIAL, x.q, x.k, x.v, 1, mask, want, null, t.arena);
            VECTOR.attention(Parallel.SERIAL, x.q, x.k, x.v, 1, mask, got, null, t.arena);
            assertClose(got, want, 1e-5f);
        }
    }

    @Test
    void noKeysGiveZeros() {
        try (TestMatrices t = new TestMatrices(5)) {
            for (Kernels kernels : new Kernels[] {SCALAR, VECTOR}) {
                Matrix out = t.random(3, 4);
                kernels.attention(Parallel.SERIAL, t.random(3, 4), t.zeros(0, 4), t.zeros(0, 4), 2, null, out, null, t.arena);
                assertThat(out.toArray()).as(kernels.name()).containsOnly(0f);
            }
        }
    }

    @Test
    void outputsDoNotDependOnThreadCount() {
        try (TestMatrices t = new TestMatrices(6);
             ExecutorParallel two = new ExecutorParallel(2); ExecutorParallel three = new ExecutorParallel(3)) {
            // units split queries (and share one copy of the keys and values with more than one thread), heads
            int[][] shapes = {{300, 300, 1, 12, 10}, {260, 333, 2, 9, 6}, {37, 50, 4, 8, 8}, {3, 700, 2, 5, 7}};
            for (int[] s : shapes) {
                Qkv x = Qkv.random(t, s[0], s[1], s[2], s[3], s[4]);
                Matrix mask = mask(t, s[1], Mask.SOME);
                for (boolean withProbs : new boolean[] {false, true}) {
                    Matrix[] outs = new Matrix[3], probs = new Matrix[3];
                    Parallel[] ps = {Parallel.SERIAL, two, three};
                    for (int i = 0; i < 3; i++) {
                        outs[i] = t.zeros(s[0], s[2] * s[4]);
                        probs[i] = withProbs ? t.zeros(s[2] * s[0], s[1]) : null;
                        VECTOR.attention(ps[i], x.q, x.k, x.v, s[2], mask, outs[i], probs[i], t.arena);
                    }
                    for (int i = 1; i < 3; i++) {
                        assertThat(outs[i].toArray()).as("%d threads", ps[i].threads()).containsExactly(outs[0].toArray());
                        if (withProbs) assertThat(probs[i].toArray()).containsExactly(probs[0].toArray());
                    }
                }
            }
        }
    }
}
