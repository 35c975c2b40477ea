package dev.perceiver.cli;

import dev.perceiver.model.Perceiver;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** The options every model command shares: --model, --threads, --device. */
final class ModelArgs {
    static final Set<String> VALUED = Set.of("model", "threads", "device");

    private ModelArgs() {}

    static Perceiver.Options options(Args args) {
        String device = args.get("device", "auto");
        if (!Set.of("cpu", "gpu", "auto").contains(device))
            throw new UsageException("--device takes cpu, gpu or auto, got '" + device + "'");
        return new Perceiver.Options(args.getInt("threads", 0, 1), device);
    }

    static Path modelDir(Args args) {
        Path dir = Path.of(args.require("model"));
        if (!Files.isDirectory(dir))
            throw new UsageException("--model " + dir + " is not a folder (it should hold config.json and the weights)");
        return dir;
    }

    static Perceiver load(Args args) {
        return Perceiver.load(modelDir(args), options(args));
    }

    static Set<String> with(String... more) {
        java.util.Set<String> s = new java.util.TreeSet<>(VALUED);
        s.addAll(java.util.List.of(more));
        return s;
    }
}
