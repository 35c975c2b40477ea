package dev.perceiver.spark;

import dev.perceiver.cli.SparkBridge;
import dev.perceiver.model.Head;
import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.sql.types.StructType;

import java.util.Set;

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
    Set<Head> heads() {
        return Set.of(Head.SEQUENCE_CLASSIFICATION);
    }

    @Override
    Object[] result(Perceiver model, int[] tokens, Tensor logits) {
        return ok(rows(SparkBridge.topK(logits.toArray(), topK, model.config()::label)));
    }
}
