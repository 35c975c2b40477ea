package dev.perceiver.spark;

import dev.perceiver.cli.SparkBridge;
import dev.perceiver.model.Head;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;
import dev.perceiver.task.Prediction;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import scala.collection.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A Dataset transformation that runs one model over its input columns: every input row comes out once, with the
 * input's other columns, the task's result columns and an {@code error} column. A bad input fills only its own
 * row's error (its result columns null); a problem with the model itself fails the job.
 *
 * <p>Only the model's location travels to the executors; each executor JVM opens the model once
 * ({@link ModelCache}) and its tasks share it. Rows go through the model {@code batchSize} at a time.
 *
 * @param <S> the concrete transformation, for chained setters
 * @param <I> what the task reads of one row (a text, an image, a pair of frames)
 */
public abstract sealed class PerceiverTransform<S extends PerceiverTransform<S, I>, I> implements Serializable
        permits TopKTransform, FlowEstimator {
    private static final long serialVersionUID = 1L;
    /** The column that holds a bad row's one-line reason; null in a good row. */
    public static final String ERROR = "error";

    final String model;
    int batchSize;
    String device = "cpu";

    PerceiverTransform(String model, int batchSize) {
        this.model = model;
        this.batchSize = batchSize;
    }

    /** Inputs per forward pass. */
    public S batchSize(int size) {
        if (size < 1) throw new IllegalArgumentException("batchSize must be at least 1, got " + size);
        this.batchSize = size;
        return self();
    }

    /** Where the engine runs on each executor: cpu (default), gpu or auto. */
    public S device(String device) {
        this.device = device;
        return self();
    }

    @SuppressWarnings("unchecked")
    final S self() {
        return (S) this;
    }

    /** The string columns the task reads. */
    abstract List<String> inputCols();

    /** The input columns that are not copied to the output (e.g. image bytes). */
    Set<String> dropped() {
        return Set.of();
    }

    /** The task's result columns, before {@code error}. */
    abstract StructType resultFields();

    /** The heads this transformation runs. */
    abstract Task task();

    /** Per task: what the batches need besides the model (e.g. the image processor), made on the executor. */
    Object prepare(Perceiver model) {
        return null;
    }

    /** What the task reads of one row. */
    abstract I input(Row row, StructType schema);

    /**
     * The result values of each input, in order: the result columns then the error ({@link #ok}, {@link #failed}). A
     * bad input gets nulls and its error; an exception fails the job.
     */
    abstract List<Object[]> infer(Perceiver model, Object prepared, List<I> inputs);

    /** The schema transform returns for input: input's columns (less dropped ones), the results, then error. */
    public StructType outputSchema(StructType input) {
        for (String column : inputCols()) requireColumn(input, column, DataTypes.StringType);
        StructType out = new StructType();
        for (StructField f : input.fields()) if (!dropped().contains(f.name())) out = out.add(f);
        for (StructField f : resultFields().fields()) out = out.add(f);
        return out.add(ERROR, DataTypes.StringType, true);
    }

    static void requireColumn(StructType schema, String column, DataType type) {
        if (!Arrays.asList(schema.fieldNames()).contains(column))
            throw new IllegalArgumentException("no column '" + column + "' in the input; it has " + String.join(", ",
                    schema.fieldNames()));
        DataType found = schema.apply(column).dataType();
        if (!found.equals(type))
            throw new IllegalArgumentException("column '" + column + "' is " + found.simpleString() + "; it must be "
                    + type.simpleString());
    }

    /** Adds the result and error columns to every row of input. */
    public Dataset<Row> transform(Dataset<Row> input) {
        StructType in = input.schema(), out = outputSchema(in);
        return input.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> run(rows, in), Encoders.row(out));
    }

    private Iterator<Row> run(Iterator<Row> rows, StructType in) {
        // An empty partition opens nothing.
        if (!rows.hasNext()) return Collections.emptyIterator();
        Opened opened = open();
        int[] kept = IntStream.range(0, in.size())
                .filter(i -> !dropped().contains(in.fields()[i].name())).toArray();
        return Batches.map(rows, batchSize, batch -> {
            List<Object[]> results = infer(opened.model(), opened.prepared(), batch.stream().map(r -> input(r, in)).toList());
            List<Row> out = new ArrayList<>(batch.size());
            for (int r = 0; r < batch.size(); r++) {
                Object[] res = results.get(r);
                Object[] values = new Object[kept.length + res.length];
                for (int i = 0; i < kept.length; i++) values[i] = batch.get(r).get(kept[i]);
                System.arraycopy(res, 0, values, kept.length, res.length);
                out.add(RowFactory.create(values));
            }
            return out;
        });
    }

    /** The model of this JVM's cache and what the task prepared for it. */
    record Opened(Perceiver model, Object prepared) {}

    /** In a task: the shared model, with the engine threads spark.task.cpus asks for, checked and prepared. */
    Opened open() {
        TaskContext task = TaskContext.get();
        int threads = task == null ? 0 : EngineThreads.poolThreads(SparkEnv.get().conf(), task.cpus());
        Perceiver m = ModelCache.get(model, new Perceiver.Options(threads, device));
        if (m.head().task() != task())
            throw new IllegalArgumentException("model " + model + " is a " + m.head().architecture() + "; "
                    + getClass().getSimpleName() + " runs " + task().heads().stream().map(Head::architecture)
                    .collect(Collectors.joining(" or ")));
        return new Opened(m, prepare(m));
    }

    /** A good input's result values: the results, then no error. */
    static Object[] ok(Object... results) {
        Object[] values = Arrays.copyOf(results, results.length + 1);
        values[results.length] = null;
        return values;
    }

    /** A bad input's result values: nulls, then its error. */
    Object[] failed(String error) {
        Object[] values = new Object[resultFields().size() + 1];
        values[values.length - 1] = error;
        return values;
    }

    /** An input's error as perceiver prints it: an I/O failure as its file and reason. */
    static String message(Exception e) {
        return e instanceof IOException io ? SparkBridge.describe(io) : String.valueOf(e.getMessage());
    }

    /** A local (or NFS) path or file: URI as a path; other schemes are not read directly (hint says how instead). */
    static Path localPath(String name, String hint) throws IOException {
        if (!name.contains(":")) return Path.of(name);
        URI uri = URI.create(name);
        if ("file".equals(uri.getScheme())) return Path.of(uri);
        throw new IOException(name + ": only local paths and file: URIs are read directly" + hint);
    }

    /** A top-k column's value: each candidate as {index, label, logit, score}, score its softmax probability. */
    static Seq<Row> rows(List<Prediction> top) {
        return seq(top.stream().map(p -> RowFactory.create(p.index(), p.label(), p.logit(), p.probability())).toList());
    }

    /** An array column's value: Spark's row encoder takes Scala sequences. */
    static <T> Seq<T> seq(List<T> list) {
        return CollectionConverters.asScala(list).toSeq();
    }

    /** The struct of each candidate of a {@code top} column. */
    public static final StructType PREDICTION = new StructType()
            .add("index", DataTypes.IntegerType, false)
            .add("label", DataTypes.StringType, true)
            .add("logit", DataTypes.FloatType, false)
            .add("score", DataTypes.DoubleType, false);

    /** A column of candidates, most likely first. */
    static final ArrayType TOP = DataTypes.createArrayType(PREDICTION, false);
}
