package dev.perceiver.ops;

/**
 * The right operand B (k x n) of a matrix product, stored in column panels {@code nr} wide so a micro-kernel reads
 * each k-step of a panel as one contiguous run: element (kk, j) of panel p sits at index {@code p·k·nr + kk·nr + j}.
 * Columns past n are zero, so kernels need no tail case on the panel side.
 * <p>
 * The panels live in a Java array, not a memory segment: C2 compiles array loads the same way in every JVM, while a
 * segment load inlines JDK code whose type profile every segment access in the process shares (a heap or mapped
 * segment read anywhere made the same product 1.4-10x slower; see {@link VectorGemm}).
 * Weights are packed once when a model loads; activations (keys, values) are packed per call.
 */
public final class PackedMatrix {
    private final float[] data;
    private final int k;
    private final int n;
    private final int nr;

    private PackedMatrix(int k, int n, int nr) {
        this(k, n, nr, null);
    }

    /** Packed into reuse when it is large enough (its old contents are overwritten), else into a new array. */
    private PackedMatrix(int k, int n, int nr, float[] reuse) {
        long size = floats(k, n, nr);
        this.data = reuse != null && reuse.length >= size ? reuse : new float[(int) size];
        this.k = k;
        this.n = n;
        this.nr = nr;
    }

    /** The floats a packed k x n operand takes in panels nr wide. */
    private static int floats(int k, int n, int nr) {
        if (nr <= 0) throw new IllegalArgumentException("panel width " + nr);
        long size = Math.max(1, (long) ((n + nr - 1) / nr) * k * nr);
        if (size > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("a packed " + k + "x" + n + " operand needs " + size
                    + " floats, more than a Java array holds");
        return (int) size;
    }

    /** Packs B = wᵀ for w stored n x k (a Linear layer's [out, in] weight, or attention keys). */
    public static PackedMatrix packTransposed(Matrix w, int nr) {
        PackedMatrix p = new PackedMatrix(w.cols(), w.rows(), nr);
        float[] row = new float[w.cols()];
        for (int col = 0; col < w.rows(); col++) {
            w.copyRow(col, row);
            int base = p.panelBase(col / nr) + col % nr;
            for (int kk = 0; kk < row.length; kk++) p.data[base + kk * nr] = row[kk];
        }
        return p;
    }

    /** Packs B as stored, k x n (attention values). */
    public static PackedMatrix pack(Matrix b, int nr) {
        return pack(b, nr, null);
    }

    /**
     * As {@link #pack(Matrix, int)}, in the array of reuse (an earlier result the caller is done with, or null) where
     * it is large enough, else in a new one: values packed anew for every pass were the heap's largest garbage.
     */
    public static PackedMatrix pack(Matrix b, int nr, PackedMatrix reuse) {
        float[] old = reuse == null ? null : reuse.data;
        PackedMatrix p = new PackedMatrix(b.rows(), b.cols(), nr, old);
        for (int kk = 0; kk < b.rows(); kk++)
            for (int panel = 0; panel * nr < b.cols(); panel++) {
                int width = Math.min(nr, b.cols() - panel * nr), at = p.panelBase(panel) + kk * nr;
                b.cols(panel * nr, panel * nr + width).copyRow(kk, p.data, at);
                java.util.Arrays.fill(p.data, at + width, at + nr, 0f);  // columns past n, where a reused array had values
            }
        return p;
    }

    /** Index where panel p starts. */
    public int panelBase(int panel) {
        return panel * k * nr;
    }

    public float get(int kk, int col) {
        return data[panelBase(col / nr) + kk * nr + col % nr];
    }

    float[] data() {
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
