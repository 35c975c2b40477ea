package dev.perceiver.cli;

import dev.perceiver.io.ImageProcessor;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.model.Head;
import dev.perceiver.spark.Prediction;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The command-line tool's image preparation and top-k, for the Spark jobs: one implementation serves both, so a
 * Spark row and {@code perceiver classify} agree by construction. (They would belong in the library; until they move
 * there, this class reaches them from inside their package.)
 */
public final class SparkBridge {
    private SparkBridge() {}

    /** The processor {@code perceiver classify} uses for this model folder (its preprocessor_config.json or defaults). */
    public static ImageProcessor imageProcessor(Path modelDir, PerceiverConfig config, Head head) throws IOException {
        return ImageInputs.processor(modelDir, config, head);
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
}
