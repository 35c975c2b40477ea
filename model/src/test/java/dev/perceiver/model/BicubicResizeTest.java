package dev.perceiver.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * PyTorch's bicubic interpolation (align_corners=False, scale_factor given, A = -0.75, border-clamped taps) against
 * values worked out by hand. Keys' weights at t = 0.25 are c2(1.25) = -0.10546875, c1(0.25) = 0.87890625,
 * c1(0.75) = 0.26171875, c2(1.75) = -0.03515625 (all exact in binary), at t = 0.5 they are -0.09375, 0.59375,
 * 0.59375, -0.09375.
 */
class BicubicResizeTest {

    @Test
    void keysWeightsAtQuarterAndHalfSteps() {
        assertThat(BicubicResize.cubic2(1.25f)).isEqualTo(-0.10546875f);
        assertThat(BicubicResize.cubic1(0.25f)).isEqualTo(0.87890625f);
        assertThat(BicubicResize.cubic1(0.75f)).isEqualTo(0.26171875f);
        assertThat(BicubicResize.cubic2(1.75f)).isEqualTo(-0.03515625f);
        assertThat(BicubicResize.cubic1(0.5f)).isEqualTo(0.59375f);
        assertThat(BicubicResize.cubic2(1.5f)).isEqualTo(-0.09375f);
        // At the knots: 1 at 0, 0 at 1 and 2.
        assertThat(BicubicResize.cubic1(0f)).isEqualTo(1f);
        assertThat(BicubicResize.cubic1(1f)).isEqualTo(0f);
        assertThat(BicubicResize.cubic2(1f)).isEqualTo(0f);
        assertThat(BicubicResize.cubic2(2f)).isEqualTo(0f);
    }

    /**
     * A row [1, 2, 4, 8] doubled (scale 2): output i samples src = (i + 0.5)/2 - 0.5. Output 3 is src 1.25: taps
     * 0..3 at t = 0.25, -0.10546875·1 + 0.87890625·2 + 0.26171875·4 - 0.03515625·8 = 2.41796875. Output 0 is
     * src -0.25: floor -1, t = 0.75, taps -2..1 clamped to 0, 0, 0, 1: (-0.03515625 + 0.26171875 + 0.87890625)·1
     * - 0.10546875·2 = 0.89453125. The last, output 7, is src 3.25: i0 = min(3, 3), t = 0.25, taps 2, 3, 3, 3:
     * -0.10546875·4 + (0.87890625 + 0.26171875 - 0.03515625)·8 = 8.4218750.
     */
    @Test
    void upsamplingARowByTwoGivesTheHandComputedValues() {
        float[] row = {1, 2, 4, 8};
        BicubicResize.Taps rows = BicubicResize.taps(1, 1, 1.0), cols = BicubicResize.taps(4, 8, 2.0);
        float[] out = BicubicResize.resize(row, 1, 4, 1, rows, cols);
        assertThat(out).hasSize(8);
        assertThat(out[3]).isCloseTo(2.41796875f, within(1e-6f));
        assertThat(out[0]).isCloseTo(0.89453125f, within(1e-6f));
        assertThat(out[7]).isCloseTo(8.421875f, within(1e-6f));
        // Output 4 is src 1.75: taps 0..3 at t = 0.75.
        float w0 = -0.03515625f, w1 = 0.26171875f, w2 = 0.87890625f, w3 = -0.10546875f;
        assertThat(out[4]).isCloseTo(w0 * 1 + w1 * 2 + w2 * 4 + w3 * 8, within(1e-6f));
    }

    @Test
    void theTapsOfAnAxisAreClampedToTheBorder() {
        BicubicResize.Taps t = BicubicResize.taps(4, 8, 2.0);
        assertThat(java.util.Arrays.copyOfRange(t.index(), 0, 4)).containsExactly(0, 0, 0, 1);
        assertThat(java.util.Arrays.copyOfRange(t.index(), 12, 16)).containsExactly(0, 1, 2, 3);
        assertThat(java.util.Arrays.copyOfRange(t.index(), 28, 32)).containsExactly(2, 3, 3, 3);
        assertThat(java.util.Arrays.copyOfRange(t.weight(), 12, 16))
                .containsExactly(-0.10546875f, 0.87890625f, 0.26171875f, -0.03515625f);
    }

    /**
     * The weights torch 1.13 (the reference's build) gives a 32-long axis scaled by 40.1/32, read from
     * {@code F.interpolate(torch.eye(32).reshape(32, 1, 1, 32), scale_factor=(1.0, 40.1/32), mode="bicubic",
     * align_corners=False)}: output 3 takes inputs 1..4 with exactly these float32 weights; output 0 takes inputs
     * 0 (three clamped taps) and 1.
     */
    @Test
    void theWeightsOfTorchsKernelToTheBit() {
        BicubicResize.Taps t = BicubicResize.taps(32, 40, 40.1 / 32);
        assertThat(java.util.Arrays.copyOfRange(t.index(), 12, 16)).containsExactly(1, 2, 3, 4);
        assertThat(java.util.Arrays.copyOfRange(t.weight(), 12, 16))
                .containsExactly(-0.10984301567077637f, 0.8382645845413208f, 0.3171041011810303f, -0.045525550842285156f);
        assertThat(java.util.Arrays.copyOfRange(t.index(), 0, 4)).containsExactly(0, 0, 0, 1);
        assertThat(t.weight()[0] + t.weight()[1] + t.weight()[2]).isCloseTo(1.061219573020935f, within(1e-7f));
        assertThat(t.weight()[3]).isEqualTo(-0.06121993064880371f);
    }

    /** Scale 1 puts every output on a source sample (t = 0): weights 0, 1, 0, 0, an exact copy. */
    @Test
    void scaleOneIsTheIdentity() {
        int h = 5, w = 7, c = 3;
        float[] grid = new float[h * w * c];
        for (int i = 0; i < grid.length; i++) grid[i] = (float) Math.sin(i * 0.37) * 10;
        float[] out = BicubicResize.resize(grid, h, w, c, BicubicResize.taps(h, h, 1.0), BicubicResize.taps(w, w, 1.0));
        assertThat(out).containsExactly(grid);
    }

    /** The weights sum to one, so a constant grid stays constant whatever the sizes (up and down, per axis). */
    @Test
    void aConstantGridStaysConstant() {
        int s = 6, c = 4;
        float[] grid = new float[s * s * c];
        java.util.Arrays.fill(grid, 2.5f);
        float[] out = BicubicResize.resize(grid, s, s, c, BicubicResize.taps(s, 11, 11.1 / s), BicubicResize.taps(s, 3, 3.1 / s));
        assertThat(out).hasSize(11 * 3 * c);
        for (float v : out) assertThat(v).isCloseTo(2.5f, within(1e-5f));
    }

    /**
     * A ramp v = x on an 8x8 grid. With A = -0.75 (not Keys' -0.5) the cubic reproduces a line only at t = 0 and
     * t = 0.5: Σ w_k·(k - 1) is 0.296875 at t = 0.25 and 0.703125 at t = 0.75. Doubled (scale 2), the outputs whose
     * four taps lie inside the grid (3..12) sample src = x/2 - 0.25, i.e. k + 0.25 or k + 0.75: they are k + 0.296875
     * and k + 0.703125, the same in every row. Halved (scale 0.5, no antialiasing), src = 2i + 0.5 (t = 0.5): the
     * inner outputs 1 and 2 are 2.5 and 4.5 exactly.
     */
    @Test
    void aLinearRampGivesTheHandComputedValues() {
        int s = 8;
        float[] grid = new float[s * s];
        for (int y = 0; y < s; y++)
            for (int x = 0; x < s; x++) grid[y * s + x] = x;
        float[] up = BicubicResize.resize(grid, s, s, 1, BicubicResize.taps(s, 16, 2.0), BicubicResize.taps(s, 16, 2.0));
        for (int y = 0; y < 16; y++)
            for (int x = 3; x <= 12; x++) {
                int k = (x - 1) / 2;
                float want = x % 2 == 1 ? k + 0.296875f : k + 0.703125f;
                assertThat(up[y * 16 + x]).as("y %d x %d", y, x).isCloseTo(want, within(1e-5f));
            }
        // At the border the clamped taps bend it: output 0 (src -0.25, taps 0, 0, 0, 1) is c2(1.25)·1.
        assertThat(up[0]).isCloseTo(-0.10546875f, within(1e-6f));
        float[] down = BicubicResize.resize(grid, s, s, 1, BicubicResize.taps(s, 4, 0.5), BicubicResize.taps(s, 4, 0.5));
        for (int y = 0; y < 4; y++) {
            assertThat(down[y * 4 + 1]).isCloseTo(2.5f, within(1e-5f));
            assertThat(down[y * 4 + 2]).isCloseTo(4.5f, within(1e-5f));
        }
    }

    /**
     * The +0.1 of transformers 4.42–4.44: at the table's own size the scale is (s + 0.1)/s, so r = s/(s + 0.1) and
     * the grid is resampled, not copied. For s = 16, output 0 samples src = 0.5·16/16.1 - 0.5 = -0.0031.
     */
    @Test
    void theTrainingSizeIsStillResampled() {
        int s = 16;
        float[] table = new float[s * s];
        for (int i = 0; i < table.length; i++) table[i] = (float) Math.cos(i * 0.11);
        float[] out = new float[s * s];
        BicubicResize.interpolatePositions(table, s * s, 1, s, s, (p, v) -> out[p] = v[0]);
        assertThat(out).isNotEqualTo(table);
        double maxDiff = 0;
        for (int i = 0; i < out.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i] - table[i]));
        assertThat(maxDiff).isBetween(1e-3, 0.5);
        BicubicResize.Taps t = BicubicResize.taps(s, s, (s + 0.1) / s);
        assertThat(t.index()[0]).isZero(); // floor(-0.0031) = -1: taps -2..1 clamped to 0, 0, 0, 1
        assertThat(t.index()[3]).isEqualTo(1);
        float src = (float) ((float) (1.0 / ((s + 0.1) / s)) * 0.5 - 0.5);
        assertThat(src).isCloseTo(-0.0031056f, within(1e-6f));
        assertThat(t.weight()[1]).isCloseTo(BicubicResize.cubic1(1 + src), within(1e-6f)); // t = src - (-1)
        assertThat(t.weight()[2]).isCloseTo(1f, within(1e-4f));
    }

    /** Height scales the table's first grid axis, width its second: a table varying only along y stays so. */
    @Test
    void rowsAreYMajor() {
        int s = 4;
        float[] table = new float[s * s];
        for (int y = 0; y < s; y++)
            for (int x = 0; x < s; x++) table[y * s + x] = y;
        float[] out = new float[7 * 3];
        BicubicResize.interpolatePositions(table, s * s, 1, 7, 3, (p, v) -> out[p] = v[0]);
        for (int y = 0; y < 7; y++)
            for (int x = 1; x < 3; x++) assertThat(out[y * 3 + x]).isCloseTo(out[y * 3], within(1e-6f));
        assertThat(out[0]).isLessThan(out[3 * 3]).isLessThan(out[6 * 3]);
    }

    @Test
    void aTableThatIsNotASquareGridIsRefused() {
        assertThatThrownBy(() -> BicubicResize.interpolatePositions(new float[48], 48, 1, 8, 8, (p, v) -> {}))
                .hasMessageContaining("48 rows").hasMessageContaining("not a square grid");
    }
}
