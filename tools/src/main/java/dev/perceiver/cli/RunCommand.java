package dev.perceiver.cli;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.loader.SafeTensorsWriter;
import dev.perceiver.model.NamedInputs;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverOutput;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Set;

/** perceiver run: tensors in, tensors out, under the reference's names. */
final class RunCommand implements Command {
    @Override
    public String name() {
        return "run";
    }

    @Override
    public String summary() {
        return "run a model on tensors from a safetensors file and write its outputs to another";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver run --model DIR --inputs IN.safetensors --output OUT.safetensors [--all]
                                     [--interpolate-pos-encoding]

                Runs one forward pass. IN holds tensors named as the reference's forward arguments:
                  inputs                        float pixels [B,3,H,W], flow patches [B,2,27,H,W], or int64 token ids [B,N]
                  inputs.<modality>             the multimodal model's audio [B,T,1], image [B,T,3,H,W], label [B,L]
                  attention_mask                [B,N], 1 = attend, 0 = padding (language models)
                  subsampled_output_points.<m>  int64 flat indices of the multimodal outputs to decode
                  labels                        int64 classes or float targets; adds 'loss' to the outputs
                OUT gets logits (or logits.<modality>), loss when labels are given, last_hidden_state, and with
                --all also hidden_states.N, attentions.N, cross_attentions.N, preprocessed and, for
                PerceiverForImageClassificationLearned, position_embeddings (its position table before the
                projection, as the pass used it).

                Options:
                  --model DIR       config.json plus model.safetensors or pytorch_model.bin
                  --inputs FILE     the input tensors
                  --output FILE     where to write the outputs (safetensors)
                  --all             also write hidden states, attention maps and the preprocessed input
                  --interpolate-pos-encoding
                                    transformers 4.42-4.44's interpolate_pos_encoding=True: the learned-position
                                    image classifier resizes its position table (bicubic, scale (H+0.1)/side per
                                    axis) to the input's H x W, so it takes pixels of any size; other models
                                    refuse it (the Fourier and conv classifiers take any size without it)
                  --threads N       worker threads (default: all processors)
                  --device D        cpu, gpu or auto (default auto)
                """;
    }

    @Override
    public Set<String> flags() {
        return Set.of("all", "interpolate-pos-encoding");
    }

    @Override
    public Set<String> valued() {
        return ModelArgs.with("inputs", "output");
    }

    /** A broken --inputs file is the user's data at fault, not the model (exit code 4, not 3). */
    static Checkpoint openInputs(Path file) {
        try {
            return SafeTensorsFile.open(file);
        } catch (CheckpointException e) {
            throw new InvalidInputException(e.getMessage());
        }
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        Path inputs = PathChecks.file("--inputs", args.require("inputs"), Main.BAD_INPUT);
        Path output = PathChecks.output("--output", args.require("output"), false);
        boolean interpolate = args.has("interpolate-pos-encoding");
        try (Perceiver model = ModelArgs.load(args); Checkpoint in = openInputs(inputs);
             Arena arena = Arena.ofConfined()) {
            if (interpolate && !model.interpolatesPositions())
                throw new UsageException("--interpolate-pos-encoding: " + model.head().architecture() + " has no trainable "
                        + "image position table to interpolate (only PerceiverForImageClassificationLearned takes it)");
            Perceiver.Extra[] extras = args.has("all") ? new Perceiver.Extra[]{Perceiver.Extra.ATTENTIONS,
                    Perceiver.Extra.HIDDEN_STATES, Perceiver.Extra.PREPROCESSED, Perceiver.Extra.POSITION_EMBEDDINGS}
                    : new Perceiver.Extra[0];
            PerceiverOutput result;
            try {
                result = model.forward(NamedInputs.read(in, arena).interpolatePosEncoding(interpolate), extras);
            } catch (InvalidInputException e) {
                // The learned model at another size than its table's: name the option that lets it run.
                if (!interpolate && model.interpolatesPositions() && e.getMessage().contains("interpolate_pos_encoding"))
                    throw new InvalidInputException(e.getMessage() + "; give --interpolate-pos-encoding to resize the table");
                throw e;
            }
            SafeTensorsWriter w = new SafeTensorsWriter();
            result.named().forEach(w::putFloats);
            w.putMetadata("architecture", model.head().architecture());
            w.write(output);
            if (!args.has("quiet"))
                err.printf("perceiver run: wrote %d tensors to %s (%.2f s)%n", result.named().size(), output,
                        result.stageNanos().values().stream().mapToLong(Long::longValue).sum() / 1e9);
        }
        return Main.OK;
    }
}
