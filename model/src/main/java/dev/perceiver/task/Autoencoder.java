package dev.perceiver.task;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.RgbImage;
import dev.perceiver.io.VideoFiles;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.model.PerceiverOutput;
import dev.perceiver.model.Task;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Multimodal autoencoding with PerceiverForMultimodalAutoencoding: a chunk of num_frames video frames of the size
 * the model reconstructs (output_shape) and its num_frames x audio_samples_per_frame samples of sound go in; the
 * reconstructed frames and sound and the most likely labels come out. The label input is zeros (the model masks it
 * anyway). Every output point is decoded, in pieces of bounded memory.
 */
public final class Autoencoder extends TaskModel {

    /** frames [T, H, W, 3] and audio [samples] reconstructed, in the caller's arena; the k most likely labels. */
    public record Reconstruction(Tensor frames, Tensor audio, List<Prediction> labels) {}

    private Autoencoder(Perceiver model) {
        super(model, Task.AUTOENCODE);
    }

    public static Autoencoder open(Path dir) {
        return open(dir, Perceiver.Options.DEFAULT);
    }

    /** The model in folder dir; a model of another task is refused before its weights are read. */
    public static Autoencoder open(Path dir, Perceiver.Options options) {
        return new Autoencoder(load(dir, options, Task.AUTOENCODE));
    }

    /** A loaded multimodal autoencoder, which closing this closes. */
    public static Autoencoder of(Perceiver model) {
        return new Autoencoder(model);
    }

    /** Frames per chunk: num_frames. */
    public int frames() {
        return model.config().numFrames();
    }

    /** Audio samples per chunk: num_frames x audio_samples_per_frame. */
    public int samples() {
        return frames() * model.config().audioSamplesPerFrame();
    }

    /** Refuses frames of another size than the model reconstructs (output_shape [1, T, H, W]); where names them. */
    public void requireFrameSize(String where, int width, int height) {
        List<Integer> shape = model.config().outputShape();
        if (height != shape.get(2) || width != shape.get(3))
            throw new InvalidInputException(where + ": frames are " + width + "x" + height + "; this model takes "
                    + shape.get(3) + "x" + shape.get(2) + " frames (output_shape " + shape + ")");
    }

    /** One chunk of frames (RGB images) and its audio samples in [-1, 1], in memory the results arena holds. */
    public Reconstruction autoencode(List<RgbImage> frames, float[] audio, int k, Arena results) {
        try (Arena arena = Arena.ofConfined()) {
            return autoencode(VideoFiles.fromFrames(frames, arena), Tensor.of(arena, audio, 1, audio.length, 1), k,
                    results, (done, total) -> {});
        }
    }

    /**
     * One chunk: video [1, T, 3, H, W] (as {@link VideoFiles#readFrames} gives it) and audio [1, samples, 1]; the
     * results arena (shared) holds the reconstruction; progress hears as the output points are decoded.
     */
    public Reconstruction autoencode(Tensor video, Tensor audio, int k, Arena results,
                                     PerceiverInputs.DecodeProgress progress) {
        PerceiverConfig config = model.config();
        requireFrameSize("the video", video.dim(-1), video.dim(-2));
        List<Integer> shape = config.outputShape();
        try (Arena arena = Arena.ofConfined()) {
            PerceiverInputs inputs = PerceiverInputs.ofModalities(Map.of("image", video, "audio", audio,
                    "label", Tensor.zeros(arena, 1, config.numLabels()))).onProgress(progress);
            PerceiverOutput out = model.forward(inputs, results);
            return new Reconstruction(out.logits().get("image").reshape(frames(), shape.get(2), shape.get(3), 3),
                    out.logits().get("audio").reshape(-1), Prediction.topK(out.logits().get("label").select(0, 0)
                    .toArray(), k, config::label));
        }
    }
}
