package dev.perceiver.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Memory for random weights that live only until a layer has packed or fused them: a stack over one growing buffer,
 * so the next layer reuses the pages the last one touched. Fresh native pages cost a fault each (~10 µs on this
 * project's VMs), and language-mlm's gigabyte of weights took most of its 6-10 s load that way.
 */
final class Staging {
    /** A position to release back to; everything allocated after it is freed. */
    record Mark(MemorySegment chunk, long used) {}

    private static final long ALIGN = 64;
    private final Arena arena = Arena.ofShared();
    private MemorySegment chunk = MemorySegment.NULL;
    private long used;

    /** n floats, not zeroed. */
    MemorySegment allocate(long n) {
        long bytes = Math.max(1, n) * Float.BYTES, at = (used + ALIGN - 1) / ALIGN * ALIGN;
        if (at + bytes > chunk.byteSize()) {
            // The old chunk stays valid (the arena frees it at close) for what is still live in it.
            chunk = arena.allocate(Math.max(bytes, 2 * chunk.byteSize()), ALIGN);
            at = 0;
        }
        used = at + bytes;
        return chunk.asSlice(at, bytes);
    }

    Mark mark() {
        return new Mark(chunk, used);
    }

    /** Frees everything allocated since mark; a chunk begun since then holds nothing older, so it restarts empty. */
    void release(Mark mark) {
        used = mark.chunk() == chunk ? mark.used() : 0;
    }

    /** Frees the staged weights; again is a no-op (a load that failed after loading was over closes it twice). */
    void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
