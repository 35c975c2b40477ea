package dev.perceiver.loader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Opens a model's weights from a checkpoint folder or a weights file. */
public final class Checkpoints {
    public static final String SAFETENSORS = "model.safetensors";
    public static final String PYTORCH = "pytorch_model.bin";
    private static final int LISTED = 20;

    private Checkpoints() {
    }

    /**
     * For a folder, its {@value #SAFETENSORS} if present, else its {@value #PYTORCH}. For a file, see {@link #isTorch}.
     */
    public static Checkpoint open(Path path) {
        if (Files.isDirectory(path)) {
            for (String name : List.of(SAFETENSORS, PYTORCH)) {
                Path file = path.resolve(name);
                if (Files.exists(file)) return openFile(file);
            }
            throw new CheckpointException(path, "folder has neither " + SAFETENSORS + " nor " + PYTORCH + describe(path));
        }
        if (!Files.exists(path)) throw new CheckpointException(path, "no such file or folder");
        return openFile(path);
    }

    private static Checkpoint openFile(Path file) {
        return isTorch(file) ? TorchCheckpoint.open(file) : SafeTensorsFile.open(file);
    }

    /**
     * Whether a weights file is a torch.save archive rather than safetensors: a {@code .safetensors} name is
     * safetensors; otherwise a zip, or a legacy pickle (which TorchCheckpoint then refuses), is torch, unless its
     * bytes have safetensors' structure (an 8-byte little-endian header length then '{'). A pickle's first byte,
     * 0x80, is also the low byte of a safetensors header length one time in 256 lengths, so it alone decides
     * nothing.
     */
    static boolean isTorch(Path file) {
        if (file.getFileName().toString().endsWith(".safetensors")) return false;
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(9);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot open: " + e, e);
        }
        boolean zip = head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        boolean safetensors = head.length == 9 && head[8] == '{';
        boolean pickle = head.length > 0 && head[0] == (byte) 0x80;
        return zip || pickle && !safetensors;
    }

    private static String describe(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName() + (Files.isDirectory(p) ? "/" : "")).sorted().toList();
            if (names.isEmpty()) return " (it is empty)";
            String sharded = names.stream().anyMatch(n -> n.endsWith(".index.json"))
                    ? "; sharded checkpoints (*.index.json) are not supported" : "";
            return " (it holds " + String.join(", ", names.subList(0, Math.min(LISTED, names.size())))
                    + (names.size() > LISTED ? " and " + (names.size() - LISTED) + " more" : "") + ")" + sharded;
        } catch (IOException e) {
            return " (and cannot be listed: " + e + ")";
        }
    }
}
