package dev.perceiver.spark;

import dev.perceiver.cli.SparkBridge;
import dev.perceiver.model.Head;
import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Set;

/** Text classification (PerceiverForSequenceClassification) of a string column: adds {@code top} and {@code error}. */
public final class TextClassifier extends PerceiverTransform<TextClassifier> {
    private static final long serialVersionUID = 1L;

    /** model: a model folder (see {@link ModelCache#resolve}); texts from column "value" (spark.read.text's) by default. */
    public TextClassifier(String model) {
        super(model, "value");
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
    List<Object[]> infer(Perceiver model, Object prepared, List<Row> batch, StructType inputSchema) {
        TextBatch texts = new TextBatch(batch, inputSchema.fieldIndex(inputCol), model.config().maxPositionEmbeddings());
        List<Object[]> results = texts.results(this::failed);
        if (texts.good.isEmpty()) return results;
        try (Arena arena = Arena.ofConfined()) {
            Tensor logits = texts.logits(model, arena);
            for (int i = 0; i < texts.good.size(); i++)
                results.set(texts.good.get(i), new Object[] {rows(SparkBridge.topK(logits.select(0, i).toArray(), topK,
                        model.config()::label)), null});
        }
        return results;
    }
}
