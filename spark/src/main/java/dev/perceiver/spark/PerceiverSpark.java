package dev.perceiver.spark;

import dev.perceiver.cli.Args;
import dev.perceiver.cli.UsageException;
import dev.perceiver.loader.CheckpointException;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.regexp_replace;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

/**
 * The perceiver-spark jobs: classify (a folder of images), classify-text and fill-mask (a text file, one input per
 * line), flow (a text file, one pair of frames per line). Each writes JSON Lines part files under --out, one object per
 * input. ./perceiver-spark runs this class in a local Spark; spark-submit runs the same class on a cluster. Command
 * lines are parsed as the perceiver command's are ({@link Args}).
 */
public final class PerceiverSpark {
    static final int OK = 0, FAILED = 1, USAGE = 2, BAD_MODEL = 3;
    private static final List<String> COMMANDS = List.of("classify", "classify-text", "fill-mask", "flow");
    private static final Set<String> VALUED = Set.of("master", "model", "out", "batch", "partitions", "device");
    static final String HELP = """
            Usage: perceiver-spark COMMAND [--master URL] --model DIR --out OUT_DIR [options] INPUT

            Commands:
              classify        INPUT is a folder (or glob) of PNG, JPEG, BMP and GIF images; one line per image:
                                {"file": ..., "top": [{"index": i, "label": ..., "logit": x, "score": p}, ...]}
              classify-text   INPUT is a text file, one text per line; one line per text:
                                {"text": ..., "top": [...]}
              fill-mask       INPUT is a text file, one text with [MASK]s per line; one line per text:
                                {"text": ..., "filled": ..., "masks": [{"position": n, "top": [...]}, ...]}
              flow            INPUT is a text file, one pair of frames per line: two paths separated by spaces
                              (by a tab where a path holds spaces); the flow goes to OUT_DIR/flo/ as a .flo file
                              (as perceiver flow writes it), and one line per pair:
                                {"frame0": ..., "frame1": ..., "flow": "OUT_DIR/flo/<frame0 name>-<hash>.flo"}
            A bad input gets {..., "error": "..."} instead of its results; the job goes on.

            Options:
              --master URL      Spark master (default: spark-submit's, else local[*])
              --model DIR       model folder (config.json plus weights) that every executor can read (local disk,
                                NFS), or a folder on a Hadoop file system (hdfs://, s3a://), shipped to the executors
              --out OUT_DIR     output folder for the JSON Lines part files (must not exist), on any file system
                                Spark writes (a path, or an hdfs://, s3a:// or file: URI); flow's .flo files go
                                to OUT_DIR/flo/ on the same file system
              --top-k K         candidates per prediction (default 5; not flow)
              --batch B         inputs per forward pass (default 8; flow: tiles per forward pass, default 2)
              --overlap N       flow: least overlap of neighbouring tiles in pixels (default 20, or the tile's
                                shorter side less one if that is smaller)
              --partitions N    split the input into N partitions (default: as Spark reads it)
              --device D        cpu, gpu or auto on the executors (default cpu)
            """;

    private PerceiverSpark() {}

    public static void main(String[] argv) {
        int code = run(argv, System.out, System.err);
        if (code != OK) System.exit(code);
    }

    /** Runs one job in this JVM's Spark session (made if there is none); returns the exit code. */
    static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0 || Set.of("--help", "-h", "help").contains(argv[0])) {
            (argv.length == 0 ? err : out).print(HELP);
            return argv.length == 0 ? USAGE : OK;
        }
        String command = argv[0];
        try {
            if (!COMMANDS.contains(command))
                throw new UsageException("unknown command '" + command + "'; commands: " + String.join(", ", COMMANDS));
            Set<String> valued = new TreeSet<>(VALUED);
            valued.add(command.equals("flow") ? "overlap" : "top-k");
            Args args = Args.parse(Arrays.asList(argv).subList(1, argv.length), Set.of(), valued,
                    InputStream.nullInputStream(), err);
            if (args.positional().size() != 1) throw new UsageException("give one INPUT, got " + args.positional().size());
            String model = args.require("model"), outDir = args.require("out");
            boolean flow = command.equals("flow");
            int topK = args.getInt("top-k", 5, 1), batch = args.getInt("batch", flow ? 2 : 8, 1);
            int overlap = args.getInt("overlap", -1, 0), partitions = args.getInt("partitions", 0, 1);
            String device = args.get("device", "cpu");
            long start = System.nanoTime();
            SparkSession spark = session(args.get("master", null), command);
            // Throughput is counted from here: Spark's start-up is paid once per application, not per input.
            long up = System.nanoTime();
            String shipped = shipModel(spark, model);
            String input = args.positional().getFirst();
            Dataset<Row> result = flow
                    ? flowJob(spark, input, partitions, flowEstimator(shipped, overlap).batchSize(batch).device(device)
                            .outputDir(new Path(outDir, "flo").toString()))
                    : job(spark, command, input, partitions, transformation(command, shipped).topK(topK)
                            .batchSize(batch).device(device));
            // Counted as the rows are written: reading the output back was a second job, 1-2 s of a 60 s run.
            Observation counts = new Observation("counts");
            result.observe(counts, count(lit(1)).as("inputs"), count(col(PerceiverTransform.ERROR)).as("errors"))
                    .write().json(outDir);
            long inputs = (Long) counts.getAsJava().get("inputs"), errors = (Long) counts.getAsJava().get("errors");
            double seconds = (System.nanoTime() - up) / 1e9;
            err.printf("perceiver-spark %s: %d inputs, %d errors, %.1f s after %.1f s of Spark start-up (%.1f inputs/s) -> %s%n",
                    command, inputs, errors, seconds, (up - start) / 1e9, inputs / seconds, outDir);
            return OK;
        } catch (UsageException e) {
            err.println("perceiver-spark " + command + ": " + e.getMessage() + " (see 'perceiver-spark --help')");
            return USAGE;
        } catch (Exception e) {
            Throwable cause = rootCause(e);
            boolean model = cause instanceof ModelCache.ModelNotFoundException || cause instanceof CheckpointException;
            String msg = String.valueOf(cause.getMessage());
            err.println("perceiver-spark " + command + ": " + msg.lines().findFirst().orElse(msg));
            return model ? BAD_MODEL : cause instanceof UsageException ? USAGE : FAILED;
        }
    }

    private static SparkSession session(String master, String command) {
        SparkSession.Builder b = SparkSession.builder().appName("perceiver-spark " + command);
        if (master != null) b.master(master);
        else if (!SparkSession.getActiveSession().isDefined() && System.getProperty("spark.master") == null) b.master("local[*]");
        return b.getOrCreate();
    }

    /** A model on a Hadoop file system is copied to every executor (SparkFiles); a local path is read in place. */
    private static String shipModel(SparkSession spark, String model) {
        if (!model.contains("://")) return model;
        spark.sparkContext().addFile(model, true);
        String trimmed = model.replaceAll("/+$", "");
        return trimmed.substring(trimmed.lastIndexOf('/') + 1);
    }

    private static TopKTransform<?, ?, ?> transformation(String command, String model) {
        return switch (command) {
            case "classify" -> new ImageClassifier(model).inputCol("path");
            case "classify-text" -> new TextClassifier(model).inputCol("text");
            default -> new MaskFiller(model).inputCol("text");
        };
    }

    private static Dataset<Row> job(SparkSession spark, String command, String input, int partitions,
                                    TopKTransform<?, ?, ?> t) {
        boolean classify = command.equals("classify");
        Dataset<Row> in = classify
                // Paths only (binaryFile then reads no bytes): the tasks read their images.
                ? spark.read().format("binaryFile").load(input).select("path")
                        // (?i), not lower(): Spark 4's lower() builds ICU case tables on first use, 2 s of a task.
                        .filter(col("path").rlike("(?i)\\.(png|jpe?g|bmp|gif)$"))
                : spark.read().text(input).withColumnRenamed("value", "text");
        if (partitions > 0) in = in.repartition(partitions);
        else if (classify) in = in.repartition(evenPartitions(spark, in.rdd().getNumPartitions()));
        Dataset<Row> out = t.transform(in);
        if (!command.equals("classify")) return out;
        // Local files print as paths, as perceiver classify prints them; other file systems keep their URI.
        String scheme = "^file:(//)?";
        return out.select(regexp_replace(col("path"), scheme, "").as("file"), col("top"),
                regexp_replace(col(PerceiverTransform.ERROR), scheme, "").as(PerceiverTransform.ERROR));
    }

    /**
     * Spark splits a folder by bytes, which for images of different sizes gives partitions of unequal counts (31, 32,
     * 32 and 1 of 96 images on two cores: the third ran alone, half the cores idle), while inference costs by image.
     * So the paths are dealt out round-robin into as many partitions as Spark made, rounded up to a multiple of the
     * task slots: equal counts, and every slot busy to the last wave.
     */
    private static int evenPartitions(SparkSession spark, int byBytes) {
        int slots = Math.max(1, spark.sparkContext().defaultParallelism()
                / Integer.parseInt(spark.conf().get("spark.task.cpus", "1")));
        return (Math.max(1, byBytes) + slots - 1) / slots * slots;
    }

    /**
     * Pairs from the non-blank lines of a text file: two fields split at a tab if the line has one, else at spaces. A
     * line of another shape keeps its text in {@code line} and gets its error in place of the transformation's.
     */
    private static Dataset<Row> flowJob(SparkSession spark, String input, int partitions, FlowEstimator t) {
        Column value = col("value"), parts = col("parts"), pair = size(parts).equalTo(2);
        Dataset<Row> in = spark.read().text(input).filter(trim(value).notEqual(""))
                .withColumn("parts", when(value.contains("\t"), split(value, "\t")).otherwise(split(trim(value), "\\s+")))
                .select(when(not(pair), value).as("line"), when(pair, trim(element_at(parts, 1))).as("frame0"),
                        when(pair, trim(element_at(parts, 2))).as("frame1"),
                        when(not(pair), concat(lit("expected two frame paths separated by spaces (or a tab), got "),
                                size(parts).cast("string"))).as("parse_error"));
        if (partitions > 0) in = in.repartition(partitions);
        return t.frameCols("frame0", "frame1").transform(in).select(col("line"), col("frame0"), col("frame1"),
                col("flow"), coalesce(col("parse_error"), col(PerceiverTransform.ERROR)).as(PerceiverTransform.ERROR));
    }

    /** The flow transformation, with --overlap if given (-1: the transformation's default). */
    private static FlowEstimator flowEstimator(String model, int overlap) {
        FlowEstimator t = new FlowEstimator(model);
        return overlap < 0 ? t : t.overlap(overlap);
    }

    private static Throwable rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t;
    }
}
