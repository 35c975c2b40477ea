package dev.perceiver.cli;

import dev.perceiver.model.Perceiver;
import dev.perceiver.model.Task;
import dev.perceiver.ops.KernelChoice;
import dev.perceiver.runtime.GpuOptions;
import dev.perceiver.task.ModelFolder;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The options every model command shares: --model, --threads, --device, --kernels and the --cuda-* options. */
final class ModelArgs {
    static final Set<String> VALUED = Set.of("model", "threads", "device", "kernels", "cuda-lib-dir", "cuda-device",
            "cuda-tf32");

    private ModelArgs() {}

    static Perceiver.Options options(Args args) {
        String device = args.get("device", "auto");
        if (!Set.of("cpu", "gpu", "auto").contains(device))
            throw new UsageException("--device takes cpu, gpu or auto, got '" + device + "'");
        String kernels = args.get("kernels", "auto");
        if (!Set.of("auto", "vector", "scalar").contains(kernels))
            throw new UsageException("--kernels takes auto, vector or scalar, got '" + kernels + "'");
        String tf32 = args.get("cuda-tf32", "false");
        if (!Set.of("true", "false").contains(tf32))
            throw new UsageException("--cuda-tf32 takes true or false, got '" + tf32 + "'");
        String libraryDir = args.get("cuda-lib-dir", null);
        GpuOptions gpu = GpuOptions.defaults().withDevice(args.getInt("cuda-device", 0, 0))
                .withTf32(tf32.equals("true")).withLibraryDir(libraryDir == null ? null : Path.of(libraryDir));
        int threads = args.getInt("threads", 0, 1), processors = Runtime.getRuntime().availableProcessors();
        if (threads > processors)
            args.warn("--threads " + threads + " is more than the " + processors + " processors; the extra threads "
                    + "only wait and switch (the default is one per processor)");
        return new Perceiver.Options(threads, device).withKernels(KernelChoice.parse(kernels)).withGpu(gpu);
    }

    /** The --model folder; missing or not a folder is a bad model (exit code 3), as in every command. */
    static Path modelDir(Args args) {
        return PathChecks.folder("--model", args.require("model"), Main.BAD_MODEL);
    }

    static Perceiver load(Args args) {
        return Perceiver.load(modelDir(args), options(args));
    }

    /**
     * Reads --model's config.json for a task command and checks, before the weights are read, that its head does task;
     * otherwise a CheckpointException naming the head found, the heads wanted and the command for this model.
     */
    static ModelFolder folder(Args args, Task task) {
        Path dir = modelDir(args);
        return ModelFolder.read(dir).require(task, "--model " + dir);
    }

    /** {@link #folder} loaded with the command's options. */
    static Perceiver load(Args args, Task task) {
        Perceiver.Options options = options(args);
        return folder(args, task).load(options);
    }

    /**
     * As {@link #load(Args, Task)}, where --model may also name an official configuration of the task, with random
     * weights (as bench takes them), to time a command at the real model's size; a folder of that name wins.
     */
    static Perceiver loadOrOfficial(Args args, Task task) {
        ModelSource source = ModelSource.of(args);
        if (!source.official()) return load(args, task);
        ModelFolder.require(source.config(), task, "--model " + source.name());
        return source.open(options(args).openBackend());
    }

    static Set<String> with(String... more) {
        Set<String> s = new TreeSet<>(VALUED);
        s.addAll(List.of(more));
        return s;
    }
}
