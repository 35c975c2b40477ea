package dev.perceiver.spark;

import dev.perceiver.cli.SparkBridge;
import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.model.Head;
import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

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
    Set<Head> heads() {
        return Set.of(Head.MASKED_LM);
    }

    @Override
    void check(int[] tokens) {
        SparkBridge.requireMask(tokens);
    }

    /** logits: [positions, vocabulary], position 0 being [CLS]. */
    @Override
    Object[] result(Perceiver model, int[] tokens, Tensor logits) {
        int[] filled = tokens.clone();
        List<Row> masks = new ArrayList<>();
        for (int position = 1; position <= tokens.length; position++) {
            if (tokens[position - 1] != PerceiverTokenizer.MASK) continue;
            List<Prediction> top = SparkBridge.topK(logits.select(0, position).toArray(), topK, SparkBridge::tokenText);
            filled[position - 1] = top.getFirst().index();
            masks.add(RowFactory.create(position, rows(top)));
        }
        return ok(PerceiverTokenizer.decode(filled, false, false), seq(masks));
    }
}
