package dev.perceiver.runtime;

import dev.perceiver.ops.Matrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A float32 tensor: a shape and strides over a memory segment that someone else owns (a model's weights arena, an
 * inference's {@link Scratch}). Reshape, slice, select and transpose return views; nothing here copies unless its
 * name says so. Offsets and strides count floats.
 */
public final class Tensor {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final MemorySegment segment;
    private final long offset;
    private final int[] shape;
    private final long[] strides;

    private Tensor(MemorySegment segment, long offset, int[] shape, long[] strides) {
        this.segment = segment;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
    }

    /** A dense row-major tensor over segment, starting at float index offset. */
    public static Tensor wrap(MemorySegment segment, long offset, int... shape) {
        int[] s = shape.clone();
        long n = checkedSize(s);
        if (offset < 0 || (offset + n) * Float.BYTES > segment.byteSize())
            throw new IndexOutOfBoundsException("tensor " + Arrays.toString(s) + " at offset " + offset
                    + " does not fit a segment of " + segment.byteSize() + " bytes");
        return new Tensor(segment, offset, s, denseStrides(s));
    }

    /** A new zero-filled tensor. */
    public static Tensor zeros(SegmentAllocator alloc, int... shape) {
        long n = checkedSize(shape);
        MemorySegment seg = alloc.allocate(Math.max(1, n) * Float.BYTES, 64);
        seg.fill((byte) 0);
        return wrap(seg, 0, shape);
    }

    /** A new tensor holding a copy of values. */
    public static Tensor of(SegmentAllocator alloc, float[] values, int... shape) {
        if (checkedSize(shape) != values.length)
            throw new IllegalArgumentException(values.length + " values do not fill shape " + Arrays.toString(shape));
        MemorySegment seg = alloc.allocate(Math.max(1, values.length) * (long) Float.BYTES, 64);
        MemorySegment.copy(values, 0, seg, FLOAT, 0, values.length);
        return wrap(seg, 0, shape);
    }

    private static long checkedSize(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static long[] denseStrides(int[] shape) {
        long[] st = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            st[i] = s;
            s *= shape[i];
        }
        return st;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension d; negative d counts from the end. */
    public int dim(int d) {
        return shape[d < 0 ? shape.length + d : d];
    }

    public long size() {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    public MemorySegment segment() {
        return segment;
    }

    public long offset() {
        return offset;
    }

    public long stride(int d) {
        return strides[d < 0 ? strides.length + d : d];
    }

    public boolean isContiguous() {
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != s) return false;
            s *= shape[i];
        }
        return true;
    }

    /** Same data, new shape; one dimension may be -1. Needs a contiguous tensor. */
    public Tensor reshape(int... newShape) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("only one -1 allowed in " + Arrays.toString(newShape));
                infer = i;
            } else known = Math.multiplyExact(known, s[i]);
        }
        if (infer >= 0) {
            if (known == 0 || size() % known != 0)
                throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
            s[infer] = Math.toIntExact(size() / known);
        }
        if (checkedSize(s) != size())
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " (" + size()
                    + " elements) to " + Arrays.toString(newShape));
        if (!isContiguous()) throw new IllegalStateException("reshape of a non-contiguous view; copy it first");
        return new Tensor(segment, offset, s, denseStrides(s));
    }

    /** Elements [from, to) along dimension d. */
    public Tensor slice(int d, int from, int to) {
        d = d < 0 ? shape.length + d : d;
        if (from < 0 || to > shape[d] || from > to)
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of dimension " + d + " sized " + shape[d]);
        int[] s = shape.clone();
        s[d] = to - from;
        return new Tensor(segment, offset + from * strides[d], s, strides.clone());
    }

    /** Index i of dimension d, dropping that dimension. */
    public Tensor select(int d, int i) {
        d = d < 0 ? shape.length + d : d;
        if (i < 0 || i >= shape[d]) throw new IndexOutOfBoundsException("index " + i + " of dimension " + d + " sized " + shape[d]);
        int[] s = new int[shape.length - 1];
        long[] st = new long[shape.length - 1];
        for (int j = 0, o = 0; j < shape.length; j++) {
            if (j == d) continue;
            s[o] = shape[j];
            st[o++] = strides[j];
        }
        return new Tensor(segment, offset + i * strides[d], s, st);
    }

    /** Swaps two dimensions without moving data. */
    public Tensor transpose(int d0, int d1) {
        d0 = d0 < 0 ? shape.length + d0 : d0;
        d1 = d1 < 0 ? shape.length + d1 : d1;
        int[] s = shape.clone();
        long[] st = strides.clone();
        s[d0] = shape[d1];
        s[d1] = shape[d0];
        st[d0] = strides[d1];
        st[d1] = strides[d0];
        return new Tensor(segment, offset, s, st);
    }

    /** The tensor as a matrix: all leading dimensions become rows, the last one columns. */
    public Matrix matrix() {
        if (shape.length == 0) return new Matrix(segment, offset, 1, 1, 1);
        int cols = shape[shape.length - 1];
        long rows = size() / Math.max(1, cols);
        if (cols == 0) rows = size() == 0 ? 0 : rows;
        long rowStride = shape.length >= 2 ? strides[shape.length - 2] : cols;
        boolean rowsDense = true;
        long expect = rowStride;
        for (int i = shape.length - 2; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expect) rowsDense = false;
            expect *= shape[i];
        }
        if (!rowsDense || (cols > 1 && strides[shape.length - 1] != 1))
            throw new IllegalStateException("tensor " + Arrays.toString(shape) + " with strides " + Arrays.toString(strides)
                    + " is not a matrix view; copy it first");
        return new Matrix(segment, offset, Math.toIntExact(rows), cols, Math.toIntExact(Math.max(rowStride, cols)));
    }

    private long index(int... idx) {
        if (idx.length != shape.length)
            throw new IllegalArgumentException(idx.length + " indices for a rank-" + shape.length + " tensor");
        long o = offset;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape[i])
                throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " outside " + Arrays.toString(shape));
            o += idx[i] * strides[i];
        }
        return o;
    }

    public float get(int... idx) {
        return segment.getAtIndex(FLOAT, index(idx));
    }

    public void set(float v, int... idx) {
        segment.setAtIndex(FLOAT, index(idx), v);
    }

    /** Float at flat row-major position i of this (possibly strided) view. */
    public float getFlat(long i) {
        long o = offset;
        for (int d = shape.length - 1; d >= 0; d--) {
            o += (i % shape[d]) * strides[d];
            i /= shape[d];
        }
        return segment.getAtIndex(FLOAT, o);
    }

    /** A dense copy. */
    public Tensor copy(SegmentAllocator alloc) {
        Tensor t = zeros(alloc, shape);
        t.copyFrom(this);
        return t;
    }

    /** Copies src (same shape, any strides) into this tensor. */
    public void copyFrom(Tensor src) {
        if (!Arrays.equals(shape, src.shape))
            throw new IllegalArgumentException("copy of " + Arrays.toString(src.shape) + " into " + Arrays.toString(shape));
        if (isContiguous() && src.isContiguous()) {
            MemorySegment.copy(src.segment, src.offset * Float.BYTES, segment, offset * Float.BYTES, size() * Float.BYTES);
            return;
        }
        long n = size();
        int[] idx = new int[shape.length];
        for (long i = 0; i < n; i++) {
            segment.setAtIndex(FLOAT, index(idx), src.segment.getAtIndex(FLOAT, src.index(idx)));
            for (int d = shape.length - 1; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
        }
    }

    public float[] toArray() {
        long n = size();
        float[] out = new float[Math.toIntExact(n)];
        if (isContiguous()) MemorySegment.copy(segment, FLOAT, offset * Float.BYTES, out, 0, out.length);
        else for (int i = 0; i < out.length; i++) out[i] = getFlat(i);
        return out;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
