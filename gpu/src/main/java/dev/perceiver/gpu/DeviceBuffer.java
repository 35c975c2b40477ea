package dev.perceiver.gpu;

import java.lang.foreign.MemorySegment;

/**
 * A rows x cols float32 allocation in device memory (cudaMalloc), owned by the {@link GpuContext} that made it.
 * It is freed exactly once: by {@link #close()} or, if still open then, by the context's close; later closes do
 * nothing, and using a freed buffer throws instead of handing CUDA a dangling pointer.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final GpuContext context;
    private final long address;
    private final int rows;
    private final int cols;

    DeviceBuffer(GpuContext context, long address, int rows, int cols) {
        this.context = context;
        this.address = address;
        this.rows = rows;
        this.cols = cols;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** The whole buffer as a dense row-major matrix. */
    public DeviceMatrix matrix() {
        return new DeviceMatrix(this, 0, rows, cols, cols);
    }

    public GpuContext context() {
        return context;
    }

    /** False once freed, by this buffer's close or its context's. */
    public boolean isOpen() {
        return context.isLive(this);
    }

    @Override
    public void close() {
        context.free(this);
    }

    long capacity() {
        return (long) rows * cols;
    }

    /** The device address of float index offset, as an argument for a downcall; never dereferenced on the host. */
    MemorySegment pointer(long offset) {
        return MemorySegment.ofAddress(address + offset * Float.BYTES);
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + rows + "x" + cols + (isOpen() ? "" : ", freed") + "]";
    }
}
