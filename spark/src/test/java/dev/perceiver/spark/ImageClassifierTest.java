package dev.perceiver.spark;

import dev.perceiver.task.Prediction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ImageClassifierTest {
    static final Path MODEL = SparkTests.IMAGE_MODEL;
    static final int LABELS = 10;

    @TempDir
    static Path dir;
    static List<Path> images;
    static Path corrupt;

    @BeforeAll
    static void setUp() throws IOException {
        images = SparkTests.images(dir, 12);
        corrupt = SparkTests.corrupt(dir, images.getFirst());
    }

    static void assertSame(List<Row> got, List<Prediction> want) {
        assertThat(got).hasSameSizeAs(want);
        for (int i = 0; i < want.size(); i++) {
            Row r = got.get(i);
            Prediction p = want.get(i);
            assertThat(r.getInt(0)).as("index of candidate %d", i).isEqualTo(p.index());
            assertThat(r.getString(1)).isEqualTo(p.label());
            assertThat((double) r.getFloat(2)).isCloseTo(p.logit(), within(1e-6));
            assertThat(r.getDouble(3)).isCloseTo(p.probability(), within(1e-6));
        }
    }

    static Map<String, Row> byPath(Dataset<Row> out) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : out.collectAsList()) m.put(r.getString(r.fieldIndex("path")), r);
        return m;
    }

    @Test
    void everyRowMatchesTheEngineAndACorruptImageCostsOnlyItsOwnRow() throws IOException {
        List<Path> files = new ArrayList<>(images);
        files.add(5, corrupt);
        // 13 rows in 3 partitions (4, 4, 5) by batches of 3: every partition ends in a short batch.
        Dataset<Row> out = new ImageClassifier(MODEL.toString()).topK(LABELS).batchSize(3)
                .transform(SparkTests.paths(files, 3));
        Map<String, Row> rows = byPath(out);

        assertThat(rows).hasSize(13);
        Row bad = rows.get(corrupt.toString());
        assertThat(bad.isNullAt(bad.fieldIndex("top"))).isTrue();
        assertThat(bad.getString(bad.fieldIndex("error"))).startsWith(corrupt.toString()).contains("cannot decode png");
        for (Path image : images) {
            Row r = rows.get(image.toString());
            assertThat(r.isNullAt(r.fieldIndex("error"))).as(image.toString()).isTrue();
            assertSame(r.getList(r.fieldIndex("top")), SparkTests.expected(image, LABELS));
        }
    }

    @Test
    void opensTheModelOncePerJvmAcrossEightPartitionsSomeEmpty(@TempDir Path copy) throws IOException {
        // A copy is a model this JVM has not opened yet.
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(MODEL.resolve(f), copy.resolve(f));
        Dataset<Row> in = SparkTests.paths(images.subList(0, 5), 8);
        assertThat(in.javaRDD().getNumPartitions()).isEqualTo(8);
        int before = ModelCache.opened();

        Map<String, Row> rows = byPath(new ImageClassifier(copy.toString()).topK(3).batchSize(2).transform(in));

        assertThat(ModelCache.opened() - before).isEqualTo(1);
        assertThat(rows).hasSize(5);
        for (Path image : images.subList(0, 5)) assertSame(rows.get(image.toString()).getList(1), SparkTests.expected(image, 3));
    }

    @Test
    void readsImageBytesFromBinaryFileAndDocumentsItsSchema() throws IOException {
        Dataset<Row> files = SparkTests.spark().read().format("binaryFile").load(dir.toString());
        ImageClassifier classifier = new ImageClassifier(MODEL.toString()).contentCol("content").topK(2);
        StructType schema = classifier.outputSchema(files.schema());
        assertThat(schema.fieldNames()).containsExactly("path", "modificationTime", "length", "top", "error");
        assertThat(schema.apply("top").dataType()).isEqualTo(DataTypes.createArrayType(new StructType()
                .add("index", DataTypes.IntegerType, false).add("label", DataTypes.StringType, true)
                .add("logit", DataTypes.FloatType, false).add("score", DataTypes.DoubleType, false), false));
        assertThat(schema.apply("error").dataType()).isEqualTo(DataTypes.StringType);

        Dataset<Row> out = classifier.transform(files);
        assertThat(out.schema()).isEqualTo(schema);
        List<Row> rows = out.collectAsList();
        assertThat(rows).hasSize(13);
        for (Row r : rows) {
            Path file = Path.of(URI.create(r.getString(0)));
            if (file.equals(corrupt)) {
                assertThat(r.getString(4)).startsWith(r.getString(0) + ": cannot decode png");
                assertThat(r.isNullAt(3)).isTrue();
            } else {
                assertThat(r.isNullAt(4)).isTrue();
                assertSame(r.getList(3), SparkTests.expected(file, 2));
            }
        }
    }

    @Test
    void aMissingModelFailsTheJobWithOneClearMessage() {
        Dataset<Row> in = SparkTests.paths(images.subList(0, 2), 2);
        assertThatThrownBy(() -> new ImageClassifier("/no/such/model").transform(in).collectAsList())
                .rootCause().isInstanceOf(ModelCache.ModelNotFoundException.class)
                .hasMessageStartingWith("model folder /no/such/model not found on ");
    }

    @Test
    void aWrongColumnIsRefusedBeforeTheJobRuns() {
        Dataset<Row> in = SparkTests.paths(images.subList(0, 1), 1);
        assertThatThrownBy(() -> new ImageClassifier(MODEL.toString()).inputCol("file").transform(in))
                .hasMessage("no column 'file' in the input; it has path");
        assertThatThrownBy(() -> new ImageClassifier(MODEL.toString()).contentCol("path").transform(in))
                .hasMessage("column 'path' is string; it must be binary");
    }
}
