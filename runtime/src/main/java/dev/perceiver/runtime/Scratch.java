package dev.perceiver.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Scratch memory for inferences: a bump allocator over off-heap slabs that are kept and reused, so a model that runs
 * the same shapes again touches no new pages. {@link #mark()} / {@link #release(long)} free everything allocated
 * in between, stack-wise; {@link #close()} gives all slabs back. Allocation is thread-safe, so kernels may take
 * per-thread buffers from inside parallel regions.
 */
public final class Scratch implements SegmentAllocator, AutoCloseable {
    private static final long MIN_SLAB = 16L << 20;
    /** No single allocation may exceed the machine's physical memory (the container's limit where there is one). */
    public static final long MAX_ALLOCATION_BYTES = physicalMemory();

    private final Arena arena = Arena.ofShared();
    private final List<MemorySegment> slabs = new ArrayList<>();
    private int slab;
    private long used;
    private long highWater;

    /** Empty: slabs are allocated as allocations need them. */
    public Scratch() {}

    @Override
    public synchronized MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0) throw new IllegalArgumentException("negative allocation " + byteSize);
        requireAllocatable(byteSize);
        while (slab < slabs.size()) {
            MemorySegment s = slabs.get(slab);
            long start = alignUp(s.address() + used, byteAlignment) - s.address();
            if (start + byteSize <= s.byteSize()) {
                used = start + byteSize;
                highWater = Math.max(highWater, bytesInUse());
                return s.asSlice(start, byteSize);
            }
            slab++;
            used = 0;
        }
        long size = Math.max(MIN_SLAB, byteSize + byteAlignment);
        MemorySegment s = arena.allocate(size, 64);
        slabs.add(s);
        slab = slabs.size() - 1;
        long start = alignUp(s.address(), byteAlignment) - s.address();
        used = start + byteSize;
        highWater = Math.max(highWater, bytesInUse());
        return s.asSlice(start, byteSize);
    }

    /** Refuses, before anything is allocated, a size no allocation on this machine can have. */
    public static void requireAllocatable(long bytes) {
        if (bytes > MAX_ALLOCATION_BYTES) throw new AllocationTooLargeException(bytes, MAX_ALLOCATION_BYTES);
    }

    private static long physicalMemory() {
        long bytes = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        return bytes > 0 ? bytes : Long.MAX_VALUE;
    }

    private static long alignUp(long address, long alignment) {
        return (address + alignment - 1) & -alignment;
    }

    /** A position to {@link #release} back to. */
    public synchronized long mark() {
        return ((long) slab << 40) | used;
    }

    /** Frees everything allocated since mark was taken. */
    public synchronized void release(long mark) {
        slab = (int) (mark >>> 40);
        used = mark & ((1L << 40) - 1);
    }

    /** Frees everything; the slabs stay for the next inference. */
    public synchronized void reset() {
        slab = 0;
        used = 0;
    }

    private long bytesInUse() {
        long n = used;
        for (int i = 0; i < slab && i < slabs.size(); i++) n += slabs.get(i).byteSize();
        return n;
    }

    /** Bytes the slabs hold from the system. */
    public synchronized long reservedBytes() {
        long n = 0;
        for (MemorySegment s : slabs) n += s.byteSize();
        return n;
    }

    /** The most bytes in use at once since this scratch was made. */
    public synchronized long highWaterBytes() {
        return highWater;
    }

    @Override
    public synchronized void close() {
        slabs.clear();
        arena.close();
    }
}
