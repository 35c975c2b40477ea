package dev.perceiver.spark;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.task.ModelFolder;
import dev.perceiver.task.Prediction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Set;

/**
 * Image classification of a Dataset of images, as {@code perceiver classify} does it (same preparation, same
 * softmax): adds {@code top} (array of {index, label, logit, score}, most likely first) and {@code error}.
 *
 * <p>Images come from a path column (a local or NFS path or file: URI, read directly, or a URI of another file system
 * Spark reads, such as hdfs:// or s3a://, read through Hadoop's FileSystem API) or, with {@link #contentCol}, from
 * image bytes such as Spark's {@code binaryFile} source gives; the path column then only names the image in errors,
 * and the bytes column is not copied to the output.
 */
public final class ImageClassifier extends TopKTransform<ImageClassifier, ImageClassifier.Image, Tensor> {
    private static final long serialVersionUID = 1L;

    private String contentCol;

    /** One row's image: its path or URI (or null), and its bytes where the row holds them. */
    record Image(String name, byte[] content) {
        /** How errors name the image. */
        String label() {
            return name != null ? name : "image bytes";
        }
    }

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
    Task task() {
        return Task.CLASSIFY;
    }

    private record Prepared(dev.perceiver.task.ImageClassifier classifier, HadoopFiles files) {}

    @Override
    Object prepare(Perceiver model, HadoopFiles files) {
        try {
            return new Prepared(dev.perceiver.task.ImageClassifier.of(model,
                    new ModelFolder(ModelCache.resolve(this.model), model.config()).imageProcessor()), files);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    Image input(Row row, StructType schema) {
        int pathAt = schema.fieldIndex(inputCol), contentAt = contentCol == null ? -1 : schema.fieldIndex(contentCol);
        return new Image(row.isNullAt(pathAt) ? null : row.getString(pathAt),
                contentAt < 0 || row.isNullAt(contentAt) ? null : row.getAs(contentAt));
    }

    /** A path (string) or the image's bytes (binary). */
    @Override
    Image udfInput(Object argument) {
        return switch (argument) {
            case null -> new Image(null, null);
            case String path -> new Image(path, null);
            case byte[] bytes -> new Image(null, bytes);
            default -> throw wrongType("a string (a path) or binary (image bytes)", argument);
        };
    }

    /** The image's pixel values as perceiver classify prepares them. */
    @Override
    Tensor encode(Perceiver model, Object prepared, Image image, Arena arena) throws IOException {
        Prepared p = (Prepared) prepared;
        if (image.name() == null && image.content() == null)
            throw new InvalidInputException("no path and no image bytes in this row");
        return readFile(image.label(), image.content(), p.files(), file -> p.classifier().pixels(file, false, arena));
    }

    @Override
    Tensor logits(Perceiver model, Object prepared, List<Tensor> encoded, Arena arena) {
        return ((Prepared) prepared).classifier().logits(encoded, false, arena);
    }

    @Override
    Object[] result(Perceiver model, Tensor encoded, Tensor logits) {
        return ok(rows(Prediction.topK(logits.toArray(), topK, model.config()::label)));
    }
}
