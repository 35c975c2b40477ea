package dev.perceiver.task;

import dev.perceiver.io.FlowFiles;
import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.RgbImage;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;
import java.util.List;

/**
 * Optical flow with PerceiverForOpticalFlow, in pixels: frames of any size at least the model's train_size are cut
 * into overlapping train_size tiles, run {@code batch} tiles per forward pass, and blended as the reference's colab
 * does. A pair at a time ({@link #flow}) or a whole frame sequence, streamed ({@link #sequence}).
 */
public final class OpticalFlow extends TaskModel {
    /** The colab's least overlap of neighbouring tiles, in pixels. */
    private static final int DEFAULT_OVERLAP = 20;
    private static final int DEFAULT_BATCH = 2;

    private OpticalFlow(Perceiver model) {
        super(model, Task.FLOW);
    }

    public static OpticalFlow open(Path dir) {
        return open(dir, Perceiver.Options.DEFAULT);
    }

    /** The model in folder dir; a model of another task is refused before its weights are read. */
    public static OpticalFlow open(Path dir, Perceiver.Options options) {
        return new OpticalFlow(load(dir, options, Task.FLOW));
    }

    /** A loaded optical flow model, which closing this closes. */
    public static OpticalFlow of(Perceiver model) {
        return new OpticalFlow(model);
    }

    /**
     * The least overlap of neighbouring tiles: requested, or for -1 the colab's 20 pixels (less for a model whose
     * tiles are too small for that); it must be less than the tile's shorter side (else IllegalArgumentException).
     */
    public int overlap(int requested) {
        int side = Math.min(model.config().trainSize().get(0), model.config().trainSize().get(1));
        if (requested < 0) return Math.min(DEFAULT_OVERLAP, side - 1);
        if (requested >= side)
            throw new IllegalArgumentException("overlap must be less than the tile's shorter side, " + side + ", got " + requested);
        return requested;
    }

    /** The flow from frame0 to frame1 in pixels [H, W, 2], with the default overlap, 2 tiles per pass. */
    public Tensor flow(RgbImage frame0, RgbImage frame1, SegmentAllocator alloc) {
        return flow("frame0", frame0, "frame1", frame1, overlap(-1), DEFAULT_BATCH, alloc);
    }

    /**
     * The flow from frame0 to frame1 in pixels [H, W, 2], overlap as {@link #overlap} checked it; frames of different
     * sizes or smaller than the model's tiles are an InvalidInputException naming them (name0, name1).
     */
    public Tensor flow(String name0, RgbImage frame0, String name1, RgbImage frame1, int overlap, int batch,
                       SegmentAllocator alloc) {
        if (frame0.width() != frame1.width() || frame0.height() != frame1.height())
            throw new InvalidInputException(name0 + " is " + size(frame0) + " but " + name1 + " is " + size(frame1)
                    + "; both frames must have the same size");
        requireTileSize(model, "the frames are", frame0);
        Tensor[] out = new Tensor[1];
        try {
            sequence(overlap, batch).run(List.of(new FlowSequence.Input(Path.of(name0), frame0, null),
                    new FlowSequence.Input(Path.of(name1), frame1, null)).iterator(),
                    f -> out[0] = f.pixels().copy(alloc));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the sink above writes nothing
        }
        return out[0];
    }

    /** A runner of the flow of every consecutive pair of a frame sequence, overlap as {@link #overlap} checked it. */
    public FlowSequence sequence(int overlap, int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        return new FlowSequence(model, overlap, batch);
    }

    /** Refuses a frame smaller than one of the model's tiles; what starts the message ("the frames are"). */
    static void requireTileSize(Perceiver model, String what, RgbImage frame) {
        int tileHeight = model.config().trainSize().get(0), tileWidth = model.config().trainSize().get(1);
        if (frame.height() < tileHeight || frame.width() < tileWidth)
            throw new InvalidInputException(what + " " + size(frame) + " but this model needs at least "
                    + tileWidth + "x" + tileHeight + " (its train_size); pad or resize them");
    }

    /** The model's blended flow (logits) times FLOW_SCALE_FACTOR: pixels. */
    static Tensor pixels(Tensor logits, SegmentAllocator alloc) {
        float[] f = logits.toArray();
        for (int i = 0; i < f.length; i++) f[i] *= FlowFiles.FLOW_SCALE_FACTOR;
        return Tensor.of(alloc, f, logits.shape());
    }

    static String size(RgbImage image) {
        return image.width() + "x" + image.height();
    }
}
