package dev.perceiver.spark;

import dev.perceiver.cli.SparkBridge;
import dev.perceiver.io.InvalidInputException;
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
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import scala.collection.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
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

    /**
     * Per task: what the batches need besides the model (e.g. the image processor), made on the executor; files
     * reads and writes other file systems with the session's Hadoop configuration (taken on the driver when the
     * transformation or function was set up).
     */
    Object prepare(Perceiver model, HadoopFiles files) {
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
        HadoopFiles files = HadoopFiles.of(input.sparkSession());
        return input.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> run(rows, in, files), Encoders.row(out));
    }

    private Iterator<Row> run(Iterator<Row> rows, StructType in, HadoopFiles files) {
        // An empty partition opens nothing.
        if (!rows.hasNext()) return Collections.emptyIterator();
        Opened opened = open(files);
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
    Opened open(HadoopFiles files) {
        TaskContext task = TaskContext.get();
        int threads = task == null ? 0 : EngineThreads.poolThreads(SparkEnv.get().conf(), task.cpus());
        Perceiver m = ModelCache.get(model, new Perceiver.Options(threads, device));
        if (m.head().task() != task())
            throw new IllegalArgumentException("model " + model + " is a " + m.head().architecture() + "; "
                    + getClass().getSimpleName() + " runs " + task().heads().stream().map(Head::architecture)
                    .collect(Collectors.joining(" or ")));
        return new Opened(m, prepare(m, files));
    }

    /** How many arguments the SQL function takes (1 or 3). */
    int udfArity() {
        return 1;
    }

    /** The SQL function's arguments as an input; an argument of another type is refused ({@link #wrongType}). */
    abstract I udfInput(Object[] arguments);

    /** The refusal of a SQL function's argument: "takes WANTED, got a TYPE". */
    static IllegalArgumentException wrongType(String wanted, Object argument) {
        return new IllegalArgumentException("takes " + wanted + ", got a " + argument.getClass().getSimpleName());
    }

    /**
     * Registers this transformation, as it is now set up, as the SQL function name(x) (or name(x, y, z), as
     * {@link #udfArity} says): x is what the input column holds, and the function returns struct&lt;result columns,
     * error&gt;, a bad input giving its error. Spark calls a Java function row by row, so each call is one input's
     * forward pass (the Dataset transformation batches).
     */
    public void register(SparkSession spark, String name) {
        Udf<I> udf = new Udf<>(name, copy(), HadoopFiles.of(spark));
        StructType type = resultFields().add(ERROR, DataTypes.StringType, true);
        if (udfArity() == 1) spark.udf().register(name, (UDF1<Object, Row>) udf, type);
        else spark.udf().register(name, (UDF3<Object, Object, Object, Row>) udf, type);
    }

    /** A copy, so that later setters do not change a registered function. */
    @SuppressWarnings("unchecked")
    private PerceiverTransform<?, I> copy() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(this);
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                return (PerceiverTransform<?, I>) in.readObject();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A registered SQL function: each task gets its own copy, which opens the JVM's shared model on first use. */
    private static final class Udf<I> implements UDF1<Object, Row>, UDF3<Object, Object, Object, Row> {
        private static final long serialVersionUID = 1L;
        private final String name;
        private final PerceiverTransform<?, I> transform;
        private final HadoopFiles files;
        private transient Opened opened;

        Udf(String name, PerceiverTransform<?, I> transform, HadoopFiles files) {
            this.name = name;
            this.transform = transform;
            this.files = files;
        }

        @Override
        public Row call(Object argument) {
            return apply(argument);
        }

        @Override
        public Row call(Object first, Object second, Object third) {
            return apply(first, second, third);
        }

        private Row apply(Object... arguments) {
            if (opened == null) opened = transform.open(files);
            I input;
            try {
                input = transform.udfInput(arguments);
            } catch (IllegalArgumentException e) {
                return RowFactory.create(transform.failed(name + " " + e.getMessage()));
            }
            return RowFactory.create(transform.infer(opened.model(), opened.prepared(),
                    Collections.singletonList(input)).getFirst());
        }
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

    /** Whether name is a local (or NFS) path or a file: URI, read directly; other URIs are read through Hadoop. */
    static boolean isLocal(String name) {
        return !name.contains(":") || name.startsWith("file:");
    }

    /** A local path or file: URI ({@link #isLocal}) as a path. */
    static Path localPath(String name) {
        return name.startsWith("file:") ? Path.of(URI.create(name)) : Path.of(name);
    }

    /** What a file reader makes of the file at name (see {@link #isLocal}). */
    interface FileReader<T> {
        T read(Path file) throws IOException;
    }

    /**
     * reader's result for the file at name, or for bytes where they are given (a row's image bytes): a file elsewhere
     * is read through files and, as the decoders read files, stands in a task-local temporary file, which errors do
     * not name.
     */
    static <T> T readFile(String name, byte[] bytes, HadoopFiles files, FileReader<T> reader) throws IOException {
        if (bytes == null && isLocal(name)) return reader.read(localPath(name));
        Path tmp = Files.createTempFile("perceiver-input-", ".bin");
        try {
            Files.write(tmp, bytes != null ? bytes : files.read(name));
            return reader.read(tmp);
        } catch (IllegalArgumentException | IOException e) {
            throw new InvalidInputException(message(e).replace(tmp.toString(), name));
        } finally {
            Files.deleteIfExists(tmp);
        }
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
