package dev.perceiver.gpu;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A row-major float32 view of device memory, the device twin of {@link dev.perceiver.ops.Matrix}: element (r, c)
 * is float {@code offset + r * stride + c} of the buffer. Views never copy; column blocks (one attention head) and
 * row ranges are views too, and cuBLAS reads them in place through its leading dimension.
 */
public record DeviceMatrix(DeviceBuffer buffer, long offset, int rows, int cols, int stride) {

    public DeviceMatrix {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative size " + rows + "x" + cols);
        if (stride < cols) throw new IllegalArgumentException("stride " + stride + " < cols " + cols);
        long end = rows == 0 || cols == 0 ? offset : offset + (long) (rows - 1) * stride + cols;
        if (offset < 0 || end > buffer.capacity())
            throw new IndexOutOfBoundsException("device matrix " + rows + "x" + cols + " (stride " + stride + ", offset "
                    + offset + ") does not fit a buffer of " + buffer.capacity() + " floats");
    }

    public DeviceMatrix rows(int from, int to) {
        Objects.checkFromToIndex(from, to, rows);
        return new DeviceMatrix(buffer, offset + (long) from * stride, to - from, cols, stride);
    }

    public DeviceMatrix cols(int from, int to) {
        Objects.checkFromToIndex(from, to, cols);
        return new DeviceMatrix(buffer, offset + from, rows, to - from, stride);
    }

    public boolean isDense() {
        return stride == cols || rows <= 1;
    }

    /** cuBLAS's leading dimension: it must be at least 1 even for an empty matrix. */
    int ld() {
        return Math.max(1, stride);
    }

    MemorySegment pointer() {
        return buffer.pointer(offset);
    }

    @Override
    public String toString() {
        return "DeviceMatrix[" + rows + "x" + cols + ", stride " + stride + ", offset " + offset + "]";
    }
}
