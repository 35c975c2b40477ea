package dev.perceiver.ops;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class VectorAlignmentTest {
    private static final int L = VectorMath.F.length();

    @Test
    void addressesAreKnownWithNativeAccess() {
        // The build runs tests with --enable-native-access=ALL-UNNAMED, as the launcher runs the tool.
        assertThat(VectorAlignment.known()).isTrue();
    }

    @Test
    void theAlignedIndexIsTheFirstOfItsVectorAtOrPastFrom() {
        float[] a = new float[1000];
        int first = VectorAlignment.alignedIndex(a, 0);
        assertThat(first).isBetween(0, VectorAlignment.SLACK);
        for (int from = 0; from < 3 * L; from++) {
            int at = VectorAlignment.alignedIndex(a, from);
            assertThat(at).as("from %d", from).isBetween(from, from + L - 1);
            // Unless a collector moved the array in between, aligned indices lie whole vectors apart.
            if (VectorAlignment.alignedIndex(a, 0) == first) assertThat((at - first) % L).as("from %d", from).isZero();
        }
    }
}
