package dev.perceiver.loader;

import dev.perceiver.runtime.Tensor;

import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Named tensors read from a file: a memory-mapped safetensors file or a torch pickle zip. Closing it releases the
 * mapping; tensors handed out before must not be used afterwards.
 */
public interface Checkpoint extends AutoCloseable {

    Path path();

    /** Every tensor name, in file order. */
    Set<String> names();

    /** The stored tensor's type and shape; a CheckpointException naming it if there is none. */
    TensorInfo info(String name);

    /**
     * The tensor as float32: F32 data without a copy where the file allows it, F16, BF16 and F64 converted into
     * memory from alloc. Integer tensors are refused with a CheckpointException naming the tensor.
     */
    Tensor floats(String name, SegmentAllocator alloc);

    /** An integer (or bool) tensor's values widened to long, row-major. */
    long[] integers(String name);

    /** The file's string metadata (safetensors __metadata__); empty if it has none. */
    Map<String, String> metadata();

    /**
     * Lets the system drop the file's pages from memory (they are read back on use): a model calls this once it has
     * copied what it needs (packed weights), so the checkpoint stops counting twice in its resident memory.
     */
    default void releaseResidentPages() {}

    @Override
    void close();
}
