package dev.perceiver.gpu;

import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.Parallel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import static dev.perceiver.gpu.CudaApi.OP_N;
import static dev.perceiver.gpu.CudaApi.OP_T;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * One cuBLAS handle on one device, and the device buffers allocated through it: one per engine or model.
 *
 * <p>Threads: one handle behind a lock. Every method holds the lock while it talks to CUDA, so calls from several
 * threads run one after another: a cuBLAS handle must not be used by two threads at once, and on one stream the
 * GPU runs the products in order anyway. An engine that wants overlapping GPU work opens one context per thread.
 *
 * <p>Ordering: everything runs on CUDA's legacy default stream. A product returns once queued; the next copy waits
 * for it, so a download sees the result and reports any error its kernels hit. {@link #synchronize()} waits
 * explicitly, for timing.
 *
 * <p>Host matrices may be strided views and heap- or native-backed; heap-backed ones are staged through native
 * memory, as CUDA may only be handed native addresses. Every failed CUDA or cuBLAS status throws a
 * {@link GpuException} naming the call.
 */
public final class GpuContext implements AutoCloseable {
    private final CudaApi api;
    private final int ordinal;
    private final String description;
    private final MemorySegment handle;
    private final ReentrantLock lock = new ReentrantLock();
    private final Set<DeviceBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;

    GpuContext(CudaApi api, int ordinal, boolean allowTf32, String description) {
        this.api = api;
        this.ordinal = ordinal;
        this.description = description;
        api.setDevice.call(ordinal);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            api.create.call(out);
            handle = out.get(ADDRESS, 0);
        }
        try {
            // Set even when it is the default, so the precision never rests on a library default.
            api.setMathMode.call(handle, allowTf32 ? CudaApi.TF32_TENSOR_OP_MATH : CudaApi.DEFAULT_MATH);
        } catch (GpuException e) {
            api.destroy.status(handle); // the math-mode failure is the one worth reporting
            throw e;
        }
    }

    /** The device this context computes on, for the log. */
    public String description() {
        return description;
    }

    // ---- memory ----

    /** An uninitialized rows x cols device buffer; close it (or this context) to free it. */
    public DeviceBuffer allocate(int rows, int cols) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative size " + rows + "x" + cols);
        long bytes = Math.max(1, (long) rows * cols) * Float.BYTES; // cudaMalloc(0) need not return a pointer
        return locked(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ADDRESS);
                api.malloc.call(out, bytes);
                DeviceBuffer buffer = new DeviceBuffer(this, out.get(ADDRESS, 0).address(), rows, cols);
                live.add(buffer);
                return buffer;
            }
        });
    }

    /** A new device buffer holding a copy of host: how weights are uploaded once, at load. */
    public DeviceBuffer upload(Matrix host) {
        DeviceBuffer buffer = allocate(host.rows(), host.cols());
        try {
            upload(host, buffer.matrix());
            return buffer;
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
    }

    /** Copies host into device; same shape, any strides on either side. */
    public void upload(Matrix host, DeviceMatrix device) {
        requireShape(device, host.rows(), host.cols(), "upload target");
        locked(() -> {
            requireLive(device);
            try (Arena staging = Arena.ofConfined()) {
                Matrix src = host;
                if (!host.segment().isNative()) {
                    src = denseMatrix(staging, host.rows(), host.cols());
                    src.copyFrom(host);
                }
                copy(device.pointer(), device.stride(), hostPointer(src), pitch(src), host.rows(), host.cols(),
                        CudaApi.MEMCPY_HOST_TO_DEVICE);
            }
        });
    }

    /** Copies device into host, waiting for the products queued before; same shape, any strides on either side. */
    public void download(DeviceMatrix device, Matrix host) {
        requireShape(device, host.rows(), host.cols(), "download source");
        if (host.segment().isReadOnly()) throw new IllegalArgumentException("cannot download into a read-only " + host);
        locked(() -> {
            requireLive(device);
            try (Arena staging = Arena.ofConfined()) {
                Matrix dst = host.segment().isNative() ? host : denseMatrix(staging, host.rows(), host.cols());
                copy(hostPointer(dst), pitch(dst), device.pointer(), device.stride(), host.rows(), host.cols(),
                        CudaApi.MEMCPY_DEVICE_TO_HOST);
                if (dst != host) host.copyFrom(dst);
            }
        });
    }

    /** rows x cols floats between two row-major layouts (pitches in floats); one plain cudaMemcpy when both are dense. */
    private void copy(MemorySegment dst, int dstPitch, MemorySegment src, int srcPitch, int rows, int cols, int kind) {
        if (rows == 0 || cols == 0) return;
        long width = (long) cols * Float.BYTES;
        if (rows == 1 || (dstPitch == cols && srcPitch == cols)) api.memcpy.call(dst, src, width * rows, kind);
        else api.memcpy2D.call(dst, (long) dstPitch * Float.BYTES, src, (long) srcPitch * Float.BYTES, width,
                (long) rows, kind);
    }

    private static Matrix denseMatrix(Arena arena, int rows, int cols) {
        return Matrix.of(arena.allocate((long) rows * cols * Float.BYTES, 64), 0, rows, cols);
    }

    /** The host bytes m spans, bounds-checked by the slice; the segment keeps its arena alive during the call. */
    private static MemorySegment hostPointer(Matrix m) {
        long floats = m.rows() == 0 || m.cols() == 0 ? 0 : (long) (m.rows() - 1) * m.stride() + m.cols();
        return m.segment().asSlice(m.offset() * Float.BYTES, floats * Float.BYTES);
    }

    /** A single-row Matrix may have a stride below its width; cudaMemcpy2D wants pitch >= width. */
    private static int pitch(Matrix m) {
        return Math.max(m.stride(), m.cols());
    }

    void free(DeviceBuffer buffer) {
        lock.lock();
        try {
            if (!live.contains(buffer)) return;
            api.setDevice.call(ordinal);
            live.remove(buffer); // before cudaFree: a failed free is never retried on a possibly stale pointer
            api.free.call(buffer.pointer(0));
        } finally {
            lock.unlock();
        }
    }

    boolean isLive(DeviceBuffer buffer) {
        lock.lock();
        try {
            return live.contains(buffer);
        } finally {
            lock.unlock();
        }
    }

    // ---- products ----

    /**
     * y = x·wᵀ on the device, all row-major: x is T x I, w is O x I (a PyTorch Linear weight as stored), y is T x O.
     * Returns once queued.
     */
    public void linear(DeviceMatrix x, DeviceMatrix w, DeviceMatrix y) {
        if (x.cols() != w.cols())
            throw new IllegalArgumentException("linear: x is " + x.rows() + "x" + x.cols() + " but w is " + w.rows()
                    + "x" + w.cols() + " (O x I)");
        requireShape(y, x.rows(), w.rows(), "linear output");
        locked(() -> {
            requireLive(x, w, y);
            // Row-major Y is column-major Yᵀ = W·Xᵀ. Read column-major, row-major W is Wᵀ (I x O, ld = its stride),
            // hence op T, and X is Xᵀ (I x T), op N: nothing is transposed in memory.
            try (Arena arena = Arena.ofConfined()) {
                api.sgemm.call(handle, OP_T, OP_N, w.rows(), x.rows(), x.cols(), arena.allocateFrom(JAVA_FLOAT, 1f),
                        w.pointer(), w.ld(), x.pointer(), x.ld(), arena.allocateFrom(JAVA_FLOAT, 0f), y.pointer(), y.ld());
            }
        });
    }

    /**
     * y = act(x·wᵀ + bias) + residual with x and y on the host and w on the device (uploaded once). The product runs
     * on the GPU; the epilogue runs on the host after the download, in the CPU kernels' order and with their own
     * activation and add (so exact GELU is the CPU's {@code Erf.gelu}), parallelized by p. residual may be y itself.
     */
    public void linear(Parallel p, Matrix x, DeviceMatrix w, Epilogue epilogue, Matrix y) {
        int t = x.rows(), o = w.rows();
        requireShape(x, t, w.cols(), "linear input");
        if (epilogue.bias() != null) requireShape(epilogue.bias(), 1, o, "linear bias");
        if (epilogue.residual() != null) requireShape(epilogue.residual(), t, o, "linear residual");
        requireShape(y, t, o, "linear output");
        boolean plain = epilogue.bias() == null && epilogue.activation() == Activation.NONE && epilogue.residual() == null;
        try (Arena staging = Arena.ofShared(); // shared: the epilogue reads it from the pool's threads
             DeviceBuffer dx = upload(x);
             DeviceBuffer dy = allocate(t, o)) {
            linear(dx.matrix(), w, dy.matrix());
            Matrix product = plain ? y : denseMatrix(staging, t, o);
            download(dy.matrix(), product);
            if (!plain) finishOnHost(p, product, epilogue, y);
        }
    }

    /** y = act(acc + bias) + residual, element by element in the CPU kernels' order; acc is overwritten. */
    private static void finishOnHost(Parallel p, Matrix acc, Epilogue e, Matrix y) {
        Kernels cpu = Kernels.best();
        Matrix bias = e.bias();
        if (bias != null)
            p.forRange(acc.rows(), 1, (r0, r1) -> {
                for (int r = r0; r < r1; r++)
                    for (int c = 0; c < acc.cols(); c++) acc.set(r, c, acc.get(r, c) + bias.get(0, c));
            });
        cpu.activation(p, acc, e.activation());
        if (e.residual() != null) cpu.add(p, acc, e.residual(), y);
        else y.copyFrom(acc);
    }

    /**
     * scores_h = scale · q_h·k_hᵀ for every head h in one strided-batched GEMM. q is Nq x (H·d) and k is Nk x (H·d),
     * head h being columns [h·d, (h+1)·d); scores is (H·Nq) x Nk, head-major (head h in rows [h·Nq, (h+1)·Nq)),
     * the layout of the probabilities in {@code Kernels.attention}. Returns once queued.
     */
    public void attentionScores(DeviceMatrix q, DeviceMatrix k, int heads, float scale, DeviceMatrix scores) {
        int d = headWidth(q.cols(), heads, "query");
        if (k.cols() != q.cols())
            throw new IllegalArgumentException("attention: keys have " + k.cols() + " channels, queries " + q.cols());
        requireShape(scores, Math.multiplyExact(heads, q.rows()), k.rows(), "attention scores");
        int nq = q.rows(), nk = k.rows();
        // Column-major, scores_hᵀ (Nk x Nq) = k_h·q_hᵀ. Row-major k_h reads as k_hᵀ (d x Nk, ld = k's stride),
        // hence op T; q_h reads as q_hᵀ (d x Nq), op N. Heads are d floats apart in q and k, Nq rows apart in scores.
        stridedBatched(OP_T, OP_N, nk, nq, d, scale, k, d, q, d, scores, (long) nq * scores.stride(), heads);
    }

    /**
     * out_h = probs_h·v_h for every head h in one strided-batched GEMM. probs is (H·Nq) x Nk, head-major as
     * {@link #attentionScores} writes it; v is Nk x (H·dv) and out Nq x (H·dv), head h being columns
     * [h·dv, (h+1)·dv). Returns once queued.
     */
    public void attentionValues(DeviceMatrix probs, DeviceMatrix v, int heads, DeviceMatrix out) {
        int dv = headWidth(v.cols(), heads, "value");
        int nq = out.rows(), nk = v.rows();
        requireShape(out, nq, v.cols(), "attention output");
        requireShape(probs, Math.multiplyExact(heads, nq), nk, "attention probabilities");
        // Column-major, out_hᵀ (dv x Nq) = v_hᵀ·probs_hᵀ, and row-major v_h and probs_h read as exactly those:
        // no transposes. Heads are dv floats apart in v and out, Nq rows apart in probs.
        stridedBatched(OP_N, OP_N, dv, nq, nk, 1f, v, dv, probs, (long) nq * probs.stride(), out, dv, heads);
    }

    private void stridedBatched(int opA, int opB, int m, int n, int k, float alpha, DeviceMatrix a, long strideA,
                                DeviceMatrix b, long strideB, DeviceMatrix c, long strideC, int batch) {
        locked(() -> {
            requireLive(a, b, c);
            try (Arena arena = Arena.ofConfined()) {
                api.sgemmStridedBatched.call(handle, opA, opB, m, n, k, arena.allocateFrom(JAVA_FLOAT, alpha),
                        a.pointer(), a.ld(), strideA, b.pointer(), b.ld(), strideB, arena.allocateFrom(JAVA_FLOAT, 0f),
                        c.pointer(), c.ld(), strideC, batch);
            }
        });
    }

    private static int headWidth(int channels, int heads, String what) {
        if (heads <= 0) throw new IllegalArgumentException("attention needs at least one head, got " + heads);
        if (channels % heads != 0)
            throw new IllegalArgumentException("attention: " + channels + " " + what + " channels do not split into "
                    + heads + " heads");
        return channels / heads;
    }

    /** Waits for everything queued on the device. */
    public void synchronize() {
        locked(() -> api.deviceSynchronize.call());
    }

    // ---- lifecycle ----

    /** Frees every buffer still open, then the cuBLAS handle; the first failure is thrown after all were tried. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            GpuException failure = attempt(null, api.setDevice, ordinal);
            for (DeviceBuffer buffer : live) failure = attempt(failure, api.free, buffer.pointer(0));
            live.clear();
            failure = attempt(failure, api.destroy, handle);
            if (failure != null) throw failure;
        } finally {
            lock.unlock();
        }
    }

    private static GpuException attempt(GpuException failure, NativeFunction f, Object... args) {
        try {
            f.call(args);
            return failure;
        } catch (GpuException e) {
            if (failure == null) return e;
            failure.addSuppressed(e);
            return failure;
        }
    }

    private <T> T locked(Supplier<T> body) {
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("this GpuContext is closed");
            api.setDevice.call(ordinal); // the current device is per host thread
            return body.get();
        } finally {
            lock.unlock();
        }
    }

    private void locked(Runnable body) {
        locked(() -> {
            body.run();
            return null;
        });
    }

    private void requireLive(DeviceMatrix... matrices) {
        for (DeviceMatrix m : matrices) {
            if (m.buffer().context() != this)
                throw new IllegalArgumentException(m + " belongs to another GpuContext");
            if (!live.contains(m.buffer())) throw new IllegalStateException(m + " is in a freed DeviceBuffer");
        }
    }

    private static void requireShape(DeviceMatrix m, int rows, int cols, String what) {
        requireShape(m.rows(), m.cols(), rows, cols, what);
    }

    private static void requireShape(Matrix m, int rows, int cols, String what) {
        requireShape(m.rows(), m.cols(), rows, cols, what);
    }

    private static void requireShape(int actualRows, int actualCols, int rows, int cols, String what) {
        if (actualRows != rows || actualCols != cols)
            throw new IllegalArgumentException(what + " is " + actualRows + "x" + actualCols + ", expected " + rows + "x" + cols);
    }

    @Override
    public String toString() {
        return "GpuContext[" + description + "]";
    }
}
