package dev.perceiver.ops;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.SegmentAllocator;

/**
 * Kernels on the JDK Vector API; each overrides its scalar twin in {@link ScalarKernels} and is tested against it.
 * Matrices must live in native memory (or byte[]-backed heap segments), as the Vector API requires.
 * Row kernels reduce in double like their twins; the products live in {@link VectorGemm} and {@link VectorAttention}.
 */
public final class VectorKernels extends ScalarKernels {
    public static final VectorKernels INSTANCE = new VectorKernels();
    static final VectorSpecies<Float> F = VectorMath.F;
    private static final VectorSpecies<Double> D = VectorMath.D;
    /** Elements per parallel chunk of a row kernel at least: below that a thread hand-off costs more than the work. */
    private static final int ROW_GRAIN_ELEMENTS = 16_384;

    private VectorKernels() {}

    @Override
    public String name() {
        return "vector (" + F.vectorBitSize() + "-bit FloatVector, " + F.length() + " lanes)";
    }

    @Override
    public void gemm(Parallel p, Matrix a, PackedMatrix b, Matrix c, Epilogue e) {
        checkGemm(a, b, c, e);
        VectorGemm.gemm(p, a, b, c, e);
    }

    @Override
    public void attention(Parallel p, Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out,
                          Matrix probs, SegmentAllocator scratch) {
        VectorAttention.attention(p, q, k, v, heads, maskBias, out, probs, scratch);
    }

    @Override
    public void layerNorm(Parallel p, Matrix x, Matrix gamma, Matrix beta, float eps, Matrix y) {
        Matrix.requireShape(y, x.rows(), x.cols(), "layerNorm output");
        Matrix.requireShape(gamma, 1, x.cols(), "layerNorm weight");
        Matrix.requireShape(beta, 1, x.cols(), "layerNorm bias");
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            for (int r = r0; r < r1; r++) layerNormRow(x, r, gamma, beta, eps, y);
        });
    }

    /*
     * Row loops run whole vectors up to F.loopBound(n), then one masked vector for the ragged end: masked loads and
     * stores cost about 10x in a hot AVX2 loop, so they stay out of the main loop.
     */

    /**
     * As the scalar twin: mean and variance summed in double, then ((x - mean)·rstd)·gamma + beta in float.
     * One method per pass: C2 stops inlining Vector API calls past a node budget, and a boxed vector costs 10-100x.
     */
    private static void layerNormRow(Matrix x, int r, Matrix gamma, Matrix beta, float eps, Matrix y) {
        int n = x.cols();
        float mean = (float) (rowSum(x, r) / n);
        float rstd = (float) (1.0 / Math.sqrt(rowSquares(x, r, mean) / n + eps));
        normalizeRow(x, r, mean, rstd, gamma, beta, y);
    }

    private static double rowSum(Matrix x, int r) {
        int n = x.cols(), end = F.loopBound(n);
        DoubleVector sum = DoubleVector.zero(D);
        for (int c = 0; c < end; c += F.length()) sum = sum.add(VectorMath.widenSum(at(x, r, c)));
        if (end < n) sum = sum.add(VectorMath.widenSum(at(x, r, end, F.indexInRange(end, n))));
        return sum.reduceLanes(VectorOperators.ADD);
    }

    /** Σ (x - mean)² in double, x - mean rounded to float first as in the twin. */
    private static double rowSquares(Matrix x, int r, float mean) {
        int n = x.cols(), end = F.loopBound(n);
        DoubleVector sq = DoubleVector.zero(D);
        for (int c = 0; c < end; c += F.length()) sq = addSquares(at(x, r, c).sub(mean), sq);
        if (end < n) {
            VectorMask<Float> tail = F.indexInRange(end, n);
            sq = addSquares(FloatVector.zero(F).blend(at(x, r, end, tail).sub(mean), tail), sq);
        }
        return sq.reduceLanes(VectorOperators.ADD);
    }

    private static DoubleVector addSquares(FloatVector d, DoubleVector acc) {
        DoubleVector lo = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 0);
        DoubleVector hi = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 1);
        return lo.fma(lo, hi.fma(hi, acc));
    }

    private static void normalizeRow(Matrix x, int r, float mean, float rstd, Matrix gamma, Matrix beta, Matrix y) {
        int n = x.cols(), end = F.loopBound(n);
        for (int c = 0; c < end; c += F.length())
            put(at(x, r, c).sub(mean).mul(rstd).mul(at(gamma, 0, c)).add(at(beta, 0, c)), y, r, c);
        if (end < n) {
            VectorMask<Float> tail = F.indexInRange(end, n);
            put(at(x, r, end, tail).sub(mean).mul(rstd).mul(at(gamma, 0, end, tail)).add(at(beta, 0, end, tail)), y, r, end, tail);
        }
    }

    @Override
    public void softmaxRows(Parallel p, Matrix x, Matrix maskBias) {
        if (maskBias != null) Matrix.requireShape(maskBias, 1, x.cols(), "softmax mask");
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            for (int r = r0; r < r1; r++) softmaxRow(x, r, maskBias);
        });
    }

    /** As the scalar twin: add the mask, subtract the row max, exponentiate, sum in double, scale by 1/sum. */
    private static void softmaxRow(Matrix x, int r, Matrix maskBias) {
        float max = maskAndMax(x, r, maskBias);
        float inv = (float) (1.0 / expAndSum(x, r, max));
        scaleRow(x, r, inv);
    }

    private static float maskAndMax(Matrix x, int r, Matrix maskBias) {
        int n = x.cols(), end = F.loopBound(n);
        FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < end; c += F.length()) {
            FloatVector v = at(x, r, c);
            if (maskBias != null) put(v = v.add(at(maskBias, 0, c)), x, r, c);
            max = max.max(v);
        }
        if (end < n) {
            VectorMask<Float> tail = F.indexInRange(end, n);
            FloatVector v = at(x, r, end, tail);
            if (maskBias != null) put(v = v.add(at(maskBias, 0, end, tail)), x, r, end, tail);
            max = max.max(v.blend(Float.NEGATIVE_INFINITY, tail.not()));
        }
        return max.reduceLanes(VectorOperators.MAX);
    }

    /** x = e^{x - max} in place; returns the sum in double. */
    private static double expAndSum(Matrix x, int r, float max) {
        int n = x.cols(), end = F.loopBound(n);
        DoubleVector sum = DoubleVector.zero(D);
        for (int c = 0; c < end; c += F.length()) {
            FloatVector e = VectorMath.exp(at(x, r, c).sub(max));
            put(e, x, r, c);
            sum = sum.add(VectorMath.widenSum(e));
        }
        if (end < n) {
            VectorMask<Float> tail = F.indexInRange(end, n);
            FloatVector e = VectorMath.exp(at(x, r, end, tail).sub(max)).blend(0f, tail.not());
            put(e, x, r, end, tail);
            sum = sum.add(VectorMath.widenSum(e));
        }
        return sum.reduceLanes(VectorOperators.ADD);
    }

    private static void scaleRow(Matrix x, int r, float s) {
        int n = x.cols(), end = F.loopBound(n);
        for (int c = 0; c < end; c += F.length()) put(at(x, r, c).mul(s), x, r, c);
        if (end < n) {
            VectorMask<Float> tail = F.indexInRange(end, n);
            put(at(x, r, end, tail).mul(s), x, r, end, tail);
        }
    }

    @Override
    public void activation(Parallel p, Matrix x, Activation act) {
        if (act == Activation.NONE) return;
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            for (int r = r0; r < r1; r++)
                VectorMath.activate(x.segment(), x.index(r, 0) * Float.BYTES, x.cols(), act);
        });
    }

    @Override
    public void add(Parallel p, Matrix a, Matrix b, Matrix out) {
        Matrix.requireShape(b, a.rows(), a.cols(), "add operand");
        Matrix.requireShape(out, a.rows(), a.cols(), "add output");
        int n = a.cols(), end = F.loopBound(n);
        p.forRange(a.rows(), grain(n), (r0, r1) -> {
            VectorMask<Float> tail = F.indexInRange(end, n);
            for (int r = r0; r < r1; r++) {
                for (int c = 0; c < end; c += F.length()) put(at(a, r, c).add(at(b, r, c)), out, r, c);
                if (end < n) put(at(a, r, end, tail).add(at(b, r, end, tail)), out, r, end, tail);
            }
        });
    }

    @Override
    public void scaleShift(Parallel p, Matrix x, Matrix scale, Matrix shift, Activation act) {
        Matrix.requireShape(scale, 1, x.cols(), "scale");
        Matrix.requireShape(shift, 1, x.cols(), "shift");
        int n = x.cols(), end = F.loopBound(n);
        p.forRange(x.rows(), grain(n), (r0, r1) -> {
            VectorMask<Float> tail = F.indexInRange(end, n);
            for (int r = r0; r < r1; r++) {
                for (int c = 0; c < end; c += F.length())
                    put(at(x, r, c).fma(at(scale, 0, c), at(shift, 0, c)), x, r, c);
                if (end < n)
                    put(at(x, r, end, tail).fma(at(scale, 0, end, tail), at(shift, 0, end, tail)), x, r, end, tail);
                VectorMath.activate(x.segment(), x.index(r, 0) * Float.BYTES, n, act);
            }
        });
    }

    /** The vector at (r, c) of m. */
    private static FloatVector at(Matrix m, int r, int c) {
        return FloatVector.fromMemorySegment(F, m.segment(), m.index(r, c) * Float.BYTES, VectorMath.ORDER);
    }

    /** The lanes of (r, c) of m in mask; the others read as 0 and are not touched. */
    private static FloatVector at(Matrix m, int r, int c, VectorMask<Float> mask) {
        return FloatVector.fromMemorySegment(F, m.segment(), m.index(r, c) * Float.BYTES, VectorMath.ORDER, mask);
    }

    private static void put(FloatVector v, Matrix m, int r, int c) {
        v.intoMemorySegment(m.segment(), m.index(r, c) * Float.BYTES, VectorMath.ORDER);
    }

    private static void put(FloatVector v, Matrix m, int r, int c, VectorMask<Float> mask) {
        v.intoMemorySegment(m.segment(), m.index(r, c) * Float.BYTES, VectorMath.ORDER, mask);
    }

    private static int grain(int cols) {
        return Math.max(1, ROW_GRAIN_ELEMENTS / Math.max(1, cols));
    }
}
