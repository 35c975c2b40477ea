package dev.perceiver.cli;

import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.RgbImage;
import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * run --interpolate-pos-encoding on the golden_interp cases (transformers 4.42's interpolate_pos_encoding), and
 * classify --no-resize (each image at its own size) against the library.
 */
class InterpolatePosEncodingCliTest {
    static final Path GOLDEN_INTERP = Cli.TESTDATA.resolve("golden_interp");
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f}, STD = {0.229f, 0.224f, 0.225f};
    /** 48 wide, 64 high: neither model's training size. */
    private static final String IMAGE = "image4_48x64.png";

    @TempDir
    Path tmp;

    static Stream<String> cases() throws Exception {
        try (Stream<Path> dirs = Files.list(GOLDEN_INTERP)) {
            List<String> names = dirs.filter(d -> Files.exists(d.resolve("config.json")))
                    .map(d -> d.getFileName().toString()).sorted().toList();
            assertThat(names).contains("learned_32_to_48x40", "learned_32_to_24x24", "learned_16_at_16x16",
                    "learned_12_to_20x9");
            return names.stream();
        }
    }

    /** position_embeddings first (the resized table), then every output the case holds, within 1e-4 · max|want|. */
    @ParameterizedTest
    @MethodSource("cases")
    void runWithTheFlagMatchesTheGoldenOutputs(String name) {
        Path dir = GOLDEN_INTERP.resolve(name), golden = dir.resolve("golden.safetensors"), out = tmp.resolve("out.safetensors");
        Cli.Result r = Cli.run("run", "--quiet", "--model", dir.toString(), "--inputs", golden.toString(), "--output",
                out.toString(), "--all", "--interpolate-pos-encoding");
        assertThat(r.code()).as(r.err()).isZero();
        try (Checkpoint want = SafeTensorsFile.open(golden); Checkpoint got = SafeTensorsFile.open(out);
             Arena arena = Arena.ofConfined()) {
            List<String> names = new ArrayList<>(List.of("position_embeddings"));
            want.names().stream().filter(n -> !n.equals("inputs") && !n.equals("position_embeddings")).forEach(names::add);
            assertThat(names).contains("logits", "hidden_states.0", "attentions.0", "cross_attentions.0");
            for (String n : names) {
                assertThat(got.names()).as(n).contains(n);
                Tensor g = got.floats(n, arena), w = want.floats(n, arena);
                assertThat(g.shape()).as(n).isEqualTo(w.shape());
                float[] gv = g.toArray(), wv = w.toArray();
                double err = 0, max = 0;
                for (int i = 0; i < gv.length; i++) {
                    err = Math.max(err, Math.abs((double) gv[i] - wv[i]));
                    max = Math.max(max, Math.abs(wv[i]));
                }
                assertThat(err).as("%s of %s: max|got-want| against 1e-4·max|want|", n, name).isLessThanOrEqualTo(1e-4 * max);
            }
        }
    }

    @Test
    void withoutTheFlagAnotherSizeIsBadInputNamingTheFlag() {
        Path dir = GOLDEN_INTERP.resolve("learned_32_to_48x40");
        String err = Cli.failsWith(Main.BAD_INPUT, "run", "--quiet", "--model", dir.toString(), "--inputs",
                dir.resolve("golden.safetensors").toString(), "--output", tmp.resolve("o.safetensors").toString());
        assertThat(err).contains("1920 positions").contains("1024").contains("--interpolate-pos-encoding");
    }

    /** As the reference's forward raises TypeError for them: one line, a usage error, before any inference. */
    @ParameterizedTest
    @ValueSource(strings = {"image_fourier", "image_conv", "masked_lm"})
    void modelsWithoutATrainableImageTableRefuseTheFlag(String model) {
        String err = Cli.failsWith(Main.USAGE, "run", "--quiet", "--model", Cli.golden(model), "--inputs",
                Cli.GOLDEN.resolve(model).resolve("golden.safetensors").toString(), "--output",
                tmp.resolve("o.safetensors").toString(), "--interpolate-pos-encoding");
        assertThat(err).contains("--interpolate-pos-encoding").contains("no trainable image position table")
                .contains("PerceiverForImageClassificationLearned");
        assertThat(tmp.resolve("o.safetensors")).doesNotExist();
    }

    /**
     * classify --no-resize with the learned model (trained at 32x32) on a 48x64 image: the logits of the library
     * with interpolate_pos_encoding on the image's own pixels, rescaled and normalised only.
     */
    @Test
    void noResizeWithTheLearnedModelInterpolatesItsTable() throws Exception {
        Path dir = GOLDEN_INTERP.resolve("learned_32_to_48x40"), image = Cli.INPUTS.resolve(IMAGE);
        float[] logits = classifyJson(dir, image);
        float[] want = libraryLogits(dir, image, true);
        assertThat(logits).hasSameSizeAs(want);
        for (int i = 0; i < want.length; i++) assertThat(logits[i]).as("logit %d", i).isCloseTo(want[i], within(1e-5f));
        // Not what the default processing gives (resized to 32x32, the table as trained).
        Cli.Result resized = Cli.run("classify", "--model", dir.toString(), "--json", "--top-k", "10", image.toString());
        assertThat(resized.code()).as(resized.err()).isZero();
        assertThat(logitsOf(resized.outLines().getFirst())).isNotEqualTo(logits);
    }

    /** At the training size too, --no-resize uses the flag, which resamples the table (the +0.1). */
    @Test
    void noResizeAtTheTrainingSizeStillInterpolates() throws Exception {
        Path dir = GOLDEN_INTERP.resolve("learned_16_at_16x16"), image = tmp.resolve("square.png");
        RgbImage big = ImageFiles.read(Cli.INPUTS.resolve(IMAGE));
        byte[] px = new byte[16 * 16 * 3];
        for (int y = 0; y < 16; y++) System.arraycopy(big.pixels(), (y + 20) * 48 * 3 + 10 * 3, px, y * 16 * 3, 16 * 3);
        ImageFiles.writePng(new RgbImage(16, 16, px), image);
        float[] logits = classifyJson(dir, image), interpolated = libraryLogits(dir, image, true),
                asTrained = libraryLogits(dir, image, false);
        for (int i = 0; i < logits.length; i++) assertThat(logits[i]).isCloseTo(interpolated[i], within(1e-5f));
        assertThat(logits).isNotEqualTo(asTrained);
    }

    /** The Fourier and conv models take the image's own grid as it is, no flag. */
    @ParameterizedTest
    @ValueSource(strings = {"image_fourier", "image_conv"})
    void noResizeWithFourierAndConvModelsUsesTheImagesGrid(String model) throws Exception {
        Path dir = Cli.GOLDEN.resolve(model), image = Cli.INPUTS.resolve(IMAGE);
        float[] logits = classifyJson(dir, image), want = libraryLogits(dir, image, false);
        for (int i = 0; i < want.length; i++) assertThat(logits[i]).as("logit %d", i).isCloseTo(want[i], within(1e-5f));
    }

    /**
     * Images of several sizes in one --batch: each size is its own pass, each image gets its own logits; one too
     * small for the conv model's conv and max pool (4x4) gets an error line, the others still run (exit code 4).
     */
    @Test
    void mixedSizesAndOneTooSmallForTheConvModel() throws Exception {
        Path dir = Cli.GOLDEN.resolve("image_conv"), tiny = tmp.resolve("tiny_4x4.png");
        ImageFiles.writePng(new RgbImage(4, 4, new byte[4 * 4 * 3]), tiny);
        List<Path> images = List.of(Cli.INPUTS.resolve(IMAGE), tiny, Cli.INPUTS.resolve("frame0_16x12.png"),
                Cli.INPUTS.resolve(IMAGE));
        List<String> argv = new ArrayList<>(List.of("classify", "--model", dir.toString(), "--json", "--top-k", "10",
                "--batch", "8", "--no-resize", "--quiet"));
        images.forEach(p -> argv.add(p.toString()));
        Cli.Result r = Cli.run(argv.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.outLines()).hasSize(4);
        Map<?, ?> error = (Map<?, ?>) Json.parse(r.outLines().get(1));
        assertThat(error.get("file")).isEqualTo(tiny.toString());
        assertThat((String) error.get("error")).contains("4x4").contains("too small").contains("at least 5x5");
        for (int i : new int[] {0, 2, 3}) {
            float[] got = logitsOf(r.outLines().get(i)), want = libraryLogits(dir, images.get(i), false);
            for (int k = 0; k < want.length; k++) assertThat(got[k]).isCloseTo(want[k], within(1e-5f));
        }
    }

    /** classify --no-resize --json --top-k 10: the logits by class index. */
    private static float[] classifyJson(Path model, Path image) {
        Cli.Result r = Cli.run("classify", "--model", model.toString(), "--json", "--top-k", "10", "--no-resize",
                image.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.outLines()).hasSize(1);
        return logitsOf(r.outLines().getFirst());
    }

    private static float[] logitsOf(String jsonLine) {
        List<?> top = (List<?>) ((Map<?, ?>) Json.parse(jsonLine)).get("top");
        float[] logits = new float[top.size()];
        for (Object o : top) {
            Map<?, ?> p = (Map<?, ?>) o;
            logits[((Number) p.get("index")).intValue()] = ((Number) p.get("logit")).floatValue();
        }
        return logits;
    }

    /** The library on the image's own pixels: /255, then (v - mean)/std in float32, channels first. */
    private static float[] libraryLogits(Path modelDir, Path image, boolean interpolate) throws Exception {
        RgbImage img = ImageFiles.read(image);
        int h = img.height(), w = img.width();
        float[] v = new float[3 * h * w];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    v[(c * h + y) * w + x] = ((float) (img.get(x, y, c) / 255.0) - MEAN[c]) / STD[c];
        try (Perceiver model = Perceiver.load(modelDir, new Perceiver.Options(2, "cpu")); Arena arena = Arena.ofConfined()) {
            Tensor pixels = Tensor.of(arena, v, 1, 3, h, w);
            return model.forward(PerceiverInputs.of(pixels).interpolatePosEncoding(interpolate)).logitsTensor()
                    .select(0, 0).toArray();
        }
    }
}
