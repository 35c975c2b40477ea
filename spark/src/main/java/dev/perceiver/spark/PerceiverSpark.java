package dev.perceiver.spark;

import dev.perceiver.loader.CheckpointException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.regexp_replace;

/**
 * The perceiver-spark jobs: classify (a folder of images), classify-text and fill-mask (a text file, one input per
 * line). Each writes JSON Lines part files under --out, one object per input. ./perceiver-spark runs this class in a
 * local Spark; spark-submit runs the same class on a cluster.
 */
public final class PerceiverSpark {
    static final int OK = 0, FAILED = 1, USAGE = 2, BAD_MODEL = 3;
    private static final Set<String> VALUED = Set.of("master", "model", "out", "top-k", "batch", "partitions", "device");
    static final String HELP = """
            Usage: perceiver-spark COMMAND [--master URL] --model DIR --out OUT_DIR [options] INPUT

            Commands:
              classify        INPUT is a folder (or glob) of PNG, JPEG, BMP and GIF images; one line per image:
                                {"file": ..., "top": [{"index": i, "label": ..., "logit": x, "score": p}, ...]}
              classify-text   INPUT is a text file, one text per line; one line per text:
                                {"text": ..., "top": [...]}
              fill-mask       INPUT is a text file, one text with [MASK]s per line; one line per text:
                                {"text": ..., "filled": ..., "masks": [{"position": n, "top": [...]}, ...]}
            A bad input gets {..., "error": "..."} instead of its results; the job goes on.

            Options:
              --master URL      Spark master (default: spark-submit's, else local[*])
              --model DIR       model folder (config.json plus weights) that every executor can read (local disk,
                                NFS), or a folder on a Hadoop file system (hdfs://, s3a://), shipped to the executors
              --out OUT_DIR     output folder for the JSON Lines part files (must not exist)
              --top-k K         candidates per prediction (default 5)
              --batch B         inputs per forward pass (default 8)
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
            Map<String, String> options = new LinkedHashMap<>();
            List<String> inputs = new ArrayList<>();
            parse(argv, options, inputs);
            if (!Set.of("classify", "classify-text", "fill-mask").contains(command))
                throw new UsageException("unknown command '" + command + "'; commands: classify, classify-text, fill-mask");
            if (inputs.size() != 1) throw new UsageException("give one INPUT, got " + inputs.size());
            for (String required : List.of("model", "out"))
                if (!options.containsKey(required)) throw new UsageException("--" + required + " is required");
            int topK = positive(options, "top-k", 5), batch = positive(options, "batch", 8);
            int partitions = options.containsKey("partitions") ? positive(options, "partitions", 1) : 0;
            long start = System.nanoTime();
            SparkSession spark = session(options.get("master"), command);
            // Throughput is counted from here: Spark's start-up is paid once per application, not per input.
            long up = System.nanoTime();
            String model = shipModel(spark, options.get("model"));
            Dataset<Row> result = job(spark, command, inputs.getFirst(), partitions,
                    transformation(command, model).topK(topK).batchSize(batch).device(options.getOrDefault("device", "cpu")));
            result.write().json(options.get("out"));
            Row counts = spark.read().schema(result.schema()).json(options.get("out"))
                    .selectExpr("count(*)", "count(error)").first();
            double seconds = (System.nanoTime() - up) / 1e9;
            err.printf("perceiver-spark %s: %d inputs, %d errors, %.1f s after %.1f s of Spark start-up (%.1f inputs/s) -> %s%n",
                    command, counts.getLong(0), counts.getLong(1), seconds, (up - start) / 1e9,
                    counts.getLong(0) / seconds, options.get("out"));
            return OK;
        } catch (UsageException e) {
            err.println("perceiver-spark " + command + ": " + e.getMessage() + " (see 'perceiver-spark --help')");
            return USAGE;
        } catch (Exception e) {
            Throwable cause = rootCause(e);
            boolean model = cause instanceof ModelCache.ModelNotFoundException || cause instanceof CheckpointException;
            String msg = String.valueOf(cause.getMessage());
            err.println("perceiver-spark " + command + ": " + msg.lines().findFirst().orElse(msg));
            return model ? BAD_MODEL : FAILED;
        }
    }

    private static void parse(String[] argv, Map<String, String> options, List<String> inputs) {
        for (int i = 1; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                inputs.add(a);
                continue;
            }
            String name = a.substring(2), value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!VALUED.contains(name)) throw new UsageException("unknown option --" + name);
            if (value == null) {
                if (i + 1 >= argv.length) throw new UsageException("--" + name + " needs a value");
                value = argv[++i];
            }
            options.put(name, value);
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

    private static PerceiverTransform<?> transformation(String command, String model) {
        return switch (command) {
            case "classify" -> new ImageClassifier(model).inputCol("path").contentCol("content");
            case "classify-text" -> new TextClassifier(model).inputCol("text");
            default -> new MaskFiller(model).inputCol("text");
        };
    }

    private static Dataset<Row> job(SparkSession spark, String command, String input, int partitions,
                                    PerceiverTransform<?> t) {
        Dataset<Row> in = command.equals("classify")
                ? spark.read().format("binaryFile").load(input)
                        .filter(lower(col("path")).rlike("\\.(png|jpe?g|bmp|gif)$"))
                : spark.read().text(input).withColumnRenamed("value", "text");
        if (partitions > 0) in = in.repartition(partitions);
        Dataset<Row> out = t.transform(in);
        if (!command.equals("classify")) return out;
        // Local files print as paths, as perceiver classify prints them; other file systems keep their URI.
        String scheme = "^file:(//)?";
        return out.select(regexp_replace(col("path"), scheme, "").as("file"), col("top"),
                regexp_replace(col(PerceiverTransform.ERROR), scheme, "").as(PerceiverTransform.ERROR));
    }

    private static int positive(Map<String, String> options, String name, int fallback) {
        String v = options.get(name);
        if (v == null) return fallback;
        try {
            int n = Integer.parseInt(v);
            if (n >= 1) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new UsageException("--" + name + " must be a positive integer, got '" + v + "'");
    }

    private static Throwable rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t;
    }

    static final class UsageException extends IllegalArgumentException {
        UsageException(String message) {
            super(message);
        }
    }
}
