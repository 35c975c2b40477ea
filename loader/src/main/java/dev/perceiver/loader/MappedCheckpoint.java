package dev.perceiver.loader;

import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint file mapped read-only into a shared arena it owns. Subclasses parse and validate the format and
 * say where each tensor's elements are; the conversion to float32 or long, and the checks on names and types,
 * live here so both formats behave the same.
 */
abstract sealed class MappedCheckpoint implements Checkpoint permits SafeTensorsFile, TorchCheckpoint {
    /** Largest Java array length the VMs allow. */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final Path path;
    private final Arena arena;
    /** The whole file, mapped read-only in arena. */
    final MemorySegment file;
    private final Map<String, TensorInfo> tensors;
    private volatile boolean closed;

    MappedCheckpoint(Path path, Arena arena, MemorySegment file, Map<String, TensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** Maps the whole file read-only into arena. */
    static MemorySegment map(Path file, Arena arena) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot open: " + e, e);
        }
    }

    /**
     * The tensor's elements, dense, row-major and little-endian: a slice of the mapped file where the layout allows,
     * else a copy made in scratch.
     */
    abstract MemorySegment elements(TensorInfo tensor, Arena scratch);

    @Override
    public final void releaseResidentPages() {
        if (!closed && file.isMapped()) file.unload();
    }

    @Override
    public final Path path() {
        return path;
    }

    @Override
    public final Set<String> names() {
        return tensors.keySet();
    }

    /** A copy, since TensorInfo's shape array is mutable and the checks here rely on the stored one. */
    @Override
    public final TensorInfo info(String name) {
        TensorInfo t = tensor(name);
        return new TensorInfo(t.name(), t.dtype(), t.shape().clone(), t.byteOffset(), t.byteLength());
    }

    private TensorInfo tensor(String name) {
        if (closed) throw new CheckpointException(path, "checkpoint is closed (reading tensor '" + name + "')");
        TensorInfo info = tensors.get(name);
        if (info == null) throw new CheckpointException(path, "no tensor named '" + name + "'");
        return info;
    }

    @Override
    public final Tensor floats(String name, SegmentAllocator alloc) {
        TensorInfo t = tensor(name);
        if (!t.dtype().isFloatingPoint())
            throw new CheckpointException(path, "tensor '" + name + "' is " + t.dtype()
                    + ", not a floating-point tensor; read it with integers()");
        int[] shape = intShape(t);
        long n = t.elements();
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment src = elements(t, scratch);
            // Only memory of the checkpoint's own mapping outlives this call, so only that may be handed out as is.
            if (t.dtype() == DType.F32 && src.scope().equals(arena.scope()) && Elements.viewableAsFloats(src))
                return Tensor.wrap(src, 0, shape);
            MemorySegment out = alloc.allocate(Math.max(1, n) * Float.BYTES, 64);
            Elements.toFloats(src, t.dtype(), out, n);
            return Tensor.wrap(out, 0, shape);
        }
    }

    @Override
    public final long[] integers(String name) {
        TensorInfo t = tensor(name);
        if (t.dtype().isFloatingPoint())
            throw new CheckpointException(path, "tensor '" + name + "' is " + t.dtype()
                    + ", not an integer tensor; read it with floats()");
        long n = t.elements();
        if (n > MAX_ARRAY)
            throw new CheckpointException(path, "tensor '" + name + "' has " + n + " elements, too many for a long[]");
        try (Arena scratch = Arena.ofConfined()) {
            return Elements.toLongs(elements(t, scratch), t.dtype(), (int) n);
        }
    }

    private int[] intShape(TensorInfo t) {
        for (long d : t.shape())
            if (d > Integer.MAX_VALUE)
                throw new CheckpointException(path, "tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                        + "; a dimension above " + Integer.MAX_VALUE + " does not fit a Tensor");
        return t.intShape();
    }

    @Override
    public final void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        arena.close();
    }
}
