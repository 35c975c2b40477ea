package dev.perceiver.cli;

import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.model.Head;
import dev.perceiver.model.Perceiver;
import dev.perceiver.ops.KernelChoice;
import dev.perceiver.runtime.GpuOptions;

import java.nio.file.Path;
import java.util.Arrays;
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
     * Loads --model for a task command, checking from config.json, before the weights are read, that its head is one
     * the command runs; otherwise a CheckpointException naming the head found and the heads wanted.
     */
    static Perceiver load(Args args, String command, Head... heads) {
        Path dir = modelDir(args);
        Perceiver.Options options = options(args);
        String architecture = PerceiverConfig.load(dir.resolve("config.json")).architecture();
        if (Arrays.stream(heads).noneMatch(h -> h.architecture().equals(architecture))) {
            List<String> wanted = Arrays.stream(heads).map(Head::architecture).toList();
            throw new CheckpointException(null, "--model " + dir + " is a " + (architecture == null
                    ? "model without architectures in its config.json" : architecture) + "; " + command + " runs "
                    + (wanted.size() == 1 ? wanted.getFirst() : String.join(", ", wanted.subList(0, wanted.size() - 1))
                    + " or " + wanted.getLast()) + suggestion(architecture));
        }
        return Perceiver.load(dir, options);
    }

    /**
     * As {@link #load(Args, String, Head...)}, where --model may also name an official configuration of head, with
     * random weights (as bench takes them), to time a command at the real model's size; a folder of that name wins.
     */
    static Perceiver loadOrOfficial(Args args, String command, Head head) {
        ModelSource source = ModelSource.of(args);
        if (!source.official()) return load(args, command, head);
        if (!source.config().architecture().equals(head.architecture()))
            throw new Failure(Main.BAD_MODEL, "--model " + source.name() + " is a " + source.config().architecture() + "; "
                    + command + " runs " + head.architecture() + suggestion(source.config().architecture()));
        Perceiver.Options options = options(args);
        return source.open(options.openBackend());
    }

    /** The command that does run a head, for the wrong-model message. */
    private static String suggestion(String architecture) {
        Head head = Arrays.stream(Head.values()).filter(h -> h.architecture().equals(architecture)).findFirst().orElse(null);
        if (head == null) return "";
        String command = switch (head) {
            case IMAGE_CLASSIFICATION_LEARNED, IMAGE_CLASSIFICATION_FOURIER, IMAGE_CLASSIFICATION_CONV -> "classify";
            case MASKED_LM -> "fill-mask";
            case OPTICAL_FLOW -> "flow";
            case MULTIMODAL_AUTOENCODING -> "autoencode";
            case SEQUENCE_CLASSIFICATION -> "classify-text";
        };
        return " (for this model use 'perceiver " + command + "')";
    }

    static Set<String> with(String... more) {
        Set<String> s = new TreeSet<>(VALUED);
        s.addAll(List.of(more));
        return s;
    }
}
