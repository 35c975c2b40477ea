package dev.perceiver.spark;

import dev.perceiver.cli.SparkBridge;
import dev.perceiver.io.InvalidInputException;
import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

import java.lang.foreign.Arena;
import java.util.List;

/**
 * A text model over a string column (default {@code value}, as spark.read.text gives), each text run as the text
 * commands run it ([CLS] text [SEP], padded to max_position_embeddings, with an attention mask); a null text or one
 * that does not fit is a bad row.
 */
abstract sealed class TextTransform<S extends TextTransform<S>> extends TopKTransform<S, String, int[]>
        permits TextClassifier, MaskFiller {
    private static final long serialVersionUID = 1L;

    TextTransform(String model) {
        super(model, "value");
    }

    @Override
    String input(Row row, StructType schema) {
        int at = schema.fieldIndex(inputCol);
        return row.isNullAt(at) ? null : row.getString(at);
    }

    @Override
    String udfInput(Object argument) {
        if (argument == null || argument instanceof String) return (String) argument;
        throw wrongType("a string (the text)", argument);
    }

    /** Refuses a text the task cannot run (an IllegalArgumentException); none by default. */
    void check(int[] tokens) {
    }

    /** The text's tokens: UTF-8 bytes and [MASK]s, without [CLS] and [SEP]. */
    @Override
    final int[] encode(Perceiver model, Object prepared, String text, Arena arena) {
        if (text == null) throw new InvalidInputException("no text (null)");
        int[] tokens = SparkBridge.textTokens(text, model.config().maxPositionEmbeddings());
        check(tokens);
        return tokens;
    }

    @Override
    final Tensor logits(Perceiver model, List<int[]> encoded, Arena arena) {
        return SparkBridge.textLogits(model, encoded, model.config().maxPositionEmbeddings(), arena);
    }
}
