package dev.perceiver.spark;

import dev.perceiver.task.Prediction;
import dev.perceiver.model.Perceiver;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The SQL functions, called from spark.sql in local[2], against the engine and the Dataset transformations. */
class PerceiverUdfsTest {
    static final String TEXT_MODEL = SparkTests.GOLDEN.resolve("sequence_classification").toString();
    static final String MASK_MODEL = SparkTests.GOLDEN.resolve("masked_lm").toString();
    static final List<String> TEXTS = Arrays.asList("short", "a longer text here", "x".repeat(40), null, "é and ü");
    static final List<String> MASKED = Arrays.asList("hello [MASK][MASK]rld", "no mask here", "[MASK]é[MASK]", null);

    @TempDir
    static Path dir;
    static List<Path> images;
    static Path corrupt;
    static SparkSession spark;

    @BeforeAll
    static void setUp() throws IOException {
        spark = SparkTests.spark();
        images = SparkTests.images(dir, 5);
        corrupt = SparkTests.corrupt(dir, images.getFirst());
        assertThat(PerceiverUdfs.register(spark, SparkTests.IMAGE_MODEL.toString(), MASK_MODEL, TEXT_MODEL))
                .containsExactly("perceiver_classify", "perceiver_fill_mask", "perceiver_classify_text");
        spark.createDataset(TEXTS, Encoders.STRING()).toDF().repartition(2).createOrReplaceTempView("texts");
        spark.createDataset(MASKED, Encoders.STRING()).toDF().repartition(2).createOrReplaceTempView("masked");
    }

    /** Rows by their first column. */
    static Map<String, Row> byKey(Dataset<Row> rows) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : rows.collectAsList()) m.put(r.getString(0), r);
        return m;
    }

    /** A top column's value as predictions. */
    static List<Prediction> predictions(List<Row> top) {
        return top.stream().map(c -> new Prediction(c.getInt(0), c.getString(1), c.getDouble(3), c.getFloat(2))).toList();
    }

    @Test
    void classifyTakesPathsAndImageBytesAndMatchesTheEngine() throws IOException {
        List<Path> files = new ArrayList<>(images);
        files.add(corrupt);
        files.add(dir.resolve("missing.png"));
        SparkTests.paths(files, 3).createOrReplaceTempView("image_paths");
        Map<String, Row> byPath = byKey(spark.sql("SELECT path, perceiver_classify(path) AS r FROM image_paths"));
        spark.read().format("binaryFile").load(dir.toString()).createOrReplaceTempView("image_files");
        Map<Path, Row> byBytes = new HashMap<>();
        for (Row r : spark.sql("SELECT path, perceiver_classify(content).top AS top, "
                + "perceiver_classify(content).error AS error FROM image_files").collectAsList())
            byBytes.put(Path.of(URI.create(r.getString(0))), r);

        assertThat(byPath).hasSize(7);
        assertThat(byBytes).hasSize(6);
        for (Path image : images) {
            Row r = byPath.get(image.toString()).getStruct(1);
            assertThat(r.schema().fieldNames()).containsExactly("top", "error");
            assertThat(r.isNullAt(1)).isTrue();
            ImageClassifierTest.assertSame(r.getList(0), SparkTests.expected(image, 5));
            Row b = byBytes.get(image);
            assertThat(b.isNullAt(2)).isTrue();
            ImageClassifierTest.assertSame(b.getList(1), SparkTests.expected(image, 5));
        }
        Row bad = byPath.get(corrupt.toString()).getStruct(1);
        assertThat(bad.isNullAt(0)).isTrue();
        assertThat(bad.getString(1)).startsWith(corrupt + ": cannot decode png");
        assertThat(byPath.get(dir.resolve("missing.png").toString()).getStruct(1).getString(1))
                .isEqualTo(dir.resolve("missing.png") + ": no such file or folder");
        assertThat(byBytes.get(corrupt).isNullAt(1)).isTrue();
        assertThat(byBytes.get(corrupt).getString(2)).startsWith("image bytes: cannot decode png");
    }

    @Test
    void classifyTextMatchesTheEngineAndTheTransformation() {
        Map<String, Row> sql = byKey(spark.sql("SELECT value, perceiver_classify_text(value) AS r FROM texts"));
        Map<String, Row> transformed = byKey(new TextClassifier(TEXT_MODEL).transform(spark.table("texts")));

        assertThat(sql).hasSize(TEXTS.size());
        try (Perceiver m = Perceiver.load(Path.of(TEXT_MODEL), new Perceiver.Options(1, "cpu"))) {
            for (String text : TEXTS) {
                Row r = sql.get(text).getStruct(1), t = transformed.get(text);
                if (text == null || text.length() == 40) {
                    assertThat(r.isNullAt(0)).isTrue();
                    assertThat(r.getString(1)).isEqualTo(text == null ? "no text (null)" : TextClassifierTest.TOO_LONG)
                            .isEqualTo(t.getString(2));
                    continue;
                }
                assertThat(r.isNullAt(1)).as(text).isTrue();
                ImageClassifierTest.assertSame(r.getList(0), TextClassifierTest.expected(m, text, 5));
                ImageClassifierTest.assertSame(r.getList(0), predictions(t.getList(1)));
            }
        }
    }

    @Test
    void fillMaskMatchesTheTransformation() {
        Map<String, Row> sql = byKey(spark.sql("SELECT value, perceiver_fill_mask(value) AS r FROM masked"));
        Map<String, Row> transformed = byKey(new MaskFiller(MASK_MODEL).transform(spark.table("masked")));

        assertThat(sql.get("no mask here").getStruct(1).getString(2)).isEqualTo("the text has no [MASK] to fill in");
        assertThat(sql.get(null).getStruct(1).getString(2)).isEqualTo("no text (null)");
        for (String text : List.of("hello [MASK][MASK]rld", "[MASK]é[MASK]")) {
            Row r = sql.get(text).getStruct(1), t = transformed.get(text);
            assertThat(r.schema().fieldNames()).containsExactly("filled", "masks", "error");
            assertThat(r.isNullAt(2)).isTrue();
            assertThat(r.getString(0)).isEqualTo(t.getString(1));
            List<Row> masks = r.getList(1), want = t.getList(2);
            assertThat(masks).extracting(m -> m.getInt(0)).isEqualTo(want.stream().map(m -> m.getInt(0)).toList())
                    .hasSize(2);
            for (int i = 0; i < masks.size(); i++)
                ImageClassifierTest.assertSame(masks.get(i).getList(1), predictions(want.get(i).getList(1)));
        }
        assertThat(sql.get("hello [MASK][MASK]rld").getStruct(1).getList(1)).extracting(m -> ((Row) m).getInt(0))
                .containsExactly(7, 8);
    }

    @Test
    void anArgumentOfAnotherTypeIsItsRowsError() {
        Row r = spark.sql("SELECT perceiver_classify_text(42) AS r").first().getStruct(0);
        assertThat(r.getString(1)).isEqualTo("perceiver_classify_text takes a string (the text), got a Integer");
        assertThat(spark.sql("SELECT perceiver_classify(1.5D) AS r").first().getStruct(0).getString(1))
                .isEqualTo("perceiver_classify takes a string (a path) or binary (image bytes), got a Double");
    }

    @Test
    void opensTheModelOncePerJvmAndKeepsTheSettingsItWasRegisteredWith(@TempDir Path copy) throws IOException {
        // A copy is a model this JVM has not opened yet.
        for (String f : List.of("config.json", "model.safetensors"))
            Files.copy(Path.of(TEXT_MODEL).resolve(f), copy.resolve(f));
        TextClassifier top1 = new TextClassifier(copy.toString()).topK(1);
        top1.register(spark, "top1");
        top1.topK(3);
        spark.table("texts").where("length(value) < 40").repartition(8).createOrReplaceTempView("texts8");
        int before = ModelCache.opened();

        List<Row> rows = spark.sql("SELECT size(top1(value).top) FROM texts8").collectAsList();

        assertThat(ModelCache.opened() - before).isEqualTo(1);
        assertThat(rows).hasSize(3).allSatisfy(r -> assertThat(r.getInt(0)).isEqualTo(1));
    }

    @Test
    void refusesModelsWithoutAFunctionAndTwoOfAKind() {
        assertThatThrownBy(() -> PerceiverUdfs.register(spark, SparkTests.GOLDEN.resolve("multimodal").toString()))
                .hasMessageEndingWith("is a PerceiverForMultimodalAutoencoding; the SQL functions run image "
                        + "classification, text classification, fill-mask and optical flow models");
        String conv = SparkTests.GOLDEN.resolve("image_conv").toString();
        assertThatThrownBy(() -> PerceiverUdfs.register(spark, conv, SparkTests.IMAGE_MODEL.toString()))
                .hasMessage("models " + conv + " and " + SparkTests.IMAGE_MODEL + " would both be perceiver_classify; "
                        + "register one under another name with its transformation's register(spark, name)");
    }
}
