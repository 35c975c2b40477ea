package dev.perceiver.cli;

import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.ImageProcessor;
import dev.perceiver.io.PillowResize;
import dev.perceiver.io.PreprocessorConfig;
import dev.perceiver.io.RgbImage;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.task.ModelFolder;
import dev.perceiver.task.Prediction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ClassifyCommandTest {
    private static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406}, IMAGENET_STD = {0.229, 0.224, 0.225};
    private static final List<String> IMAGES = List.of("image1_300x500.png", "image4_48x64.png");

    @TempDir
    Path tmp;

    /**
     * The Fourier and conv models at a small size set by preprocessor_config.json (224x224 would make the test
     * slow): every class in --json, compared with the library's logits for the same preprocessed image alone.
     */
    @ParameterizedTest
    @CsvSource({"image_fourier, 16, 18", "image_conv, 32, 36"})
    void jsonHasEveryClassWithTheLibrarysLogits(String model, int size, int crop) throws Exception {
        Path dir = Cli.copyModel(model, tmp.resolve(model), "model.safetensors");
        Files.writeString(dir.resolve(PreprocessorConfig.FILE), """
                {"do_center_crop": true, "crop_size": {"height": %d, "width": %d}, "do_resize": true,
                 "size": %d, "resample": 3, "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}
                """.formatted(crop, crop, size));
        Cli.Result r = Cli.run("classify", "--model", dir.toString(), "--json", "--top-k", "10",
                Cli.input(IMAGES.get(0)), Cli.input(IMAGES.get(1)));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.outLines()).hasSize(2);
        ImageProcessor processor = new ImageProcessor(size, size, crop, crop, IMAGENET_MEAN, IMAGENET_STD);
        for (int i = 0; i < 2; i++) {
            Map<?, ?> line = (Map<?, ?>) Json.parse(r.outLines().get(i));
            assertThat(line.get("file")).isEqualTo(Cli.input(IMAGES.get(i)));
            List<?> top = (List<?>) line.get("top");
            assertThat(top).hasSize(10);
            float[] logits = libraryLogits(dir, processor, Cli.INPUTS.resolve(IMAGES.get(i)));
            double sum = 0;
            for (Object o : top) {
                Map<?, ?> p = (Map<?, ?>) o;
                int index = ((Number) p.get("index")).intValue();
                assertThat(p.get("label")).isEqualTo("LABEL_" + index);
                assertThat(((Number) p.get("logit")).floatValue()).isCloseTo(logits[index], within(1e-5f));
                sum += ((Number) p.get("probability")).doubleValue();
            }
            assertThat(sum).isCloseTo(1.0, within(1e-6));
            assertThat(((Number) ((Map<?, ?>) top.getFirst()).get("index")).intValue()).isEqualTo(argmax(logits));
            assertThat(((Number) ((Map<?, ?>) top.get(0)).get("probability")).doubleValue())
                    .isGreaterThanOrEqualTo(((Number) ((Map<?, ?>) top.get(1)).get("probability")).doubleValue());
        }
    }

    /** Text output: the file, then top-k lines "probability  label (index)", most likely first. */
    @Test
    void textOutputListsTopKPerImage() throws Exception {
        Cli.Result r = Cli.run("classify", "--model", Cli.golden("image_learned"), "--top-k", "3", Cli.input("image4_48x64.png"));
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.outLines();
        assertThat(lines).hasSize(4);
        assertThat(lines.getFirst()).isEqualTo(Cli.input("image4_48x64.png"));
        float[] logits = libraryLogits(Cli.GOLDEN.resolve("image_learned"),
                new ImageProcessor(12, 12, 14, 14, IMAGENET_MEAN, IMAGENET_STD), Cli.INPUTS.resolve("image4_48x64.png"));
        double[] p = Prediction.softmax(logits);
        int best = argmax(logits);
        assertThat(lines.get(1)).isEqualTo(String.format(Locale.ROOT, "  %.4f  LABEL_%d (%d)", p[best], best, best));
        assertThat(lines.subList(1, 4)).allMatch(l -> l.matches(" {2}\\d\\.\\d{4} {2}LABEL_\\d \\(\\d\\)"));
    }

    /** Without preprocessor_config.json the Fourier and conv models get the checkpoints' 224-from-256 processing. */
    @Test
    void defaultProcessorIsTheCheckpointsOne() throws Exception {
        RgbImage image = ImageFiles.read(Cli.INPUTS.resolve("image1_300x500.png"));
        Path dir = Cli.GOLDEN.resolve("image_conv");
        ImageProcessor processor = ModelFolder.read(dir).imageProcessor();
        assertThat(processor.cropAndResize(image).pixels()).isEqualTo(ImageProcessor.perceiverDefaults().cropAndResize(image).pixels());
    }

    /** preprocessor_config.json switches and the one resampling filter the engine has. */
    @Test
    void preprocessorConfigSwitchesAndRefusals() throws Exception {
        RgbImage image = ImageFiles.read(Cli.INPUTS.resolve("image4_48x64.png"));
        Path config = tmp.resolve(PreprocessorConfig.FILE);
        Files.writeString(config, "{\"size\": {\"height\": 20, \"width\": 10}, \"do_center_crop\": false, \"image_mean\": 0.5}");
        RgbImage resized = PreprocessorConfig.read(config).cropAndResize(image);
        assertThat(resized.pixels()).isEqualTo(PillowResize.bicubic(image, 10, 20).pixels());
        Files.writeString(config, "{\"resample\": 2}");
        assertThatThrownBy(() -> PreprocessorConfig.read(config)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(config.toString()).hasMessageContaining("resample 2").hasMessageContaining("bicubic");
        Files.writeString(config, "{\"crop_size\": \"big\"}");
        assertThatThrownBy(() -> PreprocessorConfig.read(config)).hasMessageContaining("crop_size must be an integer");
    }

    /** The learned-position model takes image_size² = 144 positions: images are made 12x12 (from a 14 crop). */
    @Test
    void learnedModelTakesImagesAtItsImageSize() throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("pictures"));
        Files.copy(Cli.INPUTS.resolve("image4_48x64.png"), folder.resolve("b.png"));
        Files.copy(Cli.INPUTS.resolve("frame0_16x12.png"), folder.resolve("a.png"));
        Files.writeString(folder.resolve("notes.txt"), "not an image");
        Cli.Result r = Cli.run("classify", "--model", Cli.golden("image_learned"), "--json", "--top-k", "1", "--batch", "1",
                folder.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.outLines()).hasSize(2);
        ImageProcessor processor = new ImageProcessor(12, 12, 14, 14, IMAGENET_MEAN, IMAGENET_STD);
        for (int i = 0; i < 2; i++) {
            Path file = folder.resolve(i == 0 ? "a.png" : "b.png");
            Map<?, ?> line = (Map<?, ?>) Json.parse(r.outLines().get(i));
            assertThat(line.get("file")).isEqualTo(file.toString());
            Map<?, ?> top = (Map<?, ?>) ((List<?>) line.get("top")).getFirst();
            float[] logits = libraryLogits(Cli.GOLDEN.resolve("image_learned"), processor, file);
            assertThat(((Number) top.get("index")).intValue()).isEqualTo(argmax(logits));
            assertThat(((Number) top.get("logit")).floatValue()).isCloseTo(logits[argmax(logits)], within(1e-5f));
        }
    }

    /**
     * A 2x2 image is cropped to its top-left pixel and resized up (so it classifies as a plain image of that colour);
     * a 1x1 image gets its own error line; a CMYK JPEG (the JDK's writer, no Adobe marker) classifies as the RGB the
     * library reads from it.
     */
    @Test
    void tinyImagesAndCmykJpegs() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("tiny"));
        byte[] tiny = {10, (byte) 200, 30, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        ImageFiles.writePng(new RgbImage(2, 2, tiny), dir.resolve("a_2x2.png"));
        ImageFiles.writePng(new RgbImage(1, 1, new byte[]{1, 2, 3}), dir.resolve("b_1x1.png"));
        WritableRaster cmyk = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, 20, 16, 4, null);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 20; x++) cmyk.setPixel(x, y, new int[]{x * 12, y * 15, (x + y) * 7, x * y % 90});
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(dir.resolve("c_cmyk.jpg").toFile())) {
            writer.setOutput(out);
            writer.write(new IIOImage(cmyk, null, null));
        } finally {
            writer.dispose();
        }
        Cli.Result r = Cli.run("classify", "--model", Cli.golden("image_learned"), "--json", "--top-k", "1", dir.toString());
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        List<Map<?, ?>> lines = r.outLines().stream().<Map<?, ?>>map(l -> (Map<?, ?>) Json.parse(l)).toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1).get("file")).isEqualTo(dir.resolve("b_1x1.png").toString());
        assertThat(lines.get(1).get("error")).isEqualTo("1x1 image is too small: its centre crop"
                + " (12/14 of the shorter side) would be 0x0 pixels; the shorter side must be at least 2 pixels");

        ImageProcessor processor = new ImageProcessor(12, 12, 14, 14, IMAGENET_MEAN, IMAGENET_STD);
        byte[] plain = new byte[12 * 12 * 3];
        for (int i = 0; i < plain.length; i++) plain[i] = tiny[i % 3];
        Path plainPng = tmp.resolve("plain.png"), cmykPng = tmp.resolve("cmyk.png");
        ImageFiles.writePng(new RgbImage(12, 12, plain), plainPng);
        RgbImage cmykRgb = ImageFiles.read(dir.resolve("c_cmyk.jpg"));
        ImageFiles.writePng(cmykRgb, cmykPng);
        Path[] same = {plainPng, null, cmykPng};
        for (int i : new int[]{0, 2}) {
            float[] logits = libraryLogits(Cli.GOLDEN.resolve("image_learned"), processor, same[i]);
            Map<?, ?> top = (Map<?, ?>) ((List<?>) lines.get(i).get("top")).getFirst();
            assertThat(((Number) top.get("index")).intValue()).isEqualTo(argmax(logits));
            assertThat(((Number) top.get("logit")).floatValue()).isEqualTo(logits[argmax(logits)]);
        }
        // The JDK writes the samples as they are and reads them back inverted, as Pillow does with every 4-channel
        // JPEG; pixel (0, 0) is C=M=Y=K=0 on disk, so 255 inverted: K=255 makes it black.
        assertThat(cmykRgb.get(0, 0, 0)).isZero();
    }

    private static float[] libraryLogits(Path modelDir, ImageProcessor processor, Path image) throws Exception {
        try (Perceiver model = Perceiver.load(modelDir, Perceiver.Options.DEFAULT); Arena arena = Arena.ofConfined()) {
            Tensor pixels = processor.preprocessFiles(List.of(image), arena);
            return model.forward(PerceiverInputs.of(pixels)).logitsTensor().select(0, 0).toArray();
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
