package dev.perceiver.io;

import dev.perceiver.io.FlowTiling.Tile;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FlowInputTest {
    @Test
    void matchesGoldenPatches() throws IOException {
        RgbImage f0 = ImageFiles.read(GoldenInputs.DIR.resolve("frame0_16x12.png"));
        RgbImage f1 = ImageFiles.read(GoldenInputs.DIR.resolve("frame1_16x12.png"));
        float[] want = GoldenInputs.load().floats("flow_patches.frame0_16x12.png+frame1_16x12.png");
        try (Arena arena = Arena.ofConfined()) {
            Tensor got = FlowInput.patches(f0, f1, arena);
            assertThat(got.shape()).containsExactly(1, 2, 27, 12, 16);
            double maxError = ImageProcessorTest.maxAbsDiff(got.toArray(), want);
            System.out.printf("flow_patches: max abs error %.3g%n", maxError);
            assertThat(maxError).isLessThanOrEqualTo(1e-6);
        }
    }

    @Test
    void tilesArePatchedOnTheirOwnWithZeroBorders() {
        RgbImage f0 = PillowResizeTest.synthetic(16, 12), f1 = PillowResizeTest.synthetic(16, 12);
        Tile tile = new Tile(2, 3, 5, 6);
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = FlowInput.tilePatches(f0, f1, List.of(new Tile(0, 0, 5, 6), tile), arena);
            assertThat(t.shape()).containsExactly(2, 2, 27, 5, 6);
            // Centre tap (kh = kw = 1 → channels 12..14) of tile pixel (0, 0) is frame pixel (3, 2).
            for (int c = 0; c < 3; c++)
                assertThat(t.get(1, 0, 12 + c, 0, 0)).isEqualTo(f0.get(3, 2, c) / 255f * 2f - 1f);
            // Its up-left neighbour is inside the frame but outside the tile: zero, not frame pixel (2, 1).
            assertThat(t.get(1, 1, 0, 0, 0)).isZero();
            // Down-right neighbour (kh = kw = 2 → channels 24..26) of pixel (4, 5) leaves the tile too.
            assertThat(t.get(1, 1, 26, 4, 5)).isZero();
            assertThat(t.get(1, 1, 26, 3, 4)).isEqualTo(f1.get(3 + 5, 2 + 4, 2) / 255f * 2f - 1f);
            assertThat(FlowInput.tilePatches(f0, f1, tile, arena).toArray()).isEqualTo(t.select(0, 1).toArray());
            // A tile covering the whole frame is the whole-frame input.
            assertThat(FlowInput.tilePatches(f0, f1, List.of(new Tile(0, 0, 12, 16)), arena).toArray())
                    .isEqualTo(FlowInput.patches(f0, f1, arena).toArray());
        }
    }

    @Test
    void refusesMismatchedFramesAndOutOfBoundsTiles() {
        RgbImage a = PillowResizeTest.synthetic(16, 12), b = PillowResizeTest.synthetic(12, 16);
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> FlowInput.patches(a, b, arena)).hasMessageContaining("differ in size");
            assertThatThrownBy(() -> FlowInput.tilePatches(a, a, List.of(new Tile(8, 0, 5, 6)), arena))
                    .hasMessageContaining("outside the 16x12 frame");
        }
    }
}
