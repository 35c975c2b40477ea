package dev.perceiver.cli;

import dev.perceiver.io.FlowBlender;
import dev.perceiver.io.FlowFiles;
import dev.perceiver.io.FlowInput;
import dev.perceiver.io.FlowTiling;
import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.RgbImage;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** flow --video on frame sequences written here, with the golden optical-flow model (16x12 tiles). */
class FlowVideoTest {
    private static final Path MODEL = Cli.GOLDEN.resolve("optical_flow");

    @TempDir
    Path tmp;

    /**
     * 20x15 frames with --overlap 4 are 2x2 tiles; --batch 3 makes batches that straddle pairs. Each pair's .flo is
     * what the model gives its tiles, blended, and what the two-frame command writes for the same frames.
     */
    @Test
    void eachPairIsTheFlowOfItsTwoFrames() throws Exception {
        List<RgbImage> frames = movingTexture(5, 20, 15);
        Path video = writeFrames(tmp.resolve("video"), frames), out = tmp.resolve("out"), png = tmp.resolve("png");
        Cli.Result r = Cli.run("flow", "--model", MODEL.toString(), "--video", video.toString(), "--out", out.toString(),
                "--png", png.toString(), "--overlap", "4", "--batch", "3", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.errLines()).singleElement().asString().matches("4 pairs in [0-9.]+ s \\([0-9.]+/s\\), 0 errors");
        List<Map<?, ?>> lines = json(r);
        assertThat(lines).hasSize(4);
        try (Arena arena = Arena.ofConfined(); Perceiver model = Perceiver.load(MODEL, Perceiver.Options.DEFAULT)) {
            for (int i = 0; i < 4; i++) {
                Map<?, ?> line = lines.get(i);
                Path flo = out.resolve(String.format("flow_%05d.flo", i));
                assertThat(line.get("flo")).isEqualTo(flo.toString());
                assertThat(line.get("from")).isEqualTo(video.resolve(String.format("f%02d.png", i)).toString());
                assertThat(line.get("to")).isEqualTo(video.resolve(String.format("f%02d.png", i + 1)).toString());
                assertThat(line.get("tiles")).isEqualTo(4L);
                assertThat(line.get("computed")).isEqualTo(4L);
                Tensor written = FlowFiles.readFlo(flo, arena);
                assertThat(written.toArray()).isEqualTo(expectedFlow(model, frames.get(i), frames.get(i + 1), arena));
                assertThat(ImageFiles.read(Path.of((String) line.get("png"))).pixels())
                        .isEqualTo(FlowFiles.colorize(written).pixels());
            }
        }
        Path single = tmp.resolve("single.flo");
        Cli.Result pair = Cli.run("flow", "--model", MODEL.toString(), video.resolve("f02.png").toString(),
                video.resolve("f03.png").toString(), "--out", single.toString(), "--overlap", "4");
        assertThat(pair.code()).as(pair.err()).isZero();
        assertThat(Files.mismatch(single, out.resolve("flow_00002.flo"))).isEqualTo(-1);
    }

    /**
     * A tile whose crops of both frames were seen before is not run again: frames A, A, B (A with one corner pixel
     * changed), G, G (flat grey). A to A runs its 4 tiles; A to B only the tile holding the changed pixel (the
     * others are A to A again); B to G all 4; G to G one, its 4 tiles being the same. Every flow is still the
     * blend of the model's flow of each tile.
     */
    @Test
    void tilesSeenBeforeAreNotRunAgain() throws Exception {
        RgbImage a = movingTexture(1, 20, 15).getFirst();
        byte[] changed = a.pixels().clone();
        changed[0] ^= (byte) 0x80;
        RgbImage b = new RgbImage(20, 15, changed);
        byte[] grey = new byte[20 * 15 * 3];
        Arrays.fill(grey, (byte) 90);
        RgbImage g = new RgbImage(20, 15, grey);
        List<RgbImage> frames = List.of(a, a, b, g, g);
        Path video = writeFrames(tmp.resolve("video"), frames), out = tmp.resolve("out");
        Cli.Result r = Cli.run("flow", "--model", MODEL.toString(), "--video", video.toString(), "--out", out.toString(),
                "--overlap", "4", "--batch", "2", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(json(r).stream().map(l -> (Object) l.get("computed")).toList()).containsExactly(4L, 1L, 4L, 1L);
        try (Arena arena = Arena.ofConfined(); Perceiver model = Perceiver.load(MODEL, Perceiver.Options.DEFAULT)) {
            for (int i = 0; i < 4; i++)
                assertThat(FlowFiles.readFlo(out.resolve(String.format("flow_%05d.flo", i)), arena).toArray())
                        .isEqualTo(expectedFlow(model, frames.get(i), frames.get(i + 1), arena));
        }
    }

    /** Frame 2 is not an image and frame 4 is of another size: pairs 1, 2 and 3 fail, pair 0 is written. */
    @Test
    void aFrameThatCannotBeReadCostsItsPairs() throws Exception {
        List<RgbImage> frames = new ArrayList<>(movingTexture(4, 20, 15));
        frames.add(movingTexture(1, 24, 18).getFirst());
        Path video = writeFrames(tmp.resolve("video"), frames), out = tmp.resolve("out");
        Files.writeString(video.resolve("f02.png"), "not a picture");
        Cli.Result r = Cli.run("flow", "--model", MODEL.toString(), "--video", video.toString(), "--out", out.toString(),
                "--json");
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        List<Map<?, ?>> lines = json(r);
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0).get("flo")).isEqualTo(out.resolve("flow_00000.flo").toString());
        for (int i = 1; i < 4; i++) {
            assertThat(lines.get(i).get("flo")).isEqualTo(out.resolve(String.format("flow_%05d.flo", i)).toString());
            assertThat(out.resolve(String.format("flow_%05d.flo", i))).doesNotExist();
        }
        assertThat((String) lines.get(1).get("error")).contains(video.resolve("f02.png").toString());
        assertThat(lines.get(2).get("error")).isEqualTo(lines.get(1).get("error"));
        assertThat((String) lines.get(3).get("error"))
                .isEqualTo(video.resolve("f04.png") + " is 24x18 but " + video.resolve("f00.png") + " is 20x15; all frames must have the same size");
        assertThat(r.errLines()).singleElement().asString().matches("4 pairs in [0-9.]+ s \\([0-9.]+/s\\), 3 errors");

        Cli.Result fast = Cli.run("flow", "--model", MODEL.toString(), "--video", video.toString(), "--out",
                tmp.resolve("fast").toString(), "--fail-fast");
        assertThat(fast.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(fast.outLines()).hasSize(1);
        assertThat(fast.errLines()).singleElement().asString().startsWith("perceiver flow: " + tmp.resolve("fast/flow_00001.flo") + ": ")
                .contains("f02.png").endsWith("(--fail-fast)");
    }

    /** --video - reads the frame paths from stdin, one a line, in that order (blank lines skipped). */
    @Test
    void framesCanBeListedOnStdin() throws Exception {
        Path video = writeFrames(tmp.resolve("video"), movingTexture(3, 16, 12)), out = tmp.resolve("out");
        String list = video.resolve("f02.png") + "\n\n" + video.resolve("f00.png") + "\n" + video.resolve("f01.png") + "\n";
        Cli.Result r = Cli.runWithStdin(list.getBytes(StandardCharsets.UTF_8), "flow", "--model", MODEL.toString(),
                "--video", "-", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.outLines()).hasSize(2);
        assertThat(r.outLines().get(0)).startsWith(out.resolve("flow_00000.flo") + ": " + video.resolve("f02.png") + " -> "
                + video.resolve("f00.png") + ", largest motion ").endsWith(" px (1 of 1 tiles computed)");
        assertThat(r.outLines().get(1)).contains(video.resolve("f00.png") + " -> " + video.resolve("f01.png"));
        try (Arena arena = Arena.ofConfined(); Perceiver model = Perceiver.load(MODEL, Perceiver.Options.DEFAULT)) {
            assertThat(FlowFiles.readFlo(out.resolve("flow_00000.flo"), arena).toArray()).isEqualTo(expectedFlow(model,
                    ImageFiles.read(video.resolve("f02.png")), ImageFiles.read(video.resolve("f00.png")), arena));
        }
    }

    @Test
    void badVideoArguments() throws Exception {
        Path video = writeFrames(tmp.resolve("video"), movingTexture(2, 16, 12)), out = tmp.resolve("out");
        String model = MODEL.toString();
        assertThat(Cli.failsWith(Main.USAGE, "flow", "--model", model, "--video", video.toString(), "--out", out.toString(),
                video.resolve("f00.png").toString())).contains("not both");
        assertThat(Cli.failsWith(Main.USAGE, "flow", "--model", model, video.resolve("f00.png").toString(),
                video.resolve("f01.png").toString(), "--out", tmp.resolve("x.flo").toString(), "--json"))
                .contains("--json goes with --video");
        assertThat(Cli.failsWith(Main.USAGE, "flow", "--model", model, "--video", video.toString(), "--out", out.toString(),
                "--png", video.toString())).contains("--png must not be the --video folder");
        assertThat(Cli.failsWith(Main.BAD_INPUT, "flow", "--model", model, "--video", video.resolve("f00.png").toString(),
                "--out", out.toString())).isEqualTo("perceiver flow: --video " + video.resolve("f00.png") + ": is a file, not a folder\n");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThat(Cli.failsWith(Main.BAD_INPUT, "flow", "--model", model, "--video", empty.toString(), "--out", out.toString()))
                .contains("--video " + empty + ": no PNG, JPEG, BMP or GIF frames");
        assertThat(Cli.failsWith(Main.BAD_MODEL, "flow", "--model", "vision-conv", "--video", video.toString(), "--out",
                out.toString())).contains("--model vision-conv is a PerceiverForImageClassificationConvProcessing; flow runs "
                + "PerceiverForOpticalFlow (for this model use 'perceiver classify')");
        Files.delete(video.resolve("f01.png"));
        assertThat(Cli.failsWith(Main.BAD_INPUT, "flow", "--model", model, "--video", video.toString(), "--out", out.toString()))
                .isEqualTo("perceiver flow: --video " + video + ": 1 frame; flow needs at least two\n");
        assertThat(out).doesNotExist();
    }

    /**
     * Memory does not grow with the sequence: a JVM flowing 50 frames peaks where one flowing 17 does, in native
     * memory (the tensors and patches) within 4 MB and in resident memory within 40 MB. Each 128x96 frame's patches
     * take 2.7 MB, so 50 frames held would add over 100 MB. Layers take a batch's rows in chunks across items, so a
     * pass's scratch grows with the batch's fill up to a chunk: both videos must fill the batch of 16 tiles, which 5
     * frames did not (native peak 24 MB at --batch 4, 41 MB at --batch 16, for 17, 50 and 100 frames alike). The
     * native peak is exact but for the kernels' warm-up, which allocates about 3 MB on a thread of its own while the
     * first model loads, overlapping the load's own allocations more or less. Both JVMs first run the 17 frames once,
     * so that the JIT's own memory is spent before the resident peak is measured; the heap is fixed and pre-touched.
     */
    @Test
    void memoryDoesNotGrowWithTheNumberOfFrames() throws Exception {
        Path few = writeFrames(tmp.resolve("few"), movingSquare(17, 128, 96));
        Path fifty = writeFrames(tmp.resolve("fifty"), movingSquare(50, 128, 96));
        List<String> warmUp = List.of("flow", "--model", MODEL.toString(), "--video", few.toString(), "--out",
                tmp.resolve("warm").toString(), "--overlap", "4", "--batch", "16", PeakRss.NEXT);
        PeakRss.Result[] peaks = new PeakRss.Result[2];
        for (int i = 0; i < 2; i++) {
            Path video = i == 0 ? few : fifty, out = tmp.resolve("out" + i);
            List<String> argv = new ArrayList<>(warmUp);
            argv.addAll(List.of("flow", "--model", MODEL.toString(), "--video", video.toString(), "--out", out.toString(),
                    "--overlap", "4", "--batch", "16"));
            peaks[i] = PeakRss.measure(argv.toArray(String[]::new));
            assertThat(peaks[i].code()).as(peaks[i].err()).isZero();
            try (var files = Files.list(out)) {
                assertThat(files.count()).isEqualTo(i == 0 ? 16 : 49);
            }
        }
        assertThat(peaks[1].nativePeakBytes()).as("native peak, 50 frames against 17 (%s)", peaks[0])
                .isLessThan(peaks[0].nativePeakBytes() + (4L << 20));
        assertThat(peaks[1].peakBytes()).as("peak resident bytes, 50 frames against 17 (%s)", peaks[0])
                .isLessThan(peaks[0].peakBytes() + (40L << 20));
    }

    /** The model's flow of each tile, blended, in pixels: the pair's flow computed directly. */
    static float[] expectedFlow(Perceiver model, RgbImage f0, RgbImage f1, Arena arena) {
        List<FlowTiling.Tile> tiles = new FlowTiling(12, 16, 4).plan(f0.height(), f0.width());
        FlowBlender blender = new FlowBlender(f0.height(), f0.width());
        for (FlowTiling.Tile t : tiles)
            blender.add(t, model.forward(PerceiverInputs.of(FlowInput.tilePatches(f0, f1, t, arena))).logitsTensor());
        float[] f = blender.result(arena).toArray();
        for (int i = 0; i < f.length; i++) f[i] *= FlowFiles.FLOW_SCALE_FACTOR;
        return f;
    }

    /** n frames of a random texture moving one pixel right per frame. */
    static List<RgbImage> movingTexture(int n, int width, int height) {
        int textureWidth = width + n;
        byte[] texture = new byte[textureWidth * height * 3];
        new Random(width * 31L + n).nextBytes(texture);
        List<RgbImage> frames = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] px = new byte[width * height * 3];
            for (int y = 0; y < height; y++)
                System.arraycopy(texture, (y * textureWidth + n - i) * 3, px, y * width * 3, width * 3);
            frames.add(new RgbImage(width, height, px));
        }
        return frames;
    }

    /**
     * n frames of a white 4x4 square moving one pixel right per frame over a still background, random but repeating
     * every 12x8 pixels (the stride of 16x12 tiles that overlap by 4): most tiles are alike, so that few run.
     */
    private static List<RgbImage> movingSquare(int n, int width, int height) {
        byte[] cell = new byte[12 * 8 * 3], background = new byte[width * height * 3];
        new Random(5).nextBytes(cell);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) System.arraycopy(cell, ((y % 8) * 12 + x % 12) * 3, background, (y * width + x) * 3, 3);
        List<RgbImage> frames = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] px = background.clone();
            for (int y = 4; y < 8; y++) Arrays.fill(px, (y * width + 4 + i) * 3, (y * width + 8 + i) * 3, (byte) 255);
            frames.add(new RgbImage(width, height, px));
        }
        return frames;
    }

    /** The frames as dir/f00.png, f01.png, ... */
    static Path writeFrames(Path dir, List<RgbImage> frames) throws Exception {
        Files.createDirectories(dir);
        for (int i = 0; i < frames.size(); i++) ImageFiles.writePng(frames.get(i), dir.resolve(String.format("f%02d.png", i)));
        return dir;
    }

    private static List<Map<?, ?>> json(Cli.Result r) {
        List<Map<?, ?>> lines = new ArrayList<>();
        for (String l : r.outLines()) lines.add((Map<?, ?>) Json.parse(l));
        return lines;
    }
}
