package dev.perceiver.ops;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A row-major float32 matrix view on a memory segment: element (r, c) lives at float index
 * {@code offset + r * stride + c}. Views share memory; slicing never copies.
 */
public record Matrix(MemorySegment segment, long offset, int rows, int cols, int stride) {

    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    public Matrix {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative size " + rows + "x" + cols);
        if (stride < cols && rows > 1) throw new IllegalArgumentException("stride " + stride + " < cols " + cols);
        long last = rows == 0 || cols == 0 ? offset : offset + (long) (rows - 1) * stride + cols;
        if (offset < 0 || last * Float.BYTES > segment.byteSize())
            throw new IndexOutOfBoundsException("matrix " + rows + "x" + cols + " (stride " + stride + ", offset "
                    + offset + ") does not fit a segment of " + segment.byteSize() + " bytes");
    }

    /** A dense rows x cols matrix starting at float index offset. */
    public static Matrix of(MemorySegment segment, long offset, int rows, int cols) {
        return new Matrix(segment, offset, rows, cols, cols);
    }

    /** A 1 x n row vector over a whole segment of floats. */
    public static Matrix vector(MemorySegment segment) {
        return of(segment, 0, 1, Math.toIntExact(segment.byteSize() / Float.BYTES));
    }

    public float get(int r, int c) {
        return segment.getAtIndex(FLOAT, offset + (long) r * stride + c);
    }

    public void set(int r, int c, float v) {
        segment.setAtIndex(FLOAT, offset + (long) r * stride + c, v);
    }

    /** Float index of element (r, c). */
    public long index(int r, int c) {
        return offset + (long) r * stride + c;
    }

    public Matrix rows(int from, int to) {
        return new Matrix(segment, offset + (long) from * stride, to - from, cols, stride);
    }

    public Matrix row(int r) {
        return rows(r, r + 1);
    }

    public Matrix cols(int from, int to) {
        return new Matrix(segment, offset + from, rows, to - from, stride);
    }

    public boolean isDense() {
        return stride == cols || rows <= 1;
    }

    public long size() {
        return (long) rows * cols;
    }

    /** Every element to v, a row at a time: element stores through a segment ran ~1 ns each compiled, far slower before. */
    public void fill(float v) {
        float[] row = new float[cols];
        if (v != 0f) Arrays.fill(row, v);
        for (int r = 0; r < rows; r++) setRow(r, row, 0);
    }

    public void copyFrom(Matrix src) {
        requireShape(src, rows, cols, "copy source");
        if (isDense() && src.isDense()) {
            MemorySegment.copy(src.segment, src.offset * Float.BYTES, segment, offset * Float.BYTES, size() * Float.BYTES);
            return;
        }
        for (int r = 0; r < rows; r++)
            MemorySegment.copy(src.segment, src.index(r, 0) * Float.BYTES, segment, index(r, 0) * Float.BYTES,
                    (long) cols * Float.BYTES);
    }

    /** Row r into dest from index at: one bulk copy, which unlike element access is not slowed by other segment types. */
    public void copyRow(int r, float[] dest, int at) {
        MemorySegment.copy(segment, FLOAT, index(r, 0) * Float.BYTES, dest, at, cols);
    }

    public void copyRow(int r, float[] dest) {
        copyRow(r, dest, 0);
    }

    /** src[at, at + cols) into row r. */
    public void setRow(int r, float[] src, int at) {
        MemorySegment.copy(src, at, segment, FLOAT, index(r, 0) * Float.BYTES, cols);
    }

    public float[] toArray() {
        float[] out = new float[Math.toIntExact(size())];
        for (int r = 0; r < rows; r++)
            MemorySegment.copy(segment, FLOAT, index(r, 0) * Float.BYTES, out, r * cols, cols);
        return out;
    }

    static void requireShape(Matrix m, int rows, int cols, String what) {
        if (m.rows != rows || m.cols != cols)
            throw new IllegalArgumentException(what + " is " + m.rows + "x" + m.cols + ", expected " + rows + "x" + cols);
    }

    @Override
    public String toString() {
        return "Matrix[" + rows + "x" + cols + ", stride " + stride + ", offset " + offset + "]";
    }
}
