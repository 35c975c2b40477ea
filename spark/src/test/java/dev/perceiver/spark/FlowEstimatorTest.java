package dev.perceiver.spark;

import dev.perceiver.cli.PerceiverCli;
import dev.perceiver.io.FlowFiles;
import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.PillowResize;
import dev.perceiver.io.RgbImage;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Optical flow over pairs of paths, in local[2], against the single-JVM perceiver flow on the golden flow model. */
class FlowEstimatorTest {
    static final Path MODEL = SparkTests.GOLDEN.resolve("optical_flow");
    static final Path INPUTS = SparkTests.GOLDEN.resolve("inputs");

    @TempDir
    static Path dir;
    /** The model's own size (one tile), 20x15 frames (8 tiles of 16x12 at the default overlap), and 8x8 frames. */
    static Path frame0, frame1, big0, big1, small;

    @BeforeAll
    static void setUp() throws IOException {
        SparkTests.spark();
        frame0 = INPUTS.resolve("frame0_16x12.png");
        frame1 = INPUTS.resolve("frame1_16x12.png");
        big0 = dir.resolve("big0.png");
        big1 = dir.resolve("big1.png");
        ImageFiles.writePng(PillowResize.bicubic(ImageFiles.read(frame0), 20, 15), big0);
        ImageFiles.writePng(PillowResize.bicubic(ImageFiles.read(frame1), 20, 15), big1);
        small = dir.resolve("small.png");
        ImageFiles.writePng(new RgbImage(8, 8, new byte[8 * 8 * 3]), small);
    }

    /** The flow perceiver flow writes for a pair, with its default overlap and batch. */
    static float[] perceiverFlow(Path a, Path b) throws IOException {
        Path flo = Files.createTempFile(dir, "cli-", ".flo");
        PerceiverCli.run("flow", "--model", MODEL.toString(), a.toString(), b.toString(), "--out", flo.toString(), "--quiet");
        return read(flo);
    }

    static float[] read(Path flo) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            return FlowFiles.readFlo(flo, arena).toArray();
        }
    }

    static void assertSameFlow(Path got, Path a, Path b) throws IOException {
        float[] want = perceiverFlow(a, b), flow = read(got);
        assertThat(flow).hasSameSizeAs(want);
        for (int i = 0; i < want.length; i++)
            assertThat((double) flow[i]).as("value %d of %s", i, got).isCloseTo(want[i], within(1e-6));
    }

    static Dataset<Row> pairs(List<String[]> pairs, int partitions) {
        StructType schema = new StructType().add("frame0", DataTypes.StringType, true).add("frame1", DataTypes.StringType, true);
        List<Row> rows = pairs.stream().map(p -> RowFactory.create((Object[]) p)).toList();
        return SparkTests.spark().createDataFrame(JavaSparkContext.fromSparkContext(SparkTests.spark().sparkContext())
                .parallelize(rows, partitions), schema);
    }

    @Test
    void everyPairMatchesPerceiverFlowAndABadPairCostsOnlyItsRow() throws IOException {
        Path out = dir.resolve("flows"), other = INPUTS.resolve("image4_48x64.png"), missing = dir.resolve("missing.png");
        List<String[]> in = List.of(
                new String[] {frame0.toString(), frame1.toString()},
                new String[] {frame0.toString(), other.toString()},
                new String[] {"file:" + big0, big1.toString()},
                new String[] {missing.toString(), frame1.toString()},
                new String[] {small.toString(), small.toString()},
                new String[] {frame0.toString(), null});
        Dataset<Row> result = new FlowEstimator(MODEL.toString()).outputDir(out.toString()).transform(pairs(in, 3));
        assertThat(result.schema().fieldNames()).containsExactly("frame0", "frame1", "flow", "error");
        Map<String, Row> rows = new HashMap<>();
        for (Row r : result.collectAsList()) rows.put(r.getString(0) + " " + r.getString(1), r);

        assertThat(rows).hasSize(6);
        Row one = rows.get(frame0 + " " + frame1), big = rows.get("file:" + big0 + " " + big1);
        for (Row good : List.of(one, big)) assertThat(good.isNullAt(3)).as(good.toString()).isTrue();
        assertThat(one.getString(2)).matches(out.resolve("frame0_16x12-") + "[0-9a-f]{16}\\.flo");
        assertThat(big.getString(2)).matches(out.resolve("big0-") + "[0-9a-f]{16}\\.flo");
        assertSameFlow(Path.of(one.getString(2)), frame0, frame1);
        assertSameFlow(Path.of(big.getString(2)), big0, big1);

        assertThat(rows.get(frame0 + " " + other).getString(3)).isEqualTo(frame0 + " is 16x12 but " + other
                + " is 48x64; both frames must have the same size");
        assertThat(rows.get(missing + " " + frame1).getString(3)).isEqualTo(missing + ": no such file or folder");
        assertThat(rows.get(small + " " + small).getString(3))
                .isEqualTo("the frames are 8x8 but this model needs at least 16x12 (its train_size); pad or resize them");
        assertThat(rows.get(frame0 + " null").getString(3)).isEqualTo("no frame1 path (null)");
        for (String bad : List.of(frame0 + " " + other, missing + " " + frame1, small + " " + small, frame0 + " null"))
            assertThat(rows.get(bad).isNullAt(2)).isTrue();
        try (var files = Files.list(out)) {
            assertThat(files).hasSize(2);
        }
    }

    @Test
    void flowFilesGoThroughHadoopsFileSystemToAUri() throws IOException {
        Path out = dir.resolve("hadoop-out");
        String uri = out.toUri().toString();
        assertThat(uri).startsWith("file:///");
        Dataset<Row> in = pairs(List.<String[]>of(new String[] {frame0.toString(), frame1.toString()}), 1);
        List<Row> rows = new FlowEstimator(MODEL.toString()).outputDir(uri).transform(in).collectAsList();

        assertThat(rows).hasSize(1);
        assertThat(rows.getFirst().isNullAt(3)).as(rows.toString()).isTrue();
        String flow = rows.getFirst().getString(2);
        assertThat(flow).matches("file:" + out.resolve("frame0_16x12-") + "[0-9a-f]{16}\\.flo");
        assertSameFlow(Path.of(URI.create(flow)), frame0, frame1);
        try (var files = Files.list(out)) {
            assertThat(files).as("no .crc beside the .flo").hasSize(1);
        }
    }

    @Test
    void theSqlFunctionTakesTheOutputFolderAsItsThirdArgument() throws IOException {
        assertThat(PerceiverUdfs.register(SparkTests.spark(), MODEL.toString())).containsExactly("perceiver_flow");
        Path out = dir.resolve("sql-out"), missing = dir.resolve("missing.png");
        pairs(List.of(new String[] {frame0.toString(), frame1.toString()}, new String[] {"file:" + big0, big1.toString()},
                new String[] {missing.toString(), frame1.toString()}), 2).createOrReplaceTempView("frame_pairs");
        Map<String, Row> rows = new HashMap<>();
        for (Row r : SparkTests.spark().sql("SELECT frame0, perceiver_flow(frame0, frame1, '" + out.toUri()
                + "') AS r FROM frame_pairs").collectAsList())
            rows.put(r.getString(0), r.getStruct(1));

        assertThat(rows).hasSize(3);
        Row one = rows.get(frame0.toString()), big = rows.get("file:" + big0);
        assertThat(one.schema().fieldNames()).containsExactly("flow", "error");
        for (Row good : List.of(one, big)) assertThat(good.isNullAt(1)).as(good.toString()).isTrue();
        assertSameFlow(Path.of(URI.create(one.getString(0))), frame0, frame1);
        assertSameFlow(Path.of(URI.create(big.getString(0))), big0, big1);
        assertThat(rows.get(missing.toString()).getString(1)).isEqualTo(missing + ": no such file or folder");
        assertThat(rows.get(missing.toString()).isNullAt(0)).isTrue();

        Row bad = SparkTests.spark().sql("SELECT perceiver_flow(frame0, 3, 'x'), perceiver_flow(frame0, frame1,"
                + " CAST(NULL AS STRING)) FROM frame_pairs LIMIT 1").first();
        assertThat(bad.getStruct(0).getString(1)).isEqualTo("perceiver_flow takes strings (the two frames' paths and"
                + " the output folder), got a Integer");
        assertThat(bad.getStruct(1).getString(1)).isEqualTo("no output folder (null)");
    }

    @Test
    void filesOfPairsFromDifferentFoldersDoNotCollide() {
        FlowEstimator.Pair a = new FlowEstimator.Pair("/a/frame_0001.png", "/a/frame_0002.png");
        FlowEstimator.Pair b = new FlowEstimator.Pair("/b/frame_0001.png", "/b/frame_0002.png");
        assertThat(FlowEstimator.fileName(a)).startsWith("frame_0001-").isNotEqualTo(FlowEstimator.fileName(b));
    }

    @Test
    void refusesWithoutAnOutputFolderOrWithATooLargeOverlap() {
        Dataset<Row> in = pairs(List.<String[]>of(new String[] {frame0.toString(), frame1.toString()}), 1);
        assertThatThrownBy(() -> new FlowEstimator(MODEL.toString()).transform(in))
                .hasMessage("no outputDir: set the folder the .flo files are written to");
        assertThatThrownBy(() -> new FlowEstimator(MODEL.toString()).outputDir(dir.resolve("never").toString())
                .overlap(12).transform(in).collectAsList())
                .rootCause().hasMessage("overlap must be less than the tile's shorter side, 12, got 12");
    }

    @Test
    void theFlowJobReadsPairsFromATextFile() throws IOException {
        Path list = Files.writeString(dir.resolve("pairs.txt"),
                frame0 + "  " + frame1 + "\n\n" + big0 + "\t" + big1 + "\nonly-one.png\n");
        Path out = dir.resolve("job");
        PerceiverSparkTest.Result r = PerceiverSparkTest.run("flow", "--model", MODEL.toString(), "--out", out.toString(),
                "--partitions", "2", list.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("perceiver-spark flow: 3 inputs, 1 errors");
        Map<String, Map<?, ?>> lines = new HashMap<>();
        for (Map<?, ?> line : PerceiverSparkTest.lines(out))
            lines.put((String) (line.containsKey("frame0") ? line.get("frame0") : line.get("line")), line);
        assertThat(lines).hasSize(3);
        assertThat(PerceiverSparkTest.keys(lines.get("only-one.png"))).containsExactly("line", "error");
        assertThat(lines.get("only-one.png").get("error"))
                .isEqualTo("expected two frame paths separated by spaces (or a tab), got 1");
        for (Path[] pair : List.of(new Path[] {frame0, frame1}, new Path[] {big0, big1})) {
            Map<?, ?> line = lines.get(pair[0].toString());
            assertThat(PerceiverSparkTest.keys(line)).containsExactly("frame0", "frame1", "flow");
            assertThat(line.get("frame1")).isEqualTo(pair[1].toString());
            Path flo = Path.of((String) line.get("flow"));
            assertThat(flo.getParent()).isEqualTo(out.resolve("flo"));
            assertSameFlow(flo, pair[0], pair[1]);
        }
    }

    @Test
    void theFlowJobWritesItsFlowsBesideItsPartFilesAtAUri() throws IOException {
        Path list = Files.writeString(dir.resolve("one-pair.txt"), frame0 + " " + frame1 + "\n");
        Path out = dir.resolve("job-uri");
        PerceiverSparkTest.Result r = PerceiverSparkTest.run("flow", "--model", MODEL.toString(), "--out",
                out.toUri().toString(), list.toString());

        assertThat(r.code()).as(r.err()).isZero();
        List<Map<?, ?>> lines = PerceiverSparkTest.lines(out);
        assertThat(lines).hasSize(1);
        String flow = (String) lines.getFirst().get("flow");
        assertThat(flow).startsWith("file:" + out.resolve("flo").resolve("frame0_16x12-"));
        assertSameFlow(Path.of(URI.create(flow)), frame0, frame1);
    }
}
