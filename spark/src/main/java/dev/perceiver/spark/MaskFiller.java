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

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Fill-mask (PerceiverForMaskedLM) over a string column, as {@code perceiver fill-mask} does it: adds {@code filled}
 * (the text with every [MASK] replaced by its most likely byte), {@code masks} (per [MASK]: its token position, the
 * [CLS] being 0, and its top candidates) and {@code error}. A text without [MASK] is a bad row.
 */
public final class MaskFiller extends PerceiverTransform<MaskFiller> {
    private static final long serialVersionUID = 1L;
    static final StructType MASK = new StructType().add("position", DataTypes.IntegerType, false).add("top", TOP, false);

    /** model: a model folder (see {@link ModelCache#resolve}); texts from column "value" (spark.read.text's) by default. */
    public MaskFiller(String model) {
        super(model, "value");
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
    List<Object[]> infer(Perceiver model, Object prepared, List<Row> batch, StructType inputSchema) {
        TextBatch texts = new TextBatch(batch, inputSchema.fieldIndex(inputCol), model.config().maxPositionEmbeddings());
        for (int i = texts.good.size() - 1; i >= 0; i--) {
            int[] ids = texts.encodings.get(i).inputIds();
            if (Arrays.stream(ids).noneMatch(t -> t == PerceiverTokenizer.MASK)) {
                texts.errors[texts.good.get(i)] = "the text has no [MASK] to fill in";
                texts.good.remove(i);
                texts.encodings.remove(i);
            }
        }
        List<Object[]> results = texts.results(this::failed);
        if (texts.good.isEmpty()) return results;
        try (Arena arena = Arena.ofConfined()) {
            Tensor logits = texts.logits(model, arena);
            for (int i = 0; i < texts.good.size(); i++) {
                PerceiverTokenizer.Encoding enc = texts.encodings.get(i);
                int tokens = 0;
                for (int m : enc.attentionMask()) tokens += m;
                int[] filled = Arrays.copyOfRange(enc.inputIds(), 1, tokens - 1);
                List<Row> masks = new ArrayList<>();
                for (int position = 1; position < tokens - 1; position++) {
                    if (enc.inputIds()[position] != PerceiverTokenizer.MASK) continue;
                    List<Prediction> top = SparkBridge.topK(logits.select(0, i).select(0, position).toArray(), topK,
                            SparkBridge::tokenText);
                    filled[position - 1] = top.getFirst().index();
                    masks.add(RowFactory.create(position, rows(top)));
                }
                results.set(texts.good.get(i), new Object[] {PerceiverTokenizer.decode(filled, false, false), seq(masks), null});
            }
        }
        return results;
    }
}
