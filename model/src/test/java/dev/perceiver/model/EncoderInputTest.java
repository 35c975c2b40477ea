package dev.perceiver.model;

import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.Scratch;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.runtime.ThreadPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An input kept as its varying channels gives, row for row, what the preprocessors used to write in whole: varying
 * channels, then the grid's Fourier features of the token's place in its segment, then the segment's constants.
 */
class EncoderInputTest {
    private static final int CHANNELS = 40;

    /**
     * Three segments as the multimodal preprocessor makes them: a 3x7x5 grid of 4 varying channels padded with
     * constants, 33 tokens of 39 varying channels and one padding channel, 7 masked tokens (a constant row, nothing
     * varies). Rows [from, to) of both batch items, across the segments' borders, and the whole tensor.
     */
    @ParameterizedTest
    @CsvSource({"0, 105", "0, 1", "100, 140", "104, 106", "137, 145", "0, 145"})
    void rowsAreVaryingChannelsThenGridFeaturesThenConstants(int from, int to) {
        FourierPositionEncoding f = new FourierPositionEncoding(3, new int[] {5, 9, 7}, true, false);
        FourierPositionEncoding.Grid grid = f.grid(new int[] {3, 7, 5});
        int gridTokens = 105, gc = grid.channels(), batch = 2;
        float[] padding = random(CHANNELS - 4 - gc, 1), lastPadding = random(1, 2), mask = random(CHANNELS, 3);
        InputLayout layout = new InputLayout("test", List.of(
                new InputLayout.Segment(0, gridTokens, 4, grid, padding),
                new InputLayout.Segment(gridTokens, gridTokens + 33, 39, null, lastPadding),
                new InputLayout.Segment(gridTokens + 33, gridTokens + 40, 0, null, mask)));
        try (Arena arena = Arena.ofShared(); Scratch scratch = new Scratch();
             CpuBackend backend = new CpuBackend(Kernels.best(), new ThreadPool(2))) {
            Tensor gridVarying = Tensor.of(arena, random(batch * gridTokens * 4, 4), batch, gridTokens, 4);
            Tensor wideVarying = Tensor.of(arena, random(batch * 33 * 39, 5), batch, 33, 39);
            EncoderInput x = EncoderInput.ofVarying(batch, CHANNELS, layout,
                    Arrays.asList(gridVarying, wideVarying, null));
            Run run = new Run(backend, scratch, arena, false, false, false);
            assertThat(x.tokens()).isEqualTo(gridTokens + 40);
            assertThat(x.fromVarying()).isTrue();
            for (int b = 0; b < batch; b++) {
                Matrix rows = x.rows(run, b, from, to);
                for (int r = from; r < to; r++) {
                    float[] want = new float[CHANNELS];
                    if (r < gridTokens) {
                        for (int ch = 0; ch < 4; ch++) want[ch] = gridVarying.get(b, r, ch);
                        float[] features = new float[gc];
                        for (int j = 2, rest = r; j >= 0; rest /= grid.dims()[j], j--) {
                            float[] axis = grid.axisRow(j, rest % grid.dims()[j]);
                            for (int ch = 0; ch < gc; ch++) features[ch] += axis[ch];
                        }
                        System.arraycopy(features, 0, want, 4, gc);
                        System.arraycopy(padding, 0, want, 4 + gc, padding.length);
                    } else if (r < gridTokens + 33) {
                        for (int ch = 0; ch < 39; ch++) want[ch] = wideVarying.get(b, r - gridTokens, ch);
                        want[39] = lastPadding[0];
                    } else {
                        want = mask;
                    }
                    float[] got = new float[CHANNELS];
                    rows.copyRow(r - from, got);
                    assertThat(got).as("item %d token %d", b, r).containsExactly(want);
                }
            }
            Tensor whole = x.tensor(run);
            for (int b = 0; b < batch; b++)
                for (int r = 0; r < x.tokens(); r++)
                    for (int ch = 0; ch < CHANNELS; ch++)
                        assertThat(whole.get(b, r, ch)).isEqualTo(x.rows(run, b, r, r + 1).get(0, ch));
        }
    }

    @Test
    void fixedChannelsOnlyAnInputHoldsCannotBeLeftOut() {
        InputLayout learned = new InputLayout("learned", List.of(new InputLayout.Segment(0, 4, 3, null, null)));
        assertThatThrownBy(() -> EncoderInput.ofVarying(1, 8, learned, Arrays.asList((Tensor) null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fixed channels only an input holds");
    }

    private static float[] random(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) (rnd.nextDouble() * 2 - 1);
        return out;
    }
}
