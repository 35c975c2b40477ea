package dev.perceiver.spark;

import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.sql.Row;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A batch of texts through a text model: each text encoded as fill-mask and run do it ([CLS] text [SEP], padded to
 * max_position_embeddings, with an attention mask); a text that does not fit or is null is a bad row.
 */
final class TextBatch {
    /** The texts that encoded (their row numbers in good), their encodings, and each row's error or null. */
    final List<Integer> good = new ArrayList<>();
    final List<PerceiverTokenizer.Encoding> encodings = new ArrayList<>();
    final String[] errors;

    TextBatch(List<Row> batch, int column, int length) {
        errors = new String[batch.size()];
        for (int r = 0; r < batch.size(); r++) {
            Row row = batch.get(r);
            if (row.isNullAt(column)) {
                errors[r] = "no text (null)";
                continue;
            }
            try {
                encodings.add(PerceiverTokenizer.encode(row.getString(column), length, PerceiverTokenizer.Overflow.ERROR));
                good.add(r);
            } catch (IllegalArgumentException e) {
                errors[r] = e.getMessage();
            }
        }
    }

    /** One result per row: failed(error) for the bad ones, null (to be filled in) for the good. */
    List<Object[]> results(Function<String, Object[]> failed) {
        List<Object[]> results = new ArrayList<>(errors.length);
        for (String error : errors) results.add(error == null ? null : failed.apply(error));
        return results;
    }

    /** Logits of the good texts, [good, ...], allocated in arena. */
    Tensor logits(Perceiver model, Arena arena) {
        int n = encodings.size(), length = encodings.getFirst().inputIds().length;
        long[] ids = new long[n * length];
        float[] mask = new float[n * length];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < length; t++) {
                ids[i * length + t] = encodings.get(i).inputIds()[t];
                mask[i * length + t] = encodings.get(i).attentionMask()[t];
            }
        return model.forward(PerceiverInputs.ofTokens(LongTensor.of(ids, n, length))
                .attentionMask(Tensor.of(arena, mask, n, length))).logitsTensor();
    }
}
