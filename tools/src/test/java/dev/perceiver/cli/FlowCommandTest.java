package dev.perceiver.cli;

import dev.perceiver.io.FlowFiles;
import dev.perceiver.io.FlowInput;
import dev.perceiver.io.FlowTiling;
import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.PillowResize;
import dev.perceiver.io.RgbImage;
import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

class FlowCommandTest {
    private static final Path MODEL = Cli.GOLDEN.resolve("optical_flow");

    @TempDir
    Path tmp;

    /**
     * Frames of exactly the model's train size (16x12) are one tile: the .flo holds the model's logits x 20, for
     * patches equal to the reference's. (optical_flow/golden.safetensors cannot be used end to end: its inputs are
     * random values, not patches of these frames; GoldenTest checks the model on them.)
     */
    @Test
    void oneTileIsTheModelsFlowInPixels() throws Exception {
        Path flo = tmp.resolve("flow.flo"), png = tmp.resolve("flow.png");
        Cli.Result r = Cli.run("flow", "--model", MODEL.toString(), Cli.input("frame0_16x12.png"),
                Cli.input("frame1_16x12.png"), "--out", flo.toString(), "--png", png.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("16x12 (1 tile)");
        RgbImage f0 = ImageFiles.read(Cli.INPUTS.resolve("frame0_16x12.png"));
        RgbImage f1 = ImageFiles.read(Cli.INPUTS.resolve("frame1_16x12.png"));
        try (Arena arena = Arena.ofConfined(); Perceiver model = Perceiver.load(MODEL, Perceiver.Options.DEFAULT);
             Checkpoint reference = SafeTensorsFile.open(Cli.INPUTS.resolve("golden.safetensors"))) {
            Tensor patches = FlowInput.patches(f0, f1, arena);
            float[] logits = model.forward(PerceiverInputs.of(patches)).logitsTensor().toArray();
            Tensor written = FlowFiles.readFlo(flo, arena);
            assertThat(written.shape()).containsExactly(12, 16, 2);
            float[] got = written.toArray();
            for (int i = 0; i < got.length; i++) assertThat(got[i]).isEqualTo(logits[i] * FlowFiles.FLOW_SCALE_FACTOR);

            // The command's input is the reference's: the patches transformers' test code makes of these frames.
            assertThat(patches.toArray()).isEqualTo(
                    reference.floats("flow_patches.frame0_16x12.png+frame1_16x12.png", arena).toArray());
            RgbImage picture = ImageFiles.read(png);
            assertThat(picture.pixels()).isEqualTo(FlowFiles.colorize(written).pixels());
        }
    }

    /**
     * 20x15 frames (the test frames resized) with --overlap 4 need 2x2 tiles. A corner pixel lies in one tile only, so
     * it is that tile's flow; the tiles batch three to a pass.
     */
    @Test
    void largerFramesAreTiledAndBlended() throws Exception {
        RgbImage f0 = PillowResize.bicubic(ImageFiles.read(Cli.INPUTS.resolve("frame0_16x12.png")), 20, 15);
        RgbImage f1 = PillowResize.bicubic(ImageFiles.read(Cli.INPUTS.resolve("frame1_16x12.png")), 20, 15);
        Path p0 = tmp.resolve("a.png"), p1 = tmp.resolve("b.png"), flo = tmp.resolve("big.flo");
        ImageFiles.writePng(f0, p0);
        ImageFiles.writePng(f1, p1);
        Cli.Result r = Cli.run("flow", "--model", MODEL.toString(), p0.toString(), p1.toString(), "--out", flo.toString(),
                "--overlap", "4", "--batch", "3");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("20x15 (4 tiles)");
        try (Arena arena = Arena.ofConfined(); Perceiver model = Perceiver.load(MODEL, Perceiver.Options.DEFAULT)) {
            Tensor written = FlowFiles.readFlo(flo, arena);
            assertThat(written.shape()).containsExactly(15, 20, 2);
            Tensor topLeft = tileFlow(model, f0, f1, new FlowTiling.Tile(0, 0, 12, 16), arena);
            Tensor bottomRight = tileFlow(model, f0, f1, new FlowTiling.Tile(3, 4, 12, 16), arena);
            for (int c = 0; c < 2; c++) {
                assertThat(written.get(0, 0, c)).isCloseTo(topLeft.get(0, 0, 0, c) * 20f, offset(1e-5f));
                assertThat(written.get(14, 19, c)).isCloseTo(bottomRight.get(0, 11, 15, c) * 20f, offset(1e-5f));
            }
        }
    }

    private static Tensor tileFlow(Perceiver model, RgbImage f0, RgbImage f1, FlowTiling.Tile tile, Arena arena) {
        return model.forward(PerceiverInputs.of(FlowInput.tilePatches(f0, f1, tile, arena))).logitsTensor();
    }

    @Test
    void refusesFramesOfDifferentSizes() {
        Cli.Result r = Cli.run("flow", "--model", MODEL.toString(), Cli.input("frame0_16x12.png"), Cli.input("image4_48x64.png"),
                "--out", tmp.resolve("x.flo").toString());
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).singleElement().asString().contains("frame0_16x12.png is 16x12")
                .contains("image4_48x64.png is 48x64").contains("same size");
    }

    @Test
    void refusesFramesSmallerThanTheTrainSize() throws Exception {
        Path small = tmp.resolve("small.png");
        ImageFiles.writePng(new RgbImage(8, 8, new byte[8 * 8 * 3]), small);
        Cli.Result r = Cli.run("flow", "--model", MODEL.toString(), small.toString(), small.toString(),
                "--out", tmp.resolve("x.flo").toString());
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).singleElement().asString().contains("8x8").contains("at least 16x12 (its train_size)");
    }
}
