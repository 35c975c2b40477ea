package dev.perceiver.ops;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * The right operand B (k x n) of a matrix product, stored in column panels {@code nr} wide so a micro-kernel reads
 * each k-step of a panel as one contiguous run: element (kk, j) of panel p sits at float
 * {@code p·k·nr + kk·nr + j}. Columns past n are zero, so kernels need no tail case on the panel side.
 * Weights are packed once when a model loads; activations (keys, values) are packed per call into scratch memory.
 */
public final class PackedMatrix {
    private final MemorySegment data;
    private final int k;
    private final int n;
    private final int nr;

    private PackedMatrix(MemorySegment data, int k, int n, int nr) {
        this.data = data;
        this.k = k;
        this.n = n;
        this.nr = nr;
    }

    /** Packs B = wᵀ for w stored n x k (a Linear layer's [out, in] weight, or attention keys). */
    public static PackedMatrix packTransposed(Matrix w, int nr, SegmentAllocator alloc) {
        PackedMatrix p = allocate(w.cols(), w.rows(), nr, alloc);
        for (int col = 0; col < w.rows(); col++) {
            long base = p.panelBase(col / nr) + col % nr;
            for (int kk = 0; kk < w.cols(); kk++)
                p.data.setAtIndex(Matrix.FLOAT, base + (long) kk * nr, w.get(col, kk));
        }
        return p;
    }

    /** Packs B as stored, k x n (attention values). */
    public static PackedMatrix pack(Matrix b, int nr, SegmentAllocator alloc) {
        PackedMatrix p = allocate(b.rows(), b.cols(), nr, alloc);
        for (int kk = 0; kk < b.rows(); kk++) {
            for (int panel = 0; panel * nr < b.cols(); panel++) {
                int width = Math.min(nr, b.cols() - panel * nr);
                MemorySegment.copy(b.segment(), b.index(kk, panel * nr) * Float.BYTES, p.data,
                        (p.panelBase(panel) + (long) kk * nr) * Float.BYTES, (long) width * Float.BYTES);
            }
        }
        return p;
    }

    private static PackedMatrix allocate(int k, int n, int nr, SegmentAllocator alloc) {
        if (nr <= 0) throw new IllegalArgumentException("panel width " + nr);
        long panels = (n + nr - 1) / nr;
        MemorySegment seg = alloc.allocate(Math.max(1, panels * k * nr) * Float.BYTES, 64);
        seg.fill((byte) 0);
        return new PackedMatrix(seg, k, n, nr);
    }

    /** Float index where panel p starts. */
    public long panelBase(int panel) {
        return (long) panel * k * nr;
    }

    public float get(int kk, int col) {
        return data.getAtIndex(Matrix.FLOAT, panelBase(col / nr) + (long) kk * nr + col % nr);
    }

    public MemorySegment data() {
        return data;
    }

    public int k() {
        return k;
    }

    public int n() {
        return n;
    }

    public int panelWidth() {
        return nr;
    }

    public int panels() {
        return (n + nr - 1) / nr;
    }
}
