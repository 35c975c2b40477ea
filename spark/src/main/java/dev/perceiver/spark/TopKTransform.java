package dev.perceiver.spark;

import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A transformation of one input column into top-k predictions, batched: each input is encoded alone (a bad one costs
 * only its row), the good ones go through the model together, and each gets its results from its row of the logits.
 * It also serves as a SQL function ({@link #register}).
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

    /** The SQL function's argument as an input; an argument of another type is refused ({@link #wrongType}). */
    abstract I udfInput(Object argument);

    /** The refusal of a SQL function's argument: "takes WANTED, got a TYPE". */
    static IllegalArgumentException wrongType(String wanted, Object argument) {
        return new IllegalArgumentException("takes " + wanted + ", got a " + argument.getClass().getSimpleName());
    }

    /**
     * Registers this transformation, as it is now set up, as the SQL function name(x): x is what the input column
     * holds, and the function returns struct&lt;result columns, error&gt;, a bad input giving its error. Spark calls a
     * Java function row by row, so each call is one forward pass (the Dataset transformation batches).
     */
    public void register(SparkSession spark, String name) {
        spark.udf().register(name, new Udf<>(name, copy()), resultFields().add(ERROR, DataTypes.StringType, true));
    }

    /** A copy, so that later setters do not change a registered function. */
    @SuppressWarnings("unchecked")
    private TopKTransform<?, I, P> copy() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(this);
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                return (TopKTransform<?, I, P>) in.readObject();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A registered SQL function: each task gets its own copy, which opens the JVM's shared model on first use. */
    private static final class Udf<I, P> implements UDF1<Object, Row> {
        private static final long serialVersionUID = 1L;
        private final String name;
        private final TopKTransform<?, I, P> transform;
        private transient Opened opened;

        Udf(String name, TopKTransform<?, I, P> transform) {
            this.name = name;
            this.transform = transform;
        }

        @Override
        public Row call(Object argument) {
            if (opened == null) opened = transform.open();
            I input;
            try {
                input = transform.udfInput(argument);
            } catch (IllegalArgumentException e) {
                return RowFactory.create(transform.failed(name + " " + e.getMessage()));
            }
            return RowFactory.create(transform.infer(opened.model(), opened.prepared(),
                    Collections.singletonList(input)).getFirst());
        }
    }
}
