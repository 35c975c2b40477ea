package dev.perceiver.loader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Widens dense little-endian checkpoint elements, the byte order both safetensors and torch.save use. */
final class Elements {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** What runtime Tensors read: floats in the machine's order. */
    private static final ValueLayout.OfFloat NATIVE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Elements() {
    }

    /** Whether little-endian F32 bytes at src can be read in place as a Tensor (right byte order, float-aligned). */
    static boolean viewableAsFloats(MemorySegment src) {
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN && src.address() % Float.BYTES == 0;
    }

    /** Converts n elements of a floating-point dtype at src into native floats at dst. */
    static void toFloats(MemorySegment src, DType dtype, MemorySegment dst, long n) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, FLOAT, 0, dst, NATIVE_FLOAT, 0, n);
            case F64 -> {
                for (long i = 0; i < n; i++) dst.setAtIndex(NATIVE_FLOAT, i, (float) src.getAtIndex(DOUBLE, i));
            }
            case F16 -> {
                for (long i = 0; i < n; i++) dst.setAtIndex(NATIVE_FLOAT, i, Float.float16ToFloat(src.getAtIndex(SHORT, i)));
            }
            // bfloat16 is the top half of a float32.
            case BF16 -> {
                for (long i = 0; i < n; i++)
                    dst.setAtIndex(NATIVE_FLOAT, i, Float.intBitsToFloat((src.getAtIndex(SHORT, i) & 0xffff) << 16));
            }
            default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
        }
    }

    /** n elements of an integer or bool dtype at src, widened to long (U8 unsigned, BOOL as 0 or 1). */
    static long[] toLongs(MemorySegment src, DType dtype, int n) {
        long[] out = new long[n];
        switch (dtype) {
            case I64 -> MemorySegment.copy(src, LONG, 0, out, 0, n);
            case I32 -> {
                for (int i = 0; i < n; i++) out[i] = src.getAtIndex(INT, i);
            }
            case I16 -> {
                for (int i = 0; i < n; i++) out[i] = src.getAtIndex(SHORT, i);
            }
            case I8 -> {
                for (int i = 0; i < n; i++) out[i] = src.get(ValueLayout.JAVA_BYTE, i);
            }
            case U8 -> {
                for (int i = 0; i < n; i++) out[i] = src.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) out[i] = src.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
            }
            default -> throw new IllegalArgumentException(dtype + " is not an integer type");
        }
        return out;
    }
}
