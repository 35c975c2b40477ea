package dev.perceiver.ops;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The activations against {@link Erf#gelu} and the scalar twin's ReLU: a dense sweep and special values. */
class VectorMathTest {
    private static final Kernels VECTOR = VectorKernels.INSTANCE;
    private static final float[] SPECIALS = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
            Float.MAX_VALUE, -Float.MAX_VALUE, 1e30f, -1e30f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,
            -Float.MIN_NORMAL, 1e-20f, -1e-20f, -13.5f, -14f, -14.5f, -20f, -38f, -41f, 14f, 41f};

    private static float[] apply(Activation act, float[] x) {
        try (TestMatrices t = new TestMatrices(0)) {
            Matrix m = t.zeros(1, x.length);
            for (int i = 0; i < x.length; i++) m.set(0, i, x[i]);
            VECTOR.activation(Parallel.SERIAL, m, act);
            return m.toArray();
        }
    }

    @Test
    void geluIsWithinOneUlpOfTheDoubleReferenceOnMinusTenToTen() {
        int n = 200_001;
        float[] x = new float[n], want = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = -10f + 20f * i / (n - 1);
            want[i] = Erf.gelu(x[i]);
        }
        float[] got = apply(Activation.GELU, x);
        Ulps.assertWithin(got, want, 1);
        int exact = 0;
        for (int i = 0; i < n; i++) if (got[i] == want[i]) exact++;
        assertThat(exact).as("correctly rounded results").isGreaterThan(n * 95 / 100);
    }

    @Test
    void geluOfSpecialValuesEqualsTheReference() {
        float[] got = apply(Activation.GELU, SPECIALS);
        for (int i = 0; i < SPECIALS.length; i++)
            assertThat(got[i]).as("gelu(%s)", SPECIALS[i]).isEqualTo(Float.valueOf(Erf.gelu(SPECIALS[i])));
    }

    @Test
    void reluOfSpecialValuesEqualsTheScalarTwin() {
        float[] got = apply(Activation.RELU, SPECIALS);
        for (int i = 0; i < SPECIALS.length; i++)
            assertThat(got[i]).as("relu(%s)", SPECIALS[i]).isEqualTo(Float.valueOf(ScalarKernels.apply(Activation.RELU, SPECIALS[i])));
    }

    private static float[] exp(float[] x) {
        float[] y = x.clone();
        VectorMath.exp(y, 0, y.length);
        return y;
    }

    @Test
    void expIsWithinTwoUlpsOfMathExpOverItsWholeRange() {
        int n = 400_003;  // odd: the ragged end goes through the padded copy
        float[] x = new float[n], want = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = -104f + 193f * i / (n - 1);
            want[i] = (float) Math.exp(x[i]);
        }
        Ulps.assertWithin(exp(x), want, 2);
    }

    @Test
    void expOfSpecialValues() {
        float[] x = {0f, -0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, -104f, -1e30f, 89f, 1e30f,
                88.72f, -87.3f, 1e-8f, -1e-8f};
        float[] got = exp(x);
        assertThat(got[0]).isEqualTo(1f);
        assertThat(got[1]).isEqualTo(1f);
        assertThat(got[2]).isEqualTo(0f);
        assertThat(got[3]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(got[4]).isNaN();
        assertThat(got[5]).isEqualTo(0f);
        assertThat(got[6]).isEqualTo(0f);
        assertThat(got[7]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(got[8]).isEqualTo(Float.POSITIVE_INFINITY);
        for (int i = 9; i < x.length; i++)
            assertThat(Ulps.distance(got[i], (float) Math.exp(x[i]))).as("exp(%s)", x[i]).isLessThanOrEqualTo(2);
    }

    @Test
    void expOfNonPositiveValuesEqualsExpDownToItsCutAndIsZeroBelow() {
        int n = VectorMath.F.length() * 20_001;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -90f + 90f * i / (n - 1);
        float[] specials = {-0f, Float.NEGATIVE_INFINITY, -87f, Math.nextDown(-87f), -1e30f, Float.NaN};
        System.arraycopy(specials, 0, x, 0, specials.length);
        float[] want = exp(x), got = new float[n];
        for (int i = 0; i < n; i += VectorMath.F.length())
            VectorMath.expNonPositive(FloatVector.fromArray(VectorMath.F, x, i)).intoArray(got, i);
        for (int i = 0; i < n; i++) {
            if (Float.isNaN(x[i])) assertThat(got[i]).as("e^NaN").isNaN();
            else if (x[i] < -87f) assertThat(got[i]).as("e^%s", x[i]).isEqualTo(0f);
            else assertThat(got[i]).as("e^%s", x[i]).isEqualTo(want[i]);
        }
    }

    @Test
    void sumInOrderAddsLaneByLane() {
        double[] lanes = new double[VectorMath.D.length()];
        lanes[0] = 1;
        lanes[1] = 1e16;
        lanes[lanes.length - 1] += -1e16;  // in lane order 1 + 1e16 loses the 1; a tree keeping pairs may not
        double inOrder = 0;  // 0 where there are 3 lanes or more (not at 128 bits, whose 2 lanes are [1, 0])
        for (double lane : lanes) inOrder += lane;
        assertThat(VectorMath.sumInOrder(DoubleVector.fromArray(VectorMath.D, lanes, 0))).isEqualTo(inOrder);
    }
}
