package dev.perceiver.io;

import dev.perceiver.io.FlowTiling.Tile;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FlowTilingTest {
    private static final FlowTiling DEFAULT = FlowTiling.PERCEIVER_DEFAULT;

    @ParameterizedTest
    @CsvSource({
            "368, 496, 0, 0",             // the train size: one tile (the colab computes it four times)
            "436, 1024, 0 68, 0 476 528", // Sintel
            "375, 1242, 0 7, 0 476 746",  // KITTI
            "716, 496, 0 348, 0",         // 368 + 348: the colab repeats start 348
            "700, 496, 0 332, 0",         // the colab keeps start 348, whose tile would end at 716 > 700
    })
    void plansTheColabGridWithoutRepeats(int h, int w, String ys, String xs) {
        List<Tile> tiles = DEFAULT.plan(h, w);
        List<String> starts = new ArrayList<>();
        for (String y : ys.split(" ")) for (String x : xs.split(" ")) starts.add(y + "," + x);
        assertThat(tiles).extracting(t -> t.y() + "," + t.x()).containsExactlyElementsOf(starts);
        assertThat(tiles).allSatisfy(t -> assertThat(t.height() * 1000 + t.width()).isEqualTo(368_496));
    }

    /** For many sizes and tilings: in bounds, no repeats, full coverage, flush borders, overlap ≥ the minimum. */
    @Test
    void plansAreValidForRandomSizes() {
        Random random = new Random(7);
        for (int trial = 0; trial < 300; trial++) {
            int th = 1 + random.nextInt(40), tw = 1 + random.nextInt(40);
            FlowTiling tiling = new FlowTiling(th, tw, random.nextInt(Math.min(th, tw)));
            int h = th + random.nextInt(120), w = tw + random.nextInt(120);
            List<Tile> tiles = tiling.plan(h, w);
            assertThat(new HashSet<>(tiles)).as("no repeats").hasSameSizeAs(tiles);
            int[] cover = new int[h * w];
            for (Tile t : tiles) {
                assertThat(t.y() >= 0 && t.x() >= 0 && t.y() + th <= h && t.x() + tw <= w).as("%s in %dx%d", t, w, h).isTrue();
                for (int y = t.y(); y < t.y() + th; y++) for (int x = t.x(); x < t.x() + tw; x++) cover[y * w + x]++;
            }
            for (int c : cover) assertThat(c).isPositive();
            List<Integer> ys = new ArrayList<>(new LinkedHashSet<>(tiles.stream().map(Tile::y).toList()));
            List<Integer> xs = new ArrayList<>(new LinkedHashSet<>(tiles.stream().map(Tile::x).toList()));
            assertThat(tiles).hasSize(ys.size() * xs.size());
            checkAxis(ys, h, th, tiling.minOverlap());
            checkAxis(xs, w, tw, tiling.minOverlap());
        }
    }

    private static void checkAxis(List<Integer> starts, int size, int tile, int minOverlap) {
        assertThat(starts.getFirst()).isZero();
        assertThat(starts.getLast() + tile).as("flush with the border").isEqualTo(size);
        for (int i = 1; i < starts.size(); i++) {
            assertThat(starts.get(i)).isGreaterThan(starts.get(i - 1));
            assertThat(starts.get(i - 1) + tile - starts.get(i)).as("overlap").isGreaterThanOrEqualTo(minOverlap);
        }
    }

    @Test
    void refusesFramesSmallerThanATileAndBadOverlaps() {
        assertThatThrownBy(() -> DEFAULT.plan(367, 1000)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1000x367").hasMessageContaining("496x368");
        assertThatThrownBy(() -> new FlowTiling(10, 20, 10)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void weightsAreDistanceToTheNearestTileEdge() {
        assertThat(FlowTiling.weight(0, 0, 4, 6)).isEqualTo(1);
        assertThat(FlowTiling.weight(1, 2, 4, 6)).isEqualTo(2);
        assertThat(FlowTiling.weight(2, 5, 4, 6)).isEqualTo(1);
        assertThat(FlowTiling.weight(1, 3, 4, 6)).isEqualTo(2); // min(x+1=4, W−x=3, y+1=2, H−y=3)
    }

    @Test
    void constantTilesBlendToTheirWeightedMean() {
        // 4x6 frame, 4x4 tiles, overlap 1 → tiles at x = 0 and x = 2, sharing columns 2 and 3.
        FlowTiling tiling = new FlowTiling(4, 4, 1);
        List<Tile> tiles = tiling.plan(4, 6);
        assertThat(tiles).containsExactly(new Tile(0, 0, 4, 4), new Tile(0, 2, 4, 4));
        try (Arena arena = Arena.ofConfined()) {
            FlowBlender blender = new FlowBlender(4, 6);
            blender.add(tiles.get(0), constant(arena, 4, 4, 1f, -1f));
            blender.add(tiles.get(1), constant(arena, 4, 4, 3f, -3f));
            Tensor out = blender.result(arena);
            assertThat(out.shape()).containsExactly(4, 6, 2);
            assertThat(out.get(0, 0, 0)).isEqualTo(1f);
            assertThat(out.get(0, 5, 1)).isEqualTo(-3f);
            assertThat(out.get(0, 2, 0)).isEqualTo(2f);        // weights 1 and 1
            assertThat(out.get(1, 2, 0)).isEqualTo(5f / 3f);   // weights 2 (first tile) and 1
            assertThat(out.get(1, 3, 1)).isEqualTo(-7f / 3f);  // weights 1 and 2
        }
    }

    @Test
    void sameConstantEverywhereBlendsToThatConstant() {
        try (Arena arena = Arena.ofConfined()) {
            FlowBlender blender = new FlowBlender(436, 1024);
            for (Tile t : DEFAULT.plan(436, 1024)) blender.add(t, constant(arena, 368, 496, 0.1f, -7.3f).reshape(1, 368, 496, 2));
            float[] out = blender.result(arena).toArray();
            for (int i = 0; i < out.length; i += 2) {
                assertThat(out[i]).isEqualTo(0.1f);
                assertThat(out[i + 1]).isEqualTo(-7.3f);
            }
        }
    }

    /** Flow that depends only on the absolute pixel position comes out exactly, overlaps included. */
    @Test
    void positionDependentFlowIsReproducedExactly() {
        FlowTiling tiling = new FlowTiling(13, 17, 5);
        int h = 40, w = 55;
        try (Arena arena = Arena.ofConfined()) {
            FlowBlender blender = new FlowBlender(h, w);
            for (Tile t : tiling.plan(h, w)) {
                float[] f = new float[t.height() * t.width() * 2];
                for (int y = 0; y < t.height(); y++) {
                    for (int x = 0; x < t.width(); x++) {
                        f[(y * t.width() + x) * 2] = field(t.y() + y, t.x() + x, 0);
                        f[(y * t.width() + x) * 2 + 1] = field(t.y() + y, t.x() + x, 1);
                    }
                }
                blender.add(t, Tensor.of(arena, f, t.height(), t.width(), 2));
            }
            Tensor out = blender.result(arena);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int c = 0; c < 2; c++) assertThat(out.get(y, x, c)).isEqualTo(field(y, x, c));
        }
    }

    private static float field(int y, int x, int c) {
        return c == 0 ? (float) Math.sin(0.37 * x) * 3.1f + y / 7f : (float) Math.cos(0.11 * y * x) - x / 3f;
    }

    @Test
    void blenderRefusesWrongShapesAndUncoveredPixels() {
        try (Arena arena = Arena.ofConfined()) {
            FlowBlender blender = new FlowBlender(4, 6);
            Tile tile = new Tile(0, 0, 4, 4);
            assertThatThrownBy(() -> blender.add(tile, constant(arena, 4, 5, 0, 0))).hasMessageContaining("expected [4, 4, 2]");
            assertThatThrownBy(() -> blender.add(new Tile(0, 3, 4, 4), constant(arena, 4, 4, 0, 0))).hasMessageContaining("outside");
            blender.add(tile, constant(arena, 4, 4, 0, 0));
            assertThatThrownBy(() -> blender.result(arena)).isInstanceOf(IllegalStateException.class).hasMessageContaining("(0, 4)");
        }
    }

    private static Tensor constant(Arena arena, int h, int w, float u, float v) {
        float[] f = new float[h * w * 2];
        for (int i = 0; i < f.length; i += 2) {
            f[i] = u;
            f[i + 1] = v;
        }
        return Tensor.of(arena, f, h, w, 2);
    }
}
