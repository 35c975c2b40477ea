package dev.perceiver.loader;

import dev.perceiver.loader.StateDictUnpickler.Storage;
import dev.perceiver.loader.StateDictUnpickler.TensorRef;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@code pytorch_model.bin} as torch.save (1.6 and later) writes it: a zip holding {@code <name>/data.pkl}, the
 * pickled state_dict, and one uncompressed {@code <name>/data/<key>} record per storage. The archive is mapped; the
 * pickle is read by {@link StateDictUnpickler}, which runs no code; contiguous tensors are slices of the mapping, and
 * every tensor's extent is checked against its storage before any element is read.
 */
public final class TorchCheckpoint extends MappedCheckpoint {
    private static final int MAX_PICKLE_BYTES = Integer.MAX_VALUE - 8;

    /**
     * Where a tensor's elements are: its view of a storage, and whether that view is dense row-major. The tensor's
     * TensorInfo gives the file offset of its first element and its dense byte size.
     */
    private record View(long[] shape, long[] stride, boolean contiguous) {
    }

    private final Map<String, View> views;

    private TorchCheckpoint(Path path, Arena arena, MemorySegment file, Map<String, TensorInfo> tensors,
                            Map<String, View> views) {
        super(path, arena, file, tensors);
        this.views = views;
    }

    /** Maps and reads the checkpoint; a CheckpointException names the file, the record or tensor, and the rule. */
    public static TorchCheckpoint open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file = map(path, arena);
            checkMagic(path, file);
            Map<String, ZipArchive.Entry> entries = ZipArchive.entries(path, file);
            String prefix = prefix(path, entries);
            checkByteOrder(path, file, entries.get(prefix + "byteorder"));
            ZipArchive.Entry pkl = entries.get(prefix + "data.pkl");
            if (pkl.size() > MAX_PICKLE_BYTES)
                throw new CheckpointException(path, prefix + "data.pkl is " + pkl.size() + " bytes, too large to read");
            byte[] pickle = file.asSlice(pkl.offset(), pkl.size()).toArray(ValueLayout.JAVA_BYTE);
            Object root = StateDictUnpickler.load(path, pickle,
                    (dtype, key, numel) -> storage(path, entries, prefix, dtype, key, numel));
            if (!(root instanceof Map<?, ?> stateDict))
                throw new CheckpointException(path, "data.pkl holds a " + StateDictUnpickler.kind(root) + ", not a state_dict");
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, View> views = new HashMap<>();
            for (Map.Entry<?, ?> e : stateDict.entrySet()) {
                if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof TensorRef ref))
                    throw new CheckpointException(path, "state_dict entry '" + e.getKey() + "' is not a tensor");
                View view = view(path, name, ref);
                views.put(name, view);
                tensors.put(name, new TensorInfo(name, ref.storage().dtype(), view.shape,
                        ref.storage().fileOffset() + ref.offset() * ref.storage().dtype().bytes(),
                        count(view.shape) * ref.storage().dtype().bytes()));
            }
            return new TorchCheckpoint(path, arena, file, tensors, views);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    MemorySegment elements(TensorInfo tensor, Arena scratch) {
        View view = views.get(tensor.name());
        if (view.contiguous) return file.asSlice(tensor.byteOffset(), tensor.byteLength());
        // Walk the view in row-major order, copying each element's bytes.
        int size = tensor.dtype().bytes(), rank = view.shape.length;
        MemorySegment out = scratch.allocate(Math.max(1, tensor.byteLength()), 8);
        long[] index = new long[rank];
        long element = 0;
        for (long i = 0, n = count(view.shape); i < n; i++) {
            MemorySegment.copy(file, tensor.byteOffset() + element * size, out, i * size, size);
            for (int d = rank - 1; d >= 0; d--) {
                element += view.stride[d];
                if (++index[d] < view.shape[d]) break;
                element -= view.stride[d] * view.shape[d];
                index[d] = 0;
            }
        }
        return out.asSlice(0, tensor.byteLength());
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    private static void checkMagic(Path path, MemorySegment file) {
        if (file.byteSize() >= 4 && file.get(Elements.INT, 0) == 0x04034b50) return;
        if (file.byteSize() >= 1 && file.get(ValueLayout.JAVA_BYTE, 0) == (byte) 0x80)
            throw new CheckpointException(path, "legacy (pre-1.6, non-zip) torch.save format is not supported; "
                    + "load it with torch and save it again, or convert it to safetensors");
        throw new CheckpointException(path, "not a torch.save zip archive (it does not start with PK\\3\\4)");
    }

    /** The archive's folder name: torch.save puts every record under one top-level folder. */
    private static String prefix(Path path, Map<String, ZipArchive.Entry> entries) {
        String prefix = null;
        for (String name : entries.keySet()) {
            if (!name.endsWith("/data.pkl") || name.indexOf('/') != name.length() - "/data.pkl".length()) continue;
            if (prefix != null) throw new CheckpointException(path, "archive holds more than one data.pkl record");
            prefix = name.substring(0, name.length() - "data.pkl".length());
        }
        if (prefix == null)
            throw new CheckpointException(path, "archive has no <name>/data.pkl record, so it is not a torch.save "
                    + "checkpoint (it holds " + entries.keySet().stream().limit(5).toList()
                    + (entries.size() > 5 ? " and " + (entries.size() - 5) + " more" : "") + ")");
        return prefix;
    }

    private static void checkByteOrder(Path path, MemorySegment file, ZipArchive.Entry record) {
        // Archives from before torch 1.10 have no byteorder record; they are little-endian.
        if (record == null) return;
        String order = record.size() > 16 ? "?" : new String(
                file.asSlice(record.offset(), record.size()).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip();
        if (order.equals("little")) return;
        if (order.equals("big"))
            throw new CheckpointException(path, "checkpoint was saved big-endian (byteorder 'big'); only little-endian "
                    + "checkpoints are supported: load and save it again on a little-endian machine");
        throw new CheckpointException(path, "byteorder record must say 'little' or 'big', found '" + order + "'");
    }

    private static Storage storage(Path path, Map<String, ZipArchive.Entry> entries, String prefix, DType dtype,
                                   String key, long numel) {
        ZipArchive.Entry record = entries.get(prefix + "data/" + key);
        if (record == null)
            throw new CheckpointException(path, "storage '" + key + "' has no record " + prefix + "data/" + key
                    + " in the archive");
        if (numel < 0 || numel > record.size() / dtype.bytes())
            throw new CheckpointException(path, "storage '" + key + "' claims " + numel + " " + dtype
                    + " elements but its record holds " + record.size() + " bytes");
        return new Storage(key, dtype, numel, record.offset());
    }

    /** Checks the view against its storage: every element it reaches must lie inside the storage. */
    private static View view(Path path, String name, TensorRef ref) {
        long[] shape = ref.shape(), stride = ref.stride();
        Storage storage = ref.storage();
        String where = "tensor '" + name + "' (size " + Arrays.toString(shape) + ", stride " + Arrays.toString(stride)
                + ", offset " + ref.offset() + ")";
        if (shape.length != stride.length) throw new CheckpointException(path, where + ": size and stride differ in rank");
        if (ref.offset() < 0 || Arrays.stream(shape).anyMatch(d -> d < 0) || Arrays.stream(stride).anyMatch(s -> s < 0))
            throw new CheckpointException(path, where + ": negative size, stride or offset");
        long n, last = ref.offset();
        try {
            n = count(shape);
            for (int d = 0; d < shape.length; d++)
                if (shape[d] > 0) last = Math.addExact(last, Math.multiplyExact(shape[d] - 1, stride[d]));
        } catch (ArithmeticException overflow) {
            throw new CheckpointException(path, where + ": extent overflows 64 bits");
        }
        // An empty view reads nothing, but its offset still has to point into (or just past) the storage.
        if (n == 0 ? ref.offset() > storage.numel() : last >= storage.numel())
            throw new CheckpointException(path, where + " reaches element " + (n == 0 ? ref.offset() : last)
                    + " of storage '" + storage.key() + "', which holds " + storage.numel());
        // Copies are sized by the element count, so a view bigger than its storage (an expand) could ask for any size.
        if (n > storage.numel())
            throw new CheckpointException(path, where + " has " + n + " elements but its storage '" + storage.key()
                    + "' holds " + storage.numel() + " (expanded views are not supported)");
        boolean contiguous = true;
        long dense = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != dense) contiguous = false;
            dense *= shape[d];
        }
        return new View(shape, stride, contiguous || n == 0);
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }
}
