package dev.perceiver.cli;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.loader.json.Json;
import dev.perceiver.model.OfficialModels;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverOutput;
import dev.perceiver.model.SampleInputs;
import dev.perceiver.ops.Kernels;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** perceiver info: what a model is and what running it costs. */
final class InfoCommand implements Command {
    @Override
    public String name() {
        return "info";
    }

    @Override
    public String summary() {
        return "show a model's head, parameter count, FLOPs per forward and memory needed";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver info --model DIR|NAME [--json]

                Describes a model folder, or one of the official checkpoints' configs by name (%s).
                FLOPs count the matrix products of one forward pass at the head's usual input (224x224 images,
                train_size flow tiles, max_position_embeddings tokens, one 1/128 decoding chunk of the multimodal
                model), as the reference computes them. Memory is the weights (mapped), their packed copy, and the
                scratch memory one pass needs.

                Options:
                  --model DIR|NAME  a model folder (config.json + weights) or an official model name
                  --json            one JSON object instead of text
                """.formatted(String.join(", ", OfficialModels.names()));
    }

    @Override
    public Set<String> flags() {
        return Set.of("json");
    }

    @Override
    public Set<String> valued() {
        return Set.of("model");
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        ModelSource source = ModelSource.of(args);
        boolean official = source.official();
        String model = source.name();
        PerceiverConfig config = source.config();
        Path weights = source.weightsFile();
        String weightsFile = official ? "random (official config)" : weights.getFileName().toString();
        long weightBytes = official ? 0 : weights.toFile().length();
        DryRunBackend backend = new DryRunBackend(Kernels.best());
        Map<String, Object> info = new LinkedHashMap<>();
        try (Perceiver m = source.open(backend); Arena arena = Arena.ofConfined()) {
            PerceiverOutput pass = m.forward(SampleInputs.of(m.head(), config, 1, arena, 0));
            info.put("model", model);
            info.put("head", m.head().architecture());
            info.put("parameters", m.parameterCount());
            info.put("weights_file", weightsFile);
            info.put("weights_bytes", weightBytes);
            info.put("packed_weights_bytes", backend.packedBytes());
            info.put("scratch_bytes", m.scratchBytes());
            info.put("gflop_per_forward", pass.flops() / 1e9);
            info.put("num_latents", config.numLatents());
            info.put("d_latents", config.dLatents());
            info.put("self_attention_layers", config.numSelfAttendsPerBlock());
            info.put("blocks", config.numBlocks());
            info.put("num_labels", config.numLabels());
        }
        if (args.has("json")) {
            out.println(Json.write(info));
            return Main.OK;
        }
        out.printf("model        %s%n", info.get("model"));
        out.printf("head         %s%n", info.get("head"));
        out.printf("parameters   %,d (%.1f M)%n", (long) info.get("parameters"), (long) info.get("parameters") / 1e6);
        out.printf("weights      %s, %s%n", weightsFile, official ? "made up for measuring" : mb(weightBytes) + " memory-mapped");
        out.printf("latents      %d x %d, %d block%s of %d self-attention layers%n", config.numLatents(), config.dLatents(),
                config.numBlocks(), config.numBlocks() == 1 ? "" : "s", config.numSelfAttendsPerBlock());
        out.printf("FLOPs        %.3f GFLOP per forward at batch 1%n", (double) info.get("gflop_per_forward"));
        out.printf("memory       %s weights + %s packed weights + %s scratch per concurrent pass%n", mb(weightBytes),
                mb(backend.packedBytes()), mb((long) info.get("scratch_bytes")));
        out.printf("labels       %d%n", config.numLabels());
        return Main.OK;
    }

    static String mb(long bytes) {
        return String.format("%.1f MB", bytes / 1e6);
    }
}
