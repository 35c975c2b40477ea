package dev.perceiver.spark;

import dev.perceiver.io.FlowFiles;
import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.RgbImage;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.task.OpticalFlow;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Optical flow (PerceiverForOpticalFlow) between pairs of frames, as {@code perceiver flow} computes it (the same
 * tiles, batches and blending): reads two path columns (default {@code frame0} and {@code frame1}: local or NFS paths
 * or file: URIs, read directly, or URIs of other file systems Spark reads, read through Hadoop's FileSystem API),
 * writes each pair's flow in pixels as a Middlebury .flo file under {@link #outputDir} (on any file system Spark
 * writes, through Hadoop's FileSystem API), and adds {@code flow} (the file's path) and {@code error}. As a SQL
 * function it takes the output folder as a third argument: {@code perceiver_flow(frame0, frame1, dir)}.
 * {@code batchSize} is tiles per forward pass (default 2, as in {@code perceiver flow}; each tile of the official
 * model needs about 0.8 GB of scratch memory).
 *
 * <p>A pair's file is named {@code <frame0's name less its extension>-<16 hex digits>.flo}, the digits a hash of both
 * paths as given: pairs from different folders with the same frame names get different files, and a retried task
 * writes the same file again.
 */
public final class FlowEstimator extends PerceiverTransform<FlowEstimator, FlowEstimator.Pair> {
    private static final long serialVersionUID = 1L;

    private String frame0Col = "frame0", frame1Col = "frame1", outputDir;
    private int overlap = -1;

    /**
     * One row's frames, as their columns name them (null where a column is null), and for a SQL function's call the
     * folder its flow goes to (null: {@link #outputDir}).
     */
    record Pair(String frame0, String frame1, String outputDir) {
        Pair(String frame0, String frame1) {
            this(frame0, frame1, null);
        }
    }

    /** model: a model folder (see {@link ModelCache#resolve}). */
    public FlowEstimator(String model) {
        super(model, 2);
    }

    /** The columns of the first and second frame's paths. */
    public FlowEstimator frameCols(String first, String second) {
        this.frame0Col = first;
        this.frame1Col = second;
        return this;
    }

    /**
     * The folder the .flo files go to, created if missing; required. A URI of any file system Spark writes
     * ({@code hdfs://}, {@code s3a://}, {@code file:}), or a path resolved as Spark resolves output paths (against
     * fs.defaultFS: the local disk in a local Spark, usually HDFS on a cluster).
     */
    public FlowEstimator outputDir(String dir) {
        this.outputDir = dir;
        return this;
    }

    /** Least overlap of neighbouring tiles in pixels (default 20, or the tile's shorter side less one if smaller). */
    public FlowEstimator overlap(int pixels) {
        if (pixels < 0) throw new IllegalArgumentException("overlap must be at least 0, got " + pixels);
        this.overlap = pixels;
        return this;
    }

    @Override
    List<String> inputCols() {
        return List.of(frame0Col, frame1Col);
    }

    @Override
    public StructType outputSchema(StructType input) {
        if (outputDir == null) throw new IllegalArgumentException("no outputDir: set the folder the .flo files are written to");
        return super.outputSchema(input);
    }

    @Override
    StructType resultFields() {
        return new StructType().add("flow", DataTypes.StringType, true);
    }

    @Override
    Task task() {
        return Task.FLOW;
    }

    private record Prepared(OpticalFlow flow, int overlap, HadoopFiles files, String dir) {}

    /** The overlap checked against this model's tiles, and the output folder (none for a SQL function), made if missing. */
    @Override
    Object prepare(Perceiver model, HadoopFiles files) {
        OpticalFlow flow = OpticalFlow.of(model);
        int checked = flow.overlap(overlap);
        try {
            return new Prepared(flow, checked, files, outputDir == null ? null : files.mkdirs(outputDir));
        } catch (IOException e) {
            throw new UncheckedIOException("outputDir " + outputDir + ": " + message(e), e);
        }
    }

    @Override
    Pair input(Row row, StructType schema) {
        int at0 = schema.fieldIndex(frame0Col), at1 = schema.fieldIndex(frame1Col);
        return new Pair(row.isNullAt(at0) ? null : row.getString(at0), row.isNullAt(at1) ? null : row.getString(at1));
    }

    @Override
    int udfArity() {
        return 3;
    }

    /** The two frames' paths and the output folder. */
    @Override
    Pair udfInput(Object[] arguments) {
        for (Object a : arguments)
            if (a != null && !(a instanceof String))
                throw wrongType("strings (the two frames' paths and the output folder)", a);
        return new Pair((String) arguments[0], (String) arguments[1], (String) arguments[2]);
    }

    /** One pair at a time: a pair's tiles are the batch. */
    @Override
    List<Object[]> infer(Perceiver model, Object prepared, List<Pair> pairs) {
        Prepared p = (Prepared) prepared;
        List<Object[]> results = new ArrayList<>(pairs.size());
        for (Pair pair : pairs) {
            try (Arena arena = Arena.ofConfined()) {
                String dir = pair.outputDir() != null ? pair.outputDir() : p.dir();
                if (dir == null) throw new InvalidInputException("no output folder (null)");
                RgbImage frame0 = read(pair.frame0(), frame0Col, p.files());
                RgbImage frame1 = read(pair.frame1(), frame1Col, p.files());
                Tensor flow = p.flow().flow(pair.frame0(), frame0, pair.frame1(), frame1, p.overlap(), batchSize, arena);
                results.add(ok(p.files().write(dir, fileName(pair), FlowFiles.floBytes(flow))));
            } catch (IllegalArgumentException | IOException e) { // InvalidInputException among them
                results.add(failed(message(e)));
            }
        }
        return results;
    }

    private static RgbImage read(String name, String column, HadoopFiles files) throws IOException {
        if (name == null) throw new InvalidInputException("no " + column + " path (null)");
        return readFile(name, null, files, ImageFiles::readInput);
    }

    /** frame0's name less its extension, a dash, and 64 bits of SHA-256 of both paths. */
    static String fileName(Pair pair) {
        String name = pair.frame0().substring(pair.frame0().lastIndexOf('/') + 1);
        int dot = name.lastIndexOf('.');
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest((pair.frame0() + "\n" + pair.frame1()).getBytes(StandardCharsets.UTF_8));
            return (dot > 0 ? name.substring(0, dot) : name) + "-" + HexFormat.of().formatHex(Arrays.copyOf(hash, 8)) + ".flo";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
