package dev.perceiver.ops;

import static org.assertj.core.api.Assertions.fail;

/** Float comparisons in units in the last place of the expected value. */
final class Ulps {
    private Ulps() {}

    /** Distance from got to want in ulps of want; 0 for equal values (NaN equals NaN). */
    static double distance(float got, float want) {
        if (Float.compare(got, want) == 0 || got == want) return 0;
        if (Float.isNaN(got) || Float.isNaN(want) || Float.isInfinite(want)) return Double.POSITIVE_INFINITY;
        return Math.abs((double) got - want) / Math.ulp(want);
    }

    static void assertWithin(float[] got, float[] want, double ulps) {
        if (got.length != want.length) fail("lengths " + got.length + " and " + want.length);
        for (int i = 0; i < got.length; i++)
            if (distance(got[i], want[i]) > ulps)
                fail("element " + i + ": " + got[i] + " is " + distance(got[i], want[i]) + " ulps from " + want[i]);
    }
}
