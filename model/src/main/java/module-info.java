/**
 * The Perceiver and Perceiver IO model ({@link dev.perceiver.model}) and the files and processors around it
 * ({@link dev.perceiver.io}: images, text, audio, video, optical flow).
 */
module dev.perceiver.model {
    requires transitive dev.perceiver.ops;
    requires transitive dev.perceiver.runtime;
    requires transitive dev.perceiver.loader;
    requires java.desktop; // images are decoded with ImageIO

    exports dev.perceiver.io;
    exports dev.perceiver.model;
}
