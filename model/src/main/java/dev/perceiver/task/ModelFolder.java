package dev.perceiver.task;

import dev.perceiver.io.ImageProcessor;
import dev.perceiver.io.PreprocessorConfig;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.model.Head;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A model folder as the hub publishes it (config.json, model.safetensors or pytorch_model.bin, for the vision
 * models perhaps preprocessor_config.json), its config.json read once: the model and its input processing are built
 * from the same reading.
 */
public record ModelFolder(Path dir, PerceiverConfig config) {

    public static ModelFolder read(Path dir) {
        return new ModelFolder(dir, PerceiverConfig.load(dir.resolve(Perceiver.CONFIG_FILE)));
    }

    /** This folder, if its model does task; else a CheckpointException naming the folder as what. */
    public ModelFolder require(Task task, String what) {
        require(config, task, what);
        return this;
    }

    /**
     * Refuses, before any weights are read, a config whose head does not do task: a CheckpointException saying what
     * (the model, as the caller names it) is, which heads task runs, and which task runs this model.
     */
    public static void require(PerceiverConfig config, Task task, String what) {
        String architecture = config.architecture();
        Head head = List.of(Head.values()).stream().filter(h -> h.architecture().equals(architecture)).findFirst()
                .orElse(null);
        if (head != null && head.task() == task) return;
        List<String> wanted = task.heads().stream().map(Head::architecture).toList();
        throw new CheckpointException(null, what + " is a " + (architecture == null
                ? "model without architectures in its config.json" : architecture) + "; " + task.command() + " runs "
                + (wanted.size() == 1 ? wanted.getFirst() : String.join(", ", wanted.subList(0, wanted.size() - 1))
                + " or " + wanted.getLast()) + (head == null ? "" : " (for this model use 'perceiver "
                + head.task().command() + "')"));
    }

    /** The model, its weights memory-mapped where the checkpoint is safetensors. */
    public Perceiver load(Perceiver.Options options) {
        return Perceiver.load(dir, config, options);
    }

    /**
     * The image processor of a vision model: the folder's preprocessor_config.json if it has one, else the
     * checkpoints' defaults (224 from a 256 crop, ImageNet statistics). The learned-position head takes exactly
     * image_size² positions, so without a preprocessor config a model whose image_size is not 224 gets images of
     * image_size x image_size, with the same crop ratio.
     */
    public ImageProcessor imageProcessor() throws IOException {
        Path file = dir.resolve(PreprocessorConfig.FILE);
        if (Files.exists(file)) return PreprocessorConfig.read(file);
        boolean learned = Head.IMAGE_CLASSIFICATION_LEARNED.architecture().equals(config.architecture());
        return learned ? ImageProcessor.perceiverDefaults(config.imageSize()) : ImageProcessor.perceiverDefaults();
    }
}
