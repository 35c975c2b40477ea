package dev.perceiver.spark;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * A transformation of one input column into top-k predictions, batched: each input is encoded alone (a bad one costs
 * only its row), the good ones go through the model together, and each gets its results from its row of the logits.
 * It also serves as a SQL function of one argument ({@link #register}).
 *
 * @param <P> an encoded input (an image's pixels, a text's tokens)
 */
abstract sealed class TopKTransform<S extends TopKTransform<S, I, P>, I, P> extends PerceiverTransform<S, I>
        permits ImageClassifier, TextTransform {
    private static final long serialVersionUID = 1L;

    String inputCol;
    int topK = 5;

    TopKTransform(String model, String inputCol) {
        super(model, 8);
        this.inputCol = inputCol;
    }

    /** The column to read inputs from. */
    public S inputCol(String column) {
        this.inputCol = column;
        return self();
    }

    /** Candidates kept per prediction (default 5). */
    public S topK(int k) {
        if (k < 1) throw new IllegalArgumentException("topK must be at least 1, got " + k);
        this.topK = k;
        return self();
    }

    @Override
    List<String> inputCols() {
        return List.of(inputCol);
    }

    /** One input ready for the model; a bad one throws IllegalArgumentException or IOException, naming it. */
    abstract P encode(Perceiver model, Object prepared, I input, Arena arena) throws IOException;

    /** The logits of encoded inputs, [inputs, ...]. */
    abstract Tensor logits(Perceiver model, Object prepared, List<P> encoded, Arena arena);

    /** One good input's result values, from its row of the logits ({@link #ok}). */
    abstract Object[] result(Perceiver model, P encoded, Tensor logits);

    @Override
    final List<Object[]> infer(Perceiver model, Object prepared, List<I> inputs) {
        List<Object[]> results = new ArrayList<>(inputs.size());
        List<P> encoded = new ArrayList<>();
        List<Integer> good = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            for (I input : inputs) {
                try {
                    encoded.add(encode(model, prepared, input, arena));
                    good.add(results.size());
                    results.add(null);
                } catch (IllegalArgumentException | IOException e) { // InvalidInputException among them
                    results.add(failed(message(e)));
                }
            }
            if (encoded.isEmpty()) return results;
            Tensor logits = logits(model, prepared, encoded, arena);
            for (int i = 0; i < encoded.size(); i++)
                results.set(good.get(i), result(model, encoded.get(i), logits.select(0, i)));
        }
        return results;
    }

    /** The SQL function's one argument as an input; an argument of another type is refused ({@link #wrongType}). */
    abstract I udfInput(Object argument);

    @Override
    final I udfInput(Object[] arguments) {
        return udfInput(arguments[0]);
    }
}
