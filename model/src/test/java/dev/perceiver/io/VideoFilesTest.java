package dev.perceiver.io;

import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VideoFilesTest {
    @TempDir
    Path dir;

    @Test
    void readsFramesSortedByNameScaledToUnitRange() throws IOException {
        RgbImage a = PillowResizeTest.synthetic(5, 4), b = solid(5, 4, 255), c = solid(5, 4, 51);
        ImageFiles.writePng(c, dir.resolve("f10.png"));
        ImageFiles.writePng(a, dir.resolve("f01.png"));
        ImageFiles.writePng(b, dir.resolve("f02.PNG"));
        Files.writeString(dir.resolve("notes.txt"), "not a frame");
        assertThat(VideoFiles.listFrames(dir)).extracting(p -> p.getFileName().toString())
                .containsExactly("f01.png", "f02.PNG", "f10.png");
        try (Arena arena = Arena.ofConfined()) {
            Tensor video = VideoFiles.readFrames(dir, arena);
            assertThat(video.shape()).containsExactly(1, 3, 3, 4, 5);
            assertThat(video.get(0, 0, 1, 2, 3)).isEqualTo(a.get(3, 2, 1) / 255f);
            assertThat(video.get(0, 1, 2, 0, 0)).isEqualTo(1f);
            assertThat(video.get(0, 2, 0, 3, 4)).isEqualTo(0.2f); // 51/255, as float32(51/255.0) in the colab
        }
    }

    @Test
    void refusesFramesOfDifferentSizesAndEmptyFolders() throws IOException {
        assertThatThrownBy(() -> VideoFiles.listFrames(dir)).isInstanceOf(IOException.class).hasMessageContaining("no PNG");
        assertThatThrownBy(() -> VideoFiles.listFrames(dir.resolve("missing"))).isInstanceOf(NotDirectoryException.class);
        ImageFiles.writePng(solid(5, 4, 0), dir.resolve("a.png"));
        ImageFiles.writePng(solid(4, 5, 0), dir.resolve("b.png"));
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> VideoFiles.readFrames(dir, arena)).isInstanceOf(IOException.class)
                    .hasMessageContaining("b.png").hasMessageContaining("4x5").hasMessageContaining("a.png is 5x4");
        }
    }

    @Test
    void channelsLastTensorBecomesModelLayout() {
        float[] v = new float[2 * 3 * 4 * 3];
        for (int i = 0; i < v.length; i++) v[i] = i;
        try (Arena arena = Arena.ofConfined()) {
            Tensor thwc = Tensor.of(arena, v, 2, 3, 4, 3);
            Tensor out = VideoFiles.fromChannelsLast(thwc, arena);
            assertThat(out.shape()).containsExactly(1, 2, 3, 3, 4);
            for (int t = 0; t < 2; t++)
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 4; x++)
                        for (int c = 0; c < 3; c++) assertThat(out.get(0, t, c, y, x)).isEqualTo(thwc.get(t, y, x, c));
            assertThat(VideoFiles.fromChannelsLast(thwc.reshape(1, 2, 3, 4, 3), arena).toArray()).isEqualTo(out.toArray());
            assertThatThrownBy(() -> VideoFiles.fromChannelsLast(Tensor.zeros(arena, 2, 3, 3, 4), arena))
                    .hasMessageContaining("[T, H, W, 3]");
        }
    }

    @Test
    void writtenFramesInvertTheInputScalingAndClamp() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            // Every byte value survives u/255 → float → round(v·255).
            RgbImage all = new RgbImage(256, 1, allBytes());
            Tensor video = VideoFiles.fromFrames(List.of(all, all), arena);
            Tensor channelsLast = video.select(0, 0).transpose(1, 2).transpose(2, 3).copy(arena); // [T, H, W, 3]
            List<Path> files = VideoFiles.writeFrames(channelsLast, dir.resolve("out"));
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("frame_00000.png", "frame_00001.png");
            assertThat(ImageFiles.read(files.get(1)).pixels()).isEqualTo(all.pixels());
            // A later chunk of a long video goes on with the numbering.
            assertThat(VideoFiles.writeFrames(channelsLast, dir.resolve("out"), 16)).extracting(p -> p.getFileName().toString())
                    .containsExactly("frame_00016.png", "frame_00017.png");
            Tensor odd = Tensor.of(arena, new float[]{-0.2f, 0.5f, 1.7f, Float.NaN, 0.999f, 0.001f}, 1, 1, 2, 3);
            RgbImage written = ImageFiles.read(VideoFiles.writeFrames(odd, dir.resolve("odd")).getFirst());
            assertThat(PillowResizeTest.pixel(written, 0, 0)).isEqualTo("0 128 255");
            assertThat(PillowResizeTest.pixel(written, 1, 0)).isEqualTo("0 255 0");
        }
    }

    private static byte[] allBytes() {
        byte[] px = new byte[256 * 3];
        for (int i = 0; i < px.length; i++) px[i] = (byte) (i / 3);
        return px;
    }

    private static RgbImage solid(int w, int h, int v) {
        byte[] px = new byte[w * h * 3];
        Arrays.fill(px, (byte) v);
        return new RgbImage(w, h, px);
    }
}
