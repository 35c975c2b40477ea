package dev.perceiver.runtime;

/**
 * An allocation refused before it was tried because it is larger than all the memory of the machine (or of its
 * container): asking the system for it could only fail, or, where memory is overcommitted, succeed and then get
 * the process killed as its pages are touched.
 */
public final class AllocationTooLargeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long bytes;

    public AllocationTooLargeException(long bytes, long limit) {
        super(String.format("a %s working buffer exceeds the %s of memory this machine has", size(bytes), size(limit)));
        this.bytes = bytes;
    }

    /** The size asked for. */
    public long bytes() {
        return bytes;
    }

    private static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format("%.1f GiB", bytes / (double) (1L << 30))
                : String.format("%.1f MiB", bytes / (double) (1L << 20));
    }
}
