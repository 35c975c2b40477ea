package dev.perceiver.loader;

import dev.perceiver.loader.json.Json;
import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Collects F32 and I64 tensors and string metadata, then writes them as one safetensors file: tensors sorted by
 * name, the header padded with spaces so the data starts 8-byte aligned, written to a temporary file and moved into
 * place so readers never see half a file. Tensors are read when {@link #write} runs, so they must still be alive.
 */
public final class SafeTensorsWriter {
    private static final int CHUNK_BYTES = 1 << 20;

    /** One tensor: its elements are values of srcLayout in data's segment, stored as fileLayout. */
    private record Entry(DType dtype, long[] shape, Function<Arena, MemorySegment> data, ValueLayout srcLayout,
                         ValueLayout fileLayout) {
        long bytes() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact) * dtype.bytes();
        }
    }

    private final Map<String, Entry> tensors = new TreeMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    /** An empty file: no tensors, no metadata. */
    public SafeTensorsWriter() {}

    /** Adds a float tensor (any strides) stored as F32. */
    public SafeTensorsWriter putFloats(String name, Tensor tensor) {
        long[] shape = Arrays.stream(tensor.shape()).asLongStream().toArray();
        return put(name, new Entry(DType.F32, shape, scratch -> {
            Tensor dense = tensor.isContiguous() ? tensor : tensor.copy(scratch);
            return dense.segment().asSlice(dense.offset() * Float.BYTES, dense.size() * Float.BYTES);
        }, ValueLayout.JAVA_FLOAT_UNALIGNED, Elements.FLOAT));
    }

    /** Adds row-major values with the given shape, stored as I64. */
    public SafeTensorsWriter putLongs(String name, long[] values, long... shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        if (n != values.length)
            throw new IllegalArgumentException(values.length + " values do not fill shape " + Arrays.toString(shape));
        long[] copy = values.clone();
        return put(name, new Entry(DType.I64, shape.clone(), scratch -> MemorySegment.ofArray(copy),
                ValueLayout.JAVA_LONG_UNALIGNED, Elements.LONG));
    }

    /** Adds a __metadata__ entry. */
    public SafeTensorsWriter putMetadata(String key, String value) {
        if (value == null) throw new IllegalArgumentException("metadata '" + key + "' has a null value");
        metadata.put(key, value);
        return this;
    }

    private SafeTensorsWriter put(String name, Entry entry) {
        if (name.equals(SafeTensorsFile.METADATA_KEY))
            throw new IllegalArgumentException(SafeTensorsFile.METADATA_KEY + " is reserved for metadata");
        if (tensors.putIfAbsent(name, entry) != null)
            throw new IllegalArgumentException("tensor '" + name + "' was already added");
        return this;
    }

    /** Writes the file, replacing any file already at that path. */
    public void write(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        Path temp = null;
        try {
            temp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE);
                 Arena scratch = Arena.ofConfined()) {
                writeFully(out, ByteBuffer.wrap(header()));
                MemorySegment chunk = scratch.allocate(CHUNK_BYTES, 8);
                for (Entry e : tensors.values()) writeData(out, e, chunk, scratch);
                out.force(true);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // Best effort: the write itself already succeeded or reported its own failure.
                }
            }
        }
    }

    /** The 8-byte length followed by the space-padded JSON header. */
    private byte[] header() {
        Map<String, Object> json = new LinkedHashMap<>();
        if (!metadata.isEmpty()) json.put(SafeTensorsFile.METADATA_KEY, metadata);
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            long end = offset + e.getValue().bytes();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", e.getValue().dtype().name());
            info.put("shape", e.getValue().shape());
            info.put("data_offsets", List.of(offset, end));
            json.put(e.getKey(), info);
            offset = end;
        }
        byte[] text = Json.write(json).getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        ByteBuffer buf = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(padded).put(text);
        while (buf.hasRemaining()) buf.put((byte) ' ');
        return buf.array();
    }

    private static void writeData(FileChannel out, Entry e, MemorySegment chunk, Arena scratch) throws IOException {
        MemorySegment src = e.data().apply(scratch);
        long size = e.srcLayout().byteSize();
        long count = src.byteSize() / size;
        long perChunk = chunk.byteSize() / size;
        for (long i = 0; i < count; i += perChunk) {
            long k = Math.min(perChunk, count - i);
            MemorySegment.copy(src, e.srcLayout(), i * size, chunk, e.fileLayout(), 0, k);
            writeFully(out, chunk.asSlice(0, k * size).asByteBuffer());
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) out.write(buf);
    }
}
