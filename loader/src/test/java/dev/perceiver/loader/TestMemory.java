package dev.perceiver.loader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * Memory as tests measure it (the loader's test jar shares it): heap bytes a thread allocates, and the process's
 * resident set from Linux's /proc/self/status (VmRSS now, VmHWM the peak since {@link #resetPeak()}).
 */
public final class TestMemory {
    private static final Path STATUS = Path.of("/proc/self/status"), CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private TestMemory() {
    }

    /** Heap bytes the calling thread allocated while running body (whatever it throws is swallowed). */
    public static long heapAllocatedBy(Callable<?> body) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        try {
            body.call();
        } catch (Throwable expected) {
            // The callers assert on the refusal separately; here only the allocation counts.
        }
        return threads.getCurrentThreadAllocatedBytes() - before;
    }

    /** Whether this system reports resident memory the way the methods below read it. */
    public static boolean residentSetIsReadable() {
        return Files.isReadable(STATUS) && Files.isWritable(CLEAR_REFS);
    }

    /** The resident set now, in bytes. */
    public static long residentBytes() {
        return status("VmRSS:");
    }

    /** The peak resident set since the last reset, in bytes. */
    public static long peakResidentBytes() {
        return status("VmHWM:");
    }

    /**
     * Asks glibc to give the free memory it keeps back to the system (malloc_trim), so that the resident set shows
     * what is still allocated, not what the allocator holds for reuse. False where there is no malloc_trim (musl).
     */
    public static boolean trimMalloc() {
        var trim = Linker.nativeLinker().defaultLookup().find("malloc_trim");
        if (trim.isEmpty()) return false;
        try {
            int released = (int) Linker.nativeLinker()
                    .downcallHandle(trim.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG))
                    .invokeExact(0L);
            return released >= 0;
        } catch (Throwable e) {
            throw new IllegalStateException("malloc_trim failed", e);
        }
    }

    /** Starts a new peak from the current resident set (Linux: writing 5 to clear_refs). */
    public static void resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long status(String field) {
        try {
            for (String line : Files.readAllLines(STATUS))
                if (line.startsWith(field)) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException(STATUS + " has no " + field);
    }
}
