package dev.perceiver.task;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;

/**
 * Texts as the language models take them: UTF-8 bytes and special tokens, run as {@code [CLS] text [SEP]} padded to
 * max_position_embeddings with an attention mask, many texts per forward pass.
 */
public final class TextBatch {
    private TextBatch() {}

    /** The text's tokens (UTF-8 bytes, [MASK]s), refused unless they fit length positions with [CLS] and [SEP]. */
    public static int[] tokens(String text, int length) {
        if (text == null) throw new InvalidInputException("no text (null)");
        int[] tokens = PerceiverTokenizer.tokenize(text);
        if (tokens.length > length - 2)
            throw new InvalidInputException("the text is " + tokens.length + " tokens (UTF-8 bytes, a [MASK] counting one); "
                    + "this model takes at most " + (length - 2) + " (max_position_embeddings " + length
                    + " less [CLS] and [SEP])");
        return tokens;
    }

    /** The logits of [CLS] tokens [SEP] for each text (from {@link #tokens}), one row per text. */
    public static Tensor logits(Perceiver model, List<int[]> texts, Arena arena) {
        int length = model.config().maxPositionEmbeddings();
        long[] ids = new long[texts.size() * length];
        float[] mask = new float[ids.length];
        for (int b = 0; b < texts.size(); b++) {
            int[] t = texts.get(b);
            ids[b * length] = PerceiverTokenizer.CLS;
            for (int i = 0; i < t.length; i++) ids[b * length + 1 + i] = t[i];
            ids[b * length + 1 + t.length] = PerceiverTokenizer.SEP;
            Arrays.fill(mask, b * length, b * length + t.length + 2, 1f);
        }
        return model.forward(PerceiverInputs.ofTokens(LongTensor.of(ids, texts.size(), length))
                .attentionMask(Tensor.of(arena, mask, texts.size(), length))).logitsTensor();
    }

    /** Each text's tokens for a model, the first that does not fit refused. */
    static List<int[]> tokens(Perceiver model, List<String> texts) {
        return texts.stream().map(t -> tokens(t, model.config().maxPositionEmbeddings())).toList();
    }
}
