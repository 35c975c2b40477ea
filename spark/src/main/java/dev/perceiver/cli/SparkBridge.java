package dev.perceiver.cli;

import dev.perceiver.io.ImageProcessor;
import dev.perceiver.io.RgbImage;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.model.Head;
import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.spark.Prediction;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The command-line tool's input preparation, forward passes, top-k, flow tiling and error wording, for the Spark
 * jobs: one implementation serves both, so a Spark row and the perceiver command agree by construction. (They would
 * belong in the library; until they move there, this class reaches them from inside their package.)
 */
public final class SparkBridge {
    private SparkBridge() {}

    /** The processor {@code perceiver classify} uses for this model folder (its preprocessor_config.json or defaults). */
    public static ImageProcessor imageProcessor(Path modelDir, PerceiverConfig config, Head head) throws IOException {
        return ImageInputs.processor(modelDir, config, head);
    }

    /** One image's pixel values as perceiver classify prepares them; a bad image is an InvalidInputException naming it. */
    public static Tensor prepareImage(ImageProcessor processor, Path file, Arena arena) throws IOException {
        return ClassifyCommand.prepare(processor, file, false, arena);
    }

    /** Prepared images as one batch, [images, 3, height, width]. */
    public static Tensor stackImages(List<Tensor> images, Arena arena) {
        return ClassifyCommand.stack(images, arena);
    }

    /** Decodes an image; a file that is not a readable image is an InvalidInputException naming it. */
    public static RgbImage readImage(Path file) throws IOException {
        return ImageInputs.read(file);
    }

    /** An I/O failure as the perceiver command words it: the file and the reason. */
    public static String describe(IOException e) {
        return PathChecks.describe(e);
    }

    /** The k most likely classes of one row of logits, most likely first, scored by softmax. */
    public static List<Prediction> topK(float[] logits, int k, IntFunction<String> label) {
        return Predictions.topK(logits, k, label).stream()
                .map(p -> new Prediction(p.index(), p.label(), p.logit(), p.probability())).toList();
    }

    /** A token's text as fill-mask shows it: a special token's name, a byte's character or U+FFFD. */
    public static String tokenText(int id) {
        return FillMaskCommand.tokenText(id);
    }

    /** A text's tokens (UTF-8 bytes, [MASK]s), refused (InvalidInputException) if they do not fit with [CLS] and [SEP]. */
    public static int[] textTokens(String text, int length) {
        return TextInputs.tokens(text, length);
    }

    /** Refuses (InvalidInputException) tokens without a [MASK], as fill-mask does. */
    public static void requireMask(int[] tokens) {
        FillMaskCommand.requireMask(tokens);
    }

    /** The logits of [CLS] tokens [SEP] for each text, padded to length with an attention mask. */
    public static Tensor textLogits(Perceiver model, List<int[]> texts, int length, Arena arena) {
        return TextInputs.forward(model, texts, length, arena);
    }

    /** perceiver flow's --overlap for this model: requested, or for -1 its default; too large is a UsageException. */
    public static int flowOverlap(Perceiver model, int requested) {
        return FlowCommand.overlap(model, requested);
    }

    /**
     * The flow in pixels [H, W, 2] that perceiver flow writes for these frames; frames of different sizes or smaller
     * than the model's tiles are an InvalidInputException naming them.
     */
    public static Tensor flow(Perceiver model, String name0, RgbImage frame0, String name1, RgbImage frame1, int overlap,
                              int batch, Arena arena) {
        FlowCommand.sameSize(name0, frame0, name1, frame1);
        return FlowCommand.flow(model, frame0, frame1, FlowCommand.tiles(model, frame0, overlap), batch, arena, () -> {});
    }
}
