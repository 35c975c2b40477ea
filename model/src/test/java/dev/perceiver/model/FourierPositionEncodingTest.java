package dev.perceiver.model;

import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;

import static org.assertj.core.api.Assertions.assertThat;

class FourierPositionEncodingTest {

    /** The per-axis grid gives every point the features computed from its own position, to the bit. */
    @ParameterizedTest
    @CsvSource({"1, 4, true, false", "7, 3, true, false", "33, 5, false, false", "7x33, 6, true, false",
            "1x7, 2, false, true", "3x7x5, 4, true, false", "16x4x9, 3, false, true"})
    void gridEqualsPointByPoint(String shape, int bands, boolean concatPos, boolean sineOnly) {
        int[] dims = java.util.Arrays.stream(shape.split("x")).mapToInt(Integer::parseInt).toArray();
        int[] maxResolution = java.util.Arrays.stream(dims).map(d -> 2 * d + 3).toArray();
        FourierPositionEncoding f = new FourierPositionEncoding(bands, maxResolution, concatPos, sineOnly);
        FourierPositionEncoding.Grid grid = f.grid(dims);
        int n = grid.points();
        float[][] positions = new float[n][dims.length];
        for (int i = 0; i < n; i++)
            for (int j = dims.length - 1, rest = i; j >= 0; rest /= dims[j], j--)
                positions[i][j] = FourierPositionEncoding.linspace(-1f, 1f, dims[j], rest % dims[j]);
        try (Arena arena = Arena.ofConfined()) {
            Matrix want = Tensor.zeros(arena, n, f.outputSize()).matrix(), got = Tensor.zeros(arena, n, f.outputSize()).matrix();
            f.features(positions, want);
            grid.write(got);
            assertThat(grid.channels()).isEqualTo(f.outputSize());
            for (int r = 0; r < n; r++)
                for (int c = 0; c < f.outputSize(); c++)
                    assertThat(got.get(r, c)).as("point %d channel %d", r, c).isEqualTo(want.get(r, c));
            // Not all zeros: positions span [-1, 1] and the first sine band is sin(pi * p).
            if (n > 1 && concatPos) assertThat(got.get(n - 1, dims.length - 1)).isEqualTo(1f);
        }
    }
}
