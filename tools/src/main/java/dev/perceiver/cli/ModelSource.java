package dev.perceiver.cli;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.Checkpoints;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.model.OfficialModels;
import dev.perceiver.model.Perceiver;
import dev.perceiver.runtime.Backend;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What --model names for commands that also take official configs: a model folder, or an official checkpoint's
 * config by name, with random weights (a folder of that name wins).
 */
record ModelSource(String name, Path dir) {

    static ModelSource of(Args args) {
        String model = args.require("model");
        if (Files.isDirectory(Path.of(model))) return new ModelSource(model, Path.of(model));
        if (OfficialModels.has(model)) return new ModelSource(model, null);
        if (Files.exists(Path.of(model))) return new ModelSource(model, ModelArgs.modelDir(args));
        throw new Failure(Main.BAD_MODEL, "--model " + model + ": neither a folder nor an official model ("
                + String.join(", ", OfficialModels.names()) + ")");
    }

    boolean official() {
        return dir == null;
    }

    PerceiverConfig config() {
        return official() ? OfficialModels.config(name) : PerceiverConfig.load(dir.resolve(Perceiver.CONFIG_FILE));
    }

    /** The model on backend, which it then owns. */
    Perceiver open(Backend backend) {
        PerceiverConfig config = config();
        if (official()) return Perceiver.random(config, backend, true);
        Checkpoint checkpoint = Checkpoints.open(dir);
        try {
            return Perceiver.create(config, checkpoint, backend, true);
        } catch (RuntimeException e) {
            checkpoint.close();
            backend.close();
            throw e;
        }
    }

    /** The weights file, or null for random weights. */
    Path weightsFile() {
        if (official()) return null;
        try (Checkpoint c = Checkpoints.open(dir)) {
            return c.path();
        }
    }
}
