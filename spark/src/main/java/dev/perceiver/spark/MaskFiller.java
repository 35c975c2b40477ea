package dev.perceiver.spark;

import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.List;

/**
 * Fill-mask (PerceiverForMaskedLM) over a string column, as {@code perceiver fill-mask} does it: adds {@code filled}
 * (the text with every [MASK] replaced by its most likely byte), {@code masks} (per [MASK]: its token position, the
 * [CLS] being 0, and its top candidates) and {@code error}. A text without [MASK] is a bad row.
 */
public final class MaskFiller extends TextTransform<MaskFiller> {
    private static final long serialVersionUID = 1L;
    static final StructType MASK = new StructType().add("position", DataTypes.IntegerType, false).add("top", TOP, false);

    /** model: a model folder (see {@link ModelCache#resolve}); texts from column "value" (spark.read.text's) by default. */
    public MaskFiller(String model) {
        super(model);
    }

    @Override
    StructType resultFields() {
        return new StructType().add("filled", DataTypes.StringType, true)
                .add("masks", DataTypes.createArrayType(MASK, false), true);
    }

    @Override
    Task task() {
        return Task.FILL_MASK;
    }

    @Override
    void check(int[] tokens) {
        dev.perceiver.task.MaskFiller.requireMask(tokens);
    }

    /** logits: [positions, vocabulary], position 0 being [CLS]. */
    @Override
    Object[] result(Perceiver model, int[] tokens, Tensor logits) {
        dev.perceiver.task.MaskFiller.Filled filled = dev.perceiver.task.MaskFiller.fill(tokens, logits, topK);
        List<Row> masks = filled.masks().stream().map(m -> RowFactory.create(m.position(), rows(m.top()))).toList();
        return ok(filled.text(), seq(masks));
    }
}
