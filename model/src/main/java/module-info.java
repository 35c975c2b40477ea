/**
 * The Perceiver and Perceiver IO model: the task-level API ({@link dev.perceiver.task}: classify an image, fill a
 * mask, estimate optical flow, ...), the model itself ({@link dev.perceiver.model}) and the files and processors
 * around it ({@link dev.perceiver.io}: images, text, audio, video, optical flow).
 */
module dev.perceiver.model {
    requires transitive dev.perceiver.ops;
    requires transitive dev.perceiver.runtime;
    requires transitive dev.perceiver.loader;
    requires java.desktop; // images are decoded with ImageIO

    exports dev.perceiver.io;
    exports dev.perceiver.model;
    exports dev.perceiver.task;
}
