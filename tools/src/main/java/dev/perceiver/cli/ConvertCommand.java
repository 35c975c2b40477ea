package dev.perceiver.cli;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.Checkpoints;
import dev.perceiver.loader.DType;
import dev.perceiver.loader.SafeTensorsWriter;
import dev.perceiver.loader.TensorInfo;
import dev.perceiver.loader.TorchCheckpoint;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** perceiver convert: a folder's pytorch_model.bin as model.safetensors, which later loads map instead of parsing. */
final class ConvertCommand implements Command {
    @Override
    public String name() {
        return "convert";
    }

    @Override
    public String summary() {
        return "write model.safetensors beside a pytorch_model.bin, so loads are memory-mapped";
    }

    @Override
    public String help() {
        return """
                Usage: perceiver convert DIR [--force]

                Reads DIR/pytorch_model.bin (a torch.save zip archive; no pickle code is run) and writes every
                tensor under the same name and dtype to DIR/model.safetensors (F32 weights, I64 BatchNorm
                num_batches_tracked; metadata format=pt, as transformers writes it). Model folders with both files
                load model.safetensors, memory-mapped. The hub's vision and multimodal checkpoints publish only
                pytorch_model.bin on their main branch.

                Options:
                  --force           replace an existing DIR/model.safetensors
                  --quiet           no summary line
                """;
    }

    @Override
    public Set<String> flags() {
        return Set.of("force");
    }

    @Override
    public Set<String> valued() {
        return Set.of();
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        if (args.positional().size() != 1)
            throw new UsageException("give one model folder; got " + args.positional().size() + " arguments");
        Path dir = PathChecks.folder(null, args.positional().getFirst(), Main.BAD_MODEL);
        Path source = dir.resolve(Checkpoints.PYTORCH);
        Path target = PathChecks.output(null, dir.resolve(Checkpoints.SAFETENSORS).toString(), false);
        if (!Files.exists(source)) throw new CheckpointException(dir, "no " + Checkpoints.PYTORCH + " to convert");
        if (Files.exists(target) && !args.has("force"))
            throw new UsageException(target + " already exists; give --force to replace it");
        int floats = 0, longs = 0;
        try (Checkpoint checkpoint = TorchCheckpoint.open(source); Arena arena = Arena.ofConfined()) {
            SafeTensorsWriter writer = new SafeTensorsWriter().putMetadata("format", "pt");
            for (String name : checkpoint.names()) {
                TensorInfo info = checkpoint.info(name);
                if (info.dtype() == DType.F32) {
                    writer.putFloats(name, checkpoint.floats(name, arena));
                    floats++;
                } else if (info.dtype() == DType.I64) {
                    writer.putLongs(name, checkpoint.integers(name), info.shape());
                    longs++;
                } else {
                    throw new CheckpointException(source, "tensor " + info + ": convert keeps dtypes and writes F32 and I64 only");
                }
            }
            writer.write(target);
        }
        if (!args.has("quiet"))
            out.printf("wrote %s: %d tensors (%d F32, %d I64), %s%n", target, floats + longs, floats, longs,
                    InfoCommand.mb(Files.size(target)));
        return Main.OK;
    }
}
