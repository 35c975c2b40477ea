package dev.perceiver.spark;

import dev.perceiver.cli.SparkBridge;
import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.ImageProcessor;
import dev.perceiver.io.RgbImage;
import dev.perceiver.model.Head;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.Tensor;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Image classification of a Dataset of images, as {@code perceiver classify} does it (same preparation, same
 * softmax): adds {@code top} (array of {index, label, logit, score}, most likely first) and {@code error}.
 *
 * <p>Images come from a path column (a local or NFS path, or a file: URI) or, with {@link #contentCol}, from image
 * bytes such as Spark's {@code binaryFile} source gives for any file system (HDFS, S3, ...); the path column then
 * only names the image in errors, and the bytes column is not copied to the output.
 */
public final class ImageClassifier extends PerceiverTransform<ImageClassifier> {
    private static final long serialVersionUID = 1L;
    static final Set<Head> HEADS = Set.of(Head.IMAGE_CLASSIFICATION_LEARNED, Head.IMAGE_CLASSIFICATION_FOURIER,
            Head.IMAGE_CLASSIFICATION_CONV);

    private String contentCol;

    /** model: a model folder (see {@link ModelCache#resolve}); images from column "path" by default. */
    public ImageClassifier(String model) {
        super(model, "path");
    }

    /** Reads each image's bytes from this binary column (e.g. binaryFile's "content") instead of its path. */
    public ImageClassifier contentCol(String column) {
        this.contentCol = column;
        return this;
    }

    @Override
    Set<String> dropped() {
        return contentCol == null ? Set.of() : Set.of(contentCol);
    }

    @Override
    public StructType outputSchema(StructType input) {
        if (contentCol != null) requireColumn(input, contentCol, DataTypes.BinaryType);
        return super.outputSchema(input);
    }

    @Override
    StructType resultFields() {
        return new StructType().add("top", TOP, true);
    }

    @Override
    Set<Head> heads() {
        return HEADS;
    }

    @Override
    Object prepare(Perceiver model, StructType inputSchema) {
        try {
            return SparkBridge.imageProcessor(ModelCache.resolve(this.model), model.config(), model.head());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    List<Object[]> infer(Perceiver model, Object prepared, List<Row> batch, StructType inputSchema) {
        ImageProcessor processor = (ImageProcessor) prepared;
        int pathAt = inputSchema.fieldIndex(inputCol), contentAt = contentCol == null ? -1 : inputSchema.fieldIndex(contentCol);
        List<Object[]> results = new ArrayList<>(batch.size());
        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> pixels = new ArrayList<>();
            List<Integer> good = new ArrayList<>();
            for (Row row : batch) {
                String name = row.isNullAt(pathAt) ? null : row.getString(pathAt);
                try {
                    pixels.add(processor.preprocess(read(name, contentAt < 0 || row.isNullAt(contentAt) ? null
                            : row.<byte[]>getAs(contentAt)), arena));
                    good.add(results.size());
                    results.add(null);
                } catch (IOException | IllegalArgumentException e) {
                    String why = e.getMessage();
                    results.add(failed(why != null && name != null && why.contains(name) ? why : name + ": " + why));
                }
            }
            if (good.isEmpty()) return results;
            Tensor x = Tensor.zeros(arena, good.size(), 3, processor.height(), processor.width());
            for (int i = 0; i < good.size(); i++) x.select(0, i).copyFrom(pixels.get(i));
            Tensor logits = model.forward(PerceiverInputs.of(x)).logitsTensor();
            for (int i = 0; i < good.size(); i++)
                results.set(good.get(i), new Object[] {rows(SparkBridge.topK(logits.select(0, i).toArray(), topK,
                        model.config()::label)), null});
        }
        return results;
    }

    /** Decodes an image from its bytes if given, else from its path; errors name the image by its path. */
    private static RgbImage read(String name, byte[] content) throws IOException {
        if (content == null) {
            if (name == null) throw new IOException("no path and no image bytes in this row");
            return ImageFiles.read(localPath(name));
        }
        // The decoder reads files; a task-local temporary file stands in for the remote one.
        Path tmp = Files.createTempFile("perceiver-image-", ".bin");
        try {
            Files.write(tmp, content);
            return ImageFiles.read(tmp);
        } catch (IOException e) {
            throw new IOException(String.valueOf(e.getMessage()).replace(tmp.toString(), String.valueOf(name)), e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static Path localPath(String name) throws IOException {
        if (!name.contains(":")) return Path.of(name);
        URI uri = URI.create(name);
        if ("file".equals(uri.getScheme())) return Path.of(uri);
        throw new IOException(name + ": only local paths are read directly; read " + uri.getScheme()
                + " files through a bytes column (spark.read.format(\"binaryFile\") and contentCol(\"content\"))");
    }
}
