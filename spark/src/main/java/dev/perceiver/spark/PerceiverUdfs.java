package dev.perceiver.spark;

import dev.perceiver.model.Head;
import dev.perceiver.task.ModelFolder;
import org.apache.spark.sql.SparkSession;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SQL functions for Spark SQL users, registered by one call:
 *
 * <pre>
 * PerceiverUdfs.register(spark, "/models/vision-perceiver-conv", "/models/language-perceiver");
 * spark.sql("SELECT path, perceiver_classify(path).top FROM images");
 * </pre>
 *
 * Each model gets the function of its head: {@value #CLASSIFY}(path or image bytes) for image classifiers,
 * {@value #CLASSIFY_TEXT}(text) for text classifiers, {@value #FILL_MASK}(text) for masked language models,
 * {@value #FLOW}(frame0, frame1, output folder) for optical flow. Each returns a struct of the matching
 * transformation's result columns and {@code error}, with its defaults (top 5, cpu; flow: overlap 20, 2 tiles per
 * pass); for other settings or names, register a transformation: {@code new TextClassifier(dir).topK(2)
 * .register(spark, "sentiment")}.
 */
public final class PerceiverUdfs {
    public static final String CLASSIFY = "perceiver_classify", CLASSIFY_TEXT = "perceiver_classify_text",
            FILL_MASK = "perceiver_fill_mask", FLOW = "perceiver_flow";

    private PerceiverUdfs() {}

    /**
     * Registers the function of each model (a folder as {@link ModelCache#resolve} takes it, which the driver reads
     * to learn the model's head) and returns their names. Two models of the same kind, or a head without a function
     * (multimodal), are refused before anything is registered.
     */
    public static List<String> register(SparkSession spark, String... models) {
        Map<String, PerceiverTransform<?, ?>> functions = new LinkedHashMap<>();
        Map<String, String> modelOf = new LinkedHashMap<>();
        for (String model : models) {
            Head head = Head.of(ModelFolder.read(ModelCache.resolve(model)).config().architecture());
            String name;
            PerceiverTransform<?, ?> function;
            switch (head.task()) {
                case CLASSIFY -> {
                    name = CLASSIFY;
                    function = new ImageClassifier(model);
                }
                case CLASSIFY_TEXT -> {
                    name = CLASSIFY_TEXT;
                    function = new TextClassifier(model);
                }
                case FILL_MASK -> {
                    name = FILL_MASK;
                    function = new MaskFiller(model);
                }
                case FLOW -> {
                    name = FLOW;
                    function = new FlowEstimator(model);
                }
                default -> throw new IllegalArgumentException("model " + model + " is a " + head.architecture()
                        + "; the SQL functions run image classification, text classification, fill-mask and optical"
                        + " flow models");
            }
            if (modelOf.containsKey(name))
                throw new IllegalArgumentException("models " + modelOf.get(name) + " and " + model + " would both be "
                        + name + "; register one under another name with its transformation's register(spark, name)");
            modelOf.put(name, model);
            functions.put(name, function);
        }
        functions.forEach((name, t) -> t.register(spark, name));
        return List.copyOf(functions.keySet());
    }
}
