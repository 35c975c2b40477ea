package dev.perceiver.io;

import dev.perceiver.runtime.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Bulk copies between float arrays and dense tensors, so builders can fill a batch tensor piece by piece. */
final class Floats {
    private Floats() {
    }

    /** Copies values into dense tensor t starting at flat (row-major) position at. */
    static void write(Tensor t, long at, float[] values) {
        if (!t.isContiguous()) throw new IllegalArgumentException(t + " is not dense");
        if (at < 0 || at + values.length > t.size())
            throw new IndexOutOfBoundsException(values.length + " floats at " + at + " do not fit " + t);
        MemorySegment.copy(values, 0, t.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, (t.offset() + at) * Float.BYTES, values.length);
    }
}
