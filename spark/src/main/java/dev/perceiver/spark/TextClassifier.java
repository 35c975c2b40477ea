package dev.perceiver.spark;

import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.task.Prediction;
import org.apache.spark.sql.types.StructType;


/**
 * Text classification (PerceiverForSequenceClassification) of a string column, as {@code perceiver classify-text}
 * does it: adds {@code top} and {@code error}.
 */
public final class TextClassifier extends TextTransform<TextClassifier> {
    private static final long serialVersionUID = 1L;

    /** model: a model folder (see {@link ModelCache#resolve}); texts from column "value" (spark.read.text's) by default. */
    public TextClassifier(String model) {
        super(model);
    }

    @Override
    StructType resultFields() {
        return new StructType().add("top", TOP, true);
    }

    @Override
    Task task() {
        return Task.CLASSIFY_TEXT;
    }

    @Override
    Object[] result(Perceiver model, int[] tokens, Tensor logits) {
        return ok(rows(Prediction.topK(logits.toArray(), topK, model.config()::label)));
    }
}
