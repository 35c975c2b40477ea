package dev.perceiver.task;

import dev.perceiver.io.ImageFiles;
import dev.perceiver.io.ImageProcessor;
import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.RgbImage;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * ImageNet-style classification with PerceiverForImageClassificationLearned, -Fourier or -ConvProcessing: images
 * prepared as HF's PerceiverImageProcessor prepares them (the folder's preprocessor_config.json, else the
 * checkpoints' defaults), classes labelled from the config's id2label.
 */
public final class ImageClassifier extends TaskModel {
    private final ImageProcessor processor;

    private ImageClassifier(Perceiver model, ImageProcessor processor) {
        super(model, Task.CLASSIFY);
        this.processor = processor;
    }

    /** The model in folder dir, run with the default options. */
    public static ImageClassifier open(Path dir) throws IOException {
        return open(dir, Perceiver.Options.DEFAULT);
    }

    /** The model in folder dir; a model of another task is refused before its weights are read. */
    public static ImageClassifier open(Path dir, Perceiver.Options options) throws IOException {
        return open(ModelFolder.read(dir), options);
    }

    /** The model of a folder already read, its image processor from the same folder. */
    public static ImageClassifier open(ModelFolder folder, Perceiver.Options options) throws IOException {
        folder.require(Task.CLASSIFY, folder.dir().toString());
        ImageProcessor processor = folder.imageProcessor();
        return new ImageClassifier(folder.load(options), processor);
    }

    /**
     * A loaded image classifier and the processor its images need (see {@link ModelFolder#imageProcessor}); closing
     * this closes the model.
     */
    public static ImageClassifier of(Perceiver model, ImageProcessor processor) {
        return new ImageClassifier(model, processor);
    }

    /** The k most likely classes of an image file (PNG, JPEG, BMP or GIF). */
    public List<Prediction> classify(Path image, int k) throws IOException {
        return classify(ImageFiles.readInput(image), k);
    }

    /** The k most likely classes of image, most likely first. */
    public List<Prediction> classify(RgbImage image, int k) {
        return classify(List.of(image), k).getFirst();
    }

    /** The k most likely classes of each image, in one forward pass. */
    public List<List<Prediction>> classify(List<RgbImage> images, int k) {
        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> pixels = new ArrayList<>(images.size());
            for (RgbImage image : images) pixels.add(pixels(image, false, arena));
            return top(logits(pixels, false, arena), k);
        }
    }

    /**
     * One image's pixel values [3, H, W], at the processor's size or (ownSize) the image's own, rescaled and
     * normalised only; an image the processor cannot take is an InvalidInputException.
     */
    public Tensor pixels(RgbImage image, boolean ownSize, SegmentAllocator alloc) {
        return ownSize ? processor.preprocessAtOwnSize(image, alloc) : processor.preprocess(image, alloc);
    }

    /** {@link #pixels(RgbImage, boolean, SegmentAllocator)} of an image file, whose name the errors give. */
    public Tensor pixels(Path file, boolean ownSize, SegmentAllocator alloc) throws IOException {
        RgbImage image = ImageFiles.readInput(file);
        try {
            return pixels(image, ownSize, alloc);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file + ": " + e.getMessage());
        }
    }

    /**
     * The logits [images, num_labels] of prepared images of one size, in one pass. At their own size (ownSize) the
     * learned-position model resizes its position table to them (interpolate_pos_encoding); the Fourier and conv
     * models follow any grid as it is.
     */
    public Tensor logits(List<Tensor> pixels, boolean ownSize, Arena arena) {
        Tensor first = pixels.getFirst();
        Tensor batch = Tensor.zeros(arena, pixels.size(), first.dim(0), first.dim(1), first.dim(2));
        for (int i = 0; i < pixels.size(); i++) batch.select(0, i).copyFrom(pixels.get(i));
        return model.forward(PerceiverInputs.of(batch).interpolatePosEncoding(ownSize && model.interpolatesPositions()))
                .logitsTensor();
    }

    /** The k most likely classes of one row of logits, labelled from the config's id2label. */
    public List<Prediction> top(float[] logits, int k) {
        return Prediction.topK(logits, k, model.config()::label);
    }

    private List<List<Prediction>> top(Tensor logits, int k) {
        List<List<Prediction>> out = new ArrayList<>(logits.dim(0));
        for (int i = 0; i < logits.dim(0); i++) out.add(top(logits.select(0, i).toArray(), k));
        return out;
    }

    public ImageProcessor processor() {
        return processor;
    }
}
