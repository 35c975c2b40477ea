package dev.perceiver.ops;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Where in a Java float array the kernels' vector loads start on a vector-sized boundary. Java keeps arrays 8-byte
 * aligned, so a 64-byte load from one crosses two cache lines 7 times in 8, and on an Intel core each such load takes
 * both load ports: the micro-kernel ran at 0.66 of an Ice Lake core's FMA peak on misaligned panels and at 0.93 on
 * aligned ones (a Zen 5 ran it at its peak on arrays wherever Java put them).
 * <p>
 * The JVM tells no array's address, so it is read from a native call that returns its pointer argument (memmove of
 * nothing, linked critical so that it may take the array in place). A collector may move the array afterwards: callers
 * ask again where they can and treat the answer as a speed hint, never as a correctness condition. Without native
 * access for this module (the launcher and the build grant it) every array counts as aligned at index 0, and no
 * warning is printed.
 */
final class VectorAlignment {
    /** Floats of slack an array needs so that an aligned start can always be found. */
    static final int SLACK = VectorMath.F.length() - 1;
    private static final int BYTES = VectorMath.F.vectorByteSize();
    private static final MethodHandle MEMMOVE = memmove();

    private VectorAlignment() {}

    /** The least index at or past from whose element starts a vector-sized block of memory, now; from if unknown. */
    static int alignedIndex(float[] a, int from) {
        if (MEMMOVE == null) return from;
        long address;
        try {
            MemorySegment heap = MemorySegment.ofArray(a);
            address = ((MemorySegment) MEMMOVE.invokeExact(heap, heap, 0L)).address();
        } catch (Throwable t) {
            return from;
        }
        long at = address + (long) from * Float.BYTES, skip = Math.floorMod(-at, BYTES);
        return skip % Float.BYTES == 0 ? from + (int) (skip / Float.BYTES) : from;
    }

    /** Whether addresses are known: false where this module has no native access. */
    static boolean known() {
        return MEMMOVE != null;
    }

    private static MethodHandle memmove() {
        if (!VectorAlignment.class.getModule().isNativeAccessEnabled()) return null;
        try {
            Linker linker = Linker.nativeLinker();
            FunctionDescriptor pointerOf = FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_LONG);
            return linker.defaultLookup().find("memmove")
                    .map(f -> linker.downcallHandle(f, pointerOf, Linker.Option.critical(true))).orElse(null);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
