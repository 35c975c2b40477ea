/** Checkpoints (safetensors, torch pickles), the Perceiver config.json, and the JSON reader and writer under them. */
module dev.perceiver.loader {
    requires transitive dev.perceiver.runtime;

    exports dev.perceiver.loader;
    exports dev.perceiver.loader.json;
}
