package dev.perceiver.spark;

import dev.perceiver.task.Prediction;
import dev.perceiver.task.ModelFolder;
import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.ImageProcessor;
import dev.perceiver.io.RgbImage;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** One local[2] Spark session for every test class of this module (starting one takes seconds), and test inputs. */
final class SparkTests {
    static final Path GOLDEN = Path.of(System.getProperty("perceiver.testdata", "../testdata"), "golden");
    static final Path IMAGE_MODEL = GOLDEN.resolve("image_learned");
    private static SparkSession session;
    private static Perceiver engine;

    private SparkTests() {}

    static synchronized SparkSession spark() {
        if (session == null) {
            session = SparkSession.builder().master("local[2]").appName("perceiver-spark tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
            session.sparkContext().setLogLevel("WARN");
        }
        return session;
    }

    /** The single-JVM engine on the image model, one thread; open until the test JVM exits. */
    static synchronized Perceiver engine() {
        if (engine == null) engine = Perceiver.load(IMAGE_MODEL, new Perceiver.Options(1, "cpu"));
        return engine;
    }

    /** The single-JVM engine's top-k for one image, run alone (a batch of one), as perceiver classify prepares it. */
    static List<Prediction> expected(Path image, int k) throws IOException {
        Perceiver m = engine();
        ImageProcessor processor = ModelFolder.read(IMAGE_MODEL).imageProcessor();
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = processor.preprocess(ImageFiles.read(image), arena).reshape(1, 3, processor.height(), processor.width());
            return Prediction.topK(m.forward(PerceiverInputs.of(x)).logitsTensor().select(0, 0).toArray(), k,
                    m.config()::label);
        }
    }

    /** Rows of (path) in exactly partitions partitions, in order. */
    static Dataset<Row> paths(List<Path> files, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (Path f : files) rows.add(RowFactory.create(f.toString()));
        StructType schema = new StructType().add("path", DataTypes.StringType, true);
        return spark().createDataFrame(JavaSparkContext.fromSparkContext(spark().sparkContext())
                .parallelize(rows, partitions), schema);
    }

    /** n small PNGs of seeded random pixels and varied sizes, named image00.png ... */
    static List<Path> images(Path dir, int n) throws IOException {
        Random random = new Random(15);
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int w = 12 + random.nextInt(40), h = 12 + random.nextInt(40);
            byte[] pixels = new byte[w * h * 3];
            random.nextBytes(pixels);
            Path f = dir.resolve(String.format("image%02d.png", i));
            ImageFiles.writePng(new RgbImage(w, h, pixels), f);
            files.add(f);
        }
        return files;
    }

    /** A PNG cut off after its first 60 bytes. */
    static Path corrupt(Path dir, Path png) throws IOException {
        byte[] bytes = Files.readAllBytes(png);
        Path f = dir.resolve("corrupt.png");
        Files.write(f, Arrays.copyOf(bytes, 60));
        return f;
    }
}
