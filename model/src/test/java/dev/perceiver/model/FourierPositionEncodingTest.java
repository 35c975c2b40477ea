package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FourierPositionEncodingTest {

    /**
     * The per-axis grids give every point the features the reference computes from its own position, to the bit:
     * [p | sin(π·f·p) per axis and band | cos(π·f·p) ...] in float32 steps, p = linspace(-1, 1, n) on the input grid
     * and -1 + 2c/n at the decoders' output points.
     */
    @ParameterizedTest
    @CsvSource({"1, 4, true, false", "7, 3, true, false", "33, 5, false, false", "7x33, 6, true, false",
            "1x7, 2, false, true", "3x7x5, 4, true, false", "16x4x9, 3, false, true"})
    void gridsEqualPointByPoint(String shape, int bands, boolean concatPos, boolean sineOnly) {
        int[] dims = Arrays.stream(shape.split("x")).mapToInt(Integer::parseInt).toArray();
        int[] maxResolution = Arrays.stream(dims).map(d -> 2 * d + 3).toArray();
        FourierPositionEncoding f = new FourierPositionEncoding(bands, maxResolution, concatPos, sineOnly);
        int n = Arrays.stream(dims).reduce(1, (x, y) -> x * y), channels = f.outputSize();
        long[] backwards = new long[n];
        for (int i = 0; i < n; i++) backwards[i] = n - 1 - i;
        try (Arena arena = Arena.ofConfined()) {
            Matrix input = Tensor.zeros(arena, n, channels).matrix(), output = Tensor.zeros(arena, n, channels).matrix();
            f.grid(dims).write(input);
            f.outputGrid(dims).write(backwards, output);
            assertThat(f.grid(dims).channels()).isEqualTo(channels);
            for (int i = 0; i < n; i++) {
                float[] p = new float[dims.length], q = new float[dims.length];
                for (int j = dims.length - 1, rest = i; j >= 0; rest /= dims[j], j--) {
                    p[j] = FourierPositionEncoding.linspace(-1f, 1f, dims[j], rest % dims[j]);
                    q[j] = -1f + (2f * (rest % dims[j])) / dims[j];
                }
                float[] wantIn = features(p, maxResolution, bands, concatPos, sineOnly);
                float[] wantOut = features(q, maxResolution, bands, concatPos, sineOnly);
                for (int c = 0; c < channels; c++) {
                    assertThat(input.get(i, c)).as("input point %d channel %d", i, c).isEqualTo(wantIn[c]);
                    assertThat(output.get(n - 1 - i, c)).as("output point %d channel %d", i, c).isEqualTo(wantOut[c]);
                }
            }
        }
    }

    @Test
    void outputPointsOutsideTheGridAreRefused() {
        FourierPositionEncoding f = new FourierPositionEncoding(2, new int[] {4, 6}, true, false);
        try (Arena arena = Arena.ofConfined()) {
            Matrix dest = Tensor.zeros(arena, 1, f.outputSize()).matrix();
            assertThatThrownBy(() -> f.outputGrid(new int[] {2, 3}).write(new long[] {6}, dest))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("output point 6 is outside the 6");
        }
    }

    private static float[] features(float[] p, int[] maxResolution, int bands, boolean concatPos, boolean sineOnly) {
        int d = p.length;
        float[] out = new float[d * bands * (sineOnly ? 1 : 2) + (concatPos ? d : 0)];
        int c = 0;
        if (concatPos) for (float x : p) out[c++] = x;
        int sines = c, cosines = c + d * bands;
        for (int j = 0; j < d; j++)
            for (int k = 0; k < bands; k++) {
                float freq = FourierPositionEncoding.linspace(1f, (float) (maxResolution[j] / 2.0), bands, k);
                float arg = (float) Math.PI * (p[j] * freq);
                out[sines++] = (float) Math.sin(arg);
                if (!sineOnly) out[cosines++] = (float) Math.cos(arg);
            }
        return out;
    }
}
