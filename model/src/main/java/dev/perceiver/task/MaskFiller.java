package dev.perceiver.task;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fill-mask with PerceiverForMaskedLM. The model works on UTF-8 bytes: each [MASK] hides one byte, so a text has as
 * many [MASK]s as the hidden text has bytes.
 */
public final class MaskFiller extends TaskModel {

    /** One [MASK]: its token position ([CLS] being 0) and its most likely tokens, labelled by {@link #tokenText}. */
    public record Mask(int position, List<Prediction> top) {
        /** The most likely token id. */
        public int best() {
            return top.getFirst().index();
        }
    }

    /** A text's [MASK]s in order, and the text with each replaced by its most likely byte (decoded as UTF-8). */
    public record Filled(String text, List<Mask> masks) {}

    private MaskFiller(Perceiver model) {
        super(model, Task.FILL_MASK);
    }

    public static MaskFiller open(Path dir) {
        return open(dir, Perceiver.Options.DEFAULT);
    }

    /** The model in folder dir; a model of another task is refused before its weights are read. */
    public static MaskFiller open(Path dir, Perceiver.Options options) {
        return new MaskFiller(load(dir, options, Task.FILL_MASK));
    }

    /** A loaded model of this task, which closing this closes. */
    public static MaskFiller of(Perceiver model) {
        return new MaskFiller(model);
    }

    /** text's [MASK]s filled in, with k candidates each; a text without [MASK] or too long for the model is refused. */
    public Filled fill(String text, int k) {
        return fill(List.of(text), k).getFirst();
    }

    /** Each text filled in, in one forward pass. */
    public List<Filled> fill(List<String> texts, int k) {
        List<int[]> tokens = TextBatch.tokens(model, texts);
        tokens.forEach(MaskFiller::requireMask);
        try (Arena arena = Arena.ofConfined()) {
            Tensor logits = TextBatch.logits(model, tokens, arena);
            List<Filled> out = new ArrayList<>(texts.size());
            for (int i = 0; i < texts.size(); i++) out.add(fill(tokens.get(i), logits.select(0, i), k));
            return out;
        }
    }

    /** The [MASK]s of tokens (from {@link TextBatch#tokens}) filled from the text's logits [positions, vocabulary]. */
    public static Filled fill(int[] tokens, Tensor logits, int k) {
        int[] filled = tokens.clone();
        List<Mask> masks = new ArrayList<>();
        for (int position = 1; position <= tokens.length; position++) {
            if (tokens[position - 1] != PerceiverTokenizer.MASK) continue;
            Mask m = new Mask(position, Prediction.topK(logits.select(0, position).toArray(), k, MaskFiller::tokenText));
            filled[position - 1] = m.best();
            masks.add(m);
        }
        return new Filled(PerceiverTokenizer.decode(filled, false, false), List.copyOf(masks));
    }

    /** A text without [MASK] has nothing to fill in: bad input. */
    public static void requireMask(int[] tokens) {
        if (Arrays.stream(tokens).noneMatch(t -> t == PerceiverTokenizer.MASK))
            throw new InvalidInputException("the text has no [MASK] to fill in");
    }

    /** A token as the tokenizer decodes it alone: a special token's name, a byte's character or U+FFFD. */
    public static String tokenText(int id) {
        return PerceiverTokenizer.decode(new int[] {id}, false, false);
    }
}
